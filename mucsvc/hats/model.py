"""Hat ids and attachments: what the API accepts, and the one shape it stores.

A hat's id and title end up in an attribute of every presence its wearer's
occupants send, and in the stored room, so they are checked at the door:
an id that is not an absolute URI, an unknown attachment key, a value of the
wrong type or a character XML cannot carry is a ``bad-request``, and nothing
is changed.  Attachments are stored normalised (both booleans explicit, the
title only when there is one), so what ``get_user_hats`` returns does not
depend on how a hat was given.
"""

from __future__ import annotations

from collections.abc import Mapping

from mucsvc.hats.errors import bad_request
from mucsvc.rooms.hat_definitions import MAX_LENGTH, is_hat_uri, is_title

BOOLEANS = ("active", "required")
KEYS = frozenset(BOOLEANS + ("title",))


def hat_id(value) -> str:
    """``value`` if it is an absolute URI (``urn:uuid:…``, ``http://…``)."""
    if not isinstance(value, str):
        raise bad_request("a hat id must be a string")
    if not is_hat_uri(value):
        raise bad_request(f"a hat id must be an absolute URI: {value!r}")
    return value


def attachment(value) -> dict:
    """The normalised copy of an attachment: ``active`` and ``required``
    (false when omitted) and ``title`` when given and not empty."""
    if not isinstance(value, Mapping):
        raise bad_request("a hat's attachment must be an object")
    unknown = [key for key in value if key not in KEYS]
    if unknown:
        names = ", ".join(sorted(repr(key) for key in unknown))
        raise bad_request(f"unknown attachment key(s): {names}")
    normalised = {}
    for key in BOOLEANS:
        flag = value.get(key, False)
        if not isinstance(flag, bool):
            raise bad_request(f"{key} must be true or false")
        normalised[key] = flag
    if "title" in value:
        title = value["title"]
        if not isinstance(title, str):
            raise bad_request("title must be a string")
        if not is_title(title):
            raise bad_request("title must be printable text of at most "
                              f"{MAX_LENGTH} characters")
        if title:
            normalised["title"] = title
    return normalised


def hats(value) -> dict:
    """A whole wardrobe, hat id -> attachment, each checked as above."""
    if not isinstance(value, Mapping):
        raise bad_request("hats must be an object mapping hat ids to attachments")
    return {hat_id(key): attachment(item) for key, item in value.items()}


def copy_of(stored) -> dict:
    """An independent copy of stored hats, for callers to keep or change;
    anything malformed (only a hand-edited store could hold it) is left out."""
    if not isinstance(stored, Mapping):
        return {}
    return {key: dict(item) for key, item in stored.items()
            if isinstance(key, str) and isinstance(item, Mapping)}
