"""The hats a room defines (XEP-0317 v0.3): each a URI, a title and an
optional hue, kept in the room's configuration (`RoomConfig.hats`) so that
they are stored, restored and rolled back with it.

A definition's URI and title end up in an attribute of every presence of
the hat's wearers, so they are checked here, once, for every way a hat is
defined (the room's ad-hoc command, the HTTP API, a stored room read back):
an URI that is not absolute, text XML cannot carry or a hue that is not an
angle is refused with `NotAcceptable`.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from mucsvc.rooms.errors import NotAcceptable

#: RFC 3986 scheme, then the colon: what makes a URI absolute.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
MAX_LENGTH = 1024
#: Hats one room may define (ejabberd keeps ten per user and a hundred users).
MAX_DEFINITIONS = 100


def unprintable(text: str) -> bool:
    """Control characters, lone surrogates (from JSON ``\\ud800``) and the
    non-characters XML forbids: none can be sent in a stanza."""
    return any(unicodedata.category(c) in ("Cc", "Cs") or c in "\ufffe\uffff" for c in text)


def is_hat_uri(value) -> bool:
    """Whether ``value`` is an absolute URI a hat may be named by."""
    if not isinstance(value, str):
        return False
    scheme = _SCHEME.match(value)
    return not (scheme is None or scheme.end() == len(value) or len(value) > MAX_LENGTH
                or any(c.isspace() for c in value) or unprintable(value))


def is_title(value) -> bool:
    return isinstance(value, str) and len(value) <= MAX_LENGTH and not unprintable(value)


@dataclass(frozen=True, slots=True)
class HatDefinition:
    """One hat of a room: ``uri`` names it, ``title`` is what clients show,
    ``hue`` (an angle in degrees, 0 to under 360, XEP-0392's colour wheel)
    colours it; None: no colour of its own."""

    uri: str
    title: str
    hue: float | None = None

    def validate(self) -> None:
        if not is_hat_uri(self.uri):
            raise NotAcceptable(f"a hat's URI must be an absolute URI: {self.uri!r}")
        if not is_title(self.title) or not self.title.strip():
            raise NotAcceptable(f"a hat needs a title of printable text of at most "
                                f"{MAX_LENGTH} characters")
        if self.hue is not None and not is_hue(self.hue):
            raise NotAcceptable("a hat's hue must be an angle from 0 to less than 360")

    def as_dict(self) -> dict:
        """The JSON form: ``{"uri", "title", "hue"}`` (hue None when unset)."""
        return {"uri": self.uri, "title": self.title, "hue": self.hue}


def is_hue(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and 0 <= value < 360)


def hue_text(hue: float) -> str:
    """How a hue is written in a stanza: up to six decimals, no trailing
    zeros (``327.255249``, ``210``); an angle that rounds to 360 is 0."""
    return f"{round(hue, 6) % 360:.6f}".rstrip("0").rstrip(".")


def parse_hue(text: str) -> float | None:
    """A hue given as text (a form field); None for empty text,
    `NotAcceptable` for anything but an angle from 0 to under 360."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise NotAcceptable(f"a hat's hue must be a number of degrees: {text!r}") from None
    if not is_hue(value):
        raise NotAcceptable("a hat's hue must be an angle from 0 to less than 360")
    return value


def definition_of(value) -> HatDefinition:
    """A `HatDefinition` from itself or from its JSON form, validated."""
    if isinstance(value, HatDefinition):
        definition = value
    elif isinstance(value, Mapping):
        unknown = set(value) - {"uri", "title", "hue"}
        if unknown:
            raise NotAcceptable(f"unknown hat definition key {sorted(map(str, unknown))[0]!r}")
        hue = value.get("hue")
        if isinstance(hue, int) and not isinstance(hue, bool):
            hue = float(hue)
        definition = HatDefinition(value.get("uri"), value.get("title"), hue)
    else:
        raise NotAcceptable("a hat definition must be an object with uri, title and hue")
    definition.validate()
    return definition


def definitions_of(values) -> tuple:
    """The room's definitions as `RoomConfig.hats` holds them: a tuple of
    `HatDefinition` ordered by URI, one per URI."""
    if isinstance(values, (str, bytes, Mapping)):
        raise NotAcceptable("hats must be a list of hat definitions")
    try:
        items = [definition_of(v) for v in values]
    except TypeError:
        raise NotAcceptable("hats must be a list of hat definitions") from None
    uris = [d.uri for d in items]
    if len(set(uris)) != len(uris):
        raise NotAcceptable("a room defines each hat URI once")
    if len(items) > MAX_DEFINITIONS:
        raise NotAcceptable(f"a room defines at most {MAX_DEFINITIONS} hats")
    return tuple(sorted(items, key=lambda d: d.uri))


def hats_hash(definitions) -> str:
    """A digest of a room's hats (XEP-0317 v0.3's ``hats#hash``, whose
    computation the XEP leaves open): SHA-1 over each hat's URI, title and
    hue, so that any change to the list a client holds changes it."""
    digest = hashlib.sha1()
    for d in definitions:
        hue = "" if d.hue is None else hue_text(d.hue)
        digest.update(f"{d.uri}\x1f{d.title}\x1f{hue}\x1e".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()
