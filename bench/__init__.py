"""Load benchmark: mucsvc against Prosody's built-in MUC (``python3 -m bench --help``)."""
