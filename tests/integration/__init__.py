"""Tests against a real Prosody and a real ``twistd muc``, and the harness for them.

``prosody.ProsodyServer`` and ``muc_process.MucProcess`` run the servers,
``xmpp_client`` logs users in with slixmpp, ``stanzas`` reads what they
receive; ``conftest`` wires them into per-module fixtures.
"""
