"""The XMPP edge: turns stanzas into calls on the domain and results into stanzas."""
