"""Play scripts from the command line and see every stanza.

    python3 -m tests.scansion                       # all scripts against the service
    python3 -m tests.scansion --against prosody     # against Prosody's own MUC
    python3 -m tests.scansion -v muc_register       # one script, with its transcript

Each script gets a fresh Prosody (and service) in a temporary directory,
as in the tests; the exit status is the number of scripts that failed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.integration.muc_process import MucProcess
from tests.integration.prosody import ProsodyServer
from tests.scansion.catalog import load, script_names
from tests.scansion.runner import REFERENCE_MUC_DOMAIN, ScriptFailure, Target, run_script


def play_one(name: str, against: str, workdir: Path, verbose: bool) -> bool:
    prosody = ProsodyServer(workdir / "prosody", authentication="insecure")
    service = None
    prosody.start()
    try:
        muc_domain = REFERENCE_MUC_DOMAIN
        if against == "service":
            service = MucProcess(workdir / "muc", prosody)
            service.start()
            muc_domain = service.jid
        transcript = run_script(load(name), Target(prosody.c2s_port, muc_domain=muc_domain))
    except ScriptFailure as failure:
        print(f"FAIL {name}\n{failure}\n")
        return False
    finally:
        if service is not None:
            service.stop()
        prosody.stop()
    print(f"PASS {name}")
    if verbose:
        print("\n".join("  " + line for line in transcript) + "\n")
    return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.scansion", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="script names (default: all)")
    parser.add_argument("--against", choices=("service", "prosody"), default="service")
    parser.add_argument("-v", "--verbose", action="store_true", help="print transcripts of passing scripts")
    options = parser.parse_args(argv)
    names = options.names or script_names()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="scansion-") as tmp:
        for name in names:
            if not play_one(name, options.against, Path(tmp) / name, options.verbose):
                failed += 1
    print(f"{len(names) - failed} passed, {failed} failed")
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
