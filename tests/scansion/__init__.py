"""Play scansion scripts (XMPP conversations written down) against a server.

Prosody's own MUC test scripts live in ``scripts/``. They are played once
against Prosody's built-in MUC, which proves the player follows scansion's
rules, and once against this service behind the same Prosody, which is the
conformance run::

    python3 -m pytest -q tests/scansion           # everything
    python3 -m tests.scansion -v muc_register     # one script, every stanza shown

``parser`` reads the script format, ``stanzas`` turns its XML into elements
and back, ``matcher`` decides whether a received stanza is the expected
one, ``client`` is the minimal XMPP client each character logs in with, and
``runner`` plays a script and reports the first failure.
"""
