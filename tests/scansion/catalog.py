"""The conformance scripts shipped in ``scripts/``, by name."""

from __future__ import annotations

from pathlib import Path

from tests.scansion.parser import Script, load_script, parse_script

SCRIPTS_DIR = Path(__file__).parent / "scripts"


def script_names() -> list[str]:
    """Every script's file stem, sorted (``issue505``, ``muc_register``, ...)."""
    return sorted(path.stem for path in SCRIPTS_DIR.glob("*.scs"))


def script_text(name: str) -> str:
    return (SCRIPTS_DIR / f"{name}.scs").read_text(encoding="utf-8")


def load(name: str) -> Script:
    return load_script(SCRIPTS_DIR / f"{name}.scs")


def load_altered(name: str, old: str, new: str) -> Script:
    """The script with the first ``old`` replaced by ``new``: a deliberately wrong copy."""
    text = script_text(name)
    if old not in text:
        raise ValueError(f"{old!r} does not occur in {name}.scs")
    return parse_script(text.replace(old, new, 1), source=f"{name}.scs (altered)")
