# The benchmark is a command (python3 -m bench), not a test suite.
collect_ignore_glob = ["*"]
