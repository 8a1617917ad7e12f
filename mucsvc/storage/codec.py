"""Domain values <-> the plain values a store keeps, shared by every store
so that they all accept, refuse and give back exactly the same things.

`RoomConfig` is kept as JSON of its fields, role sets as sorted lists of
role names, the room's hat definitions as a list of ``{"uri", "title",
"hue"}`` objects.  Reading is forgiving, because the text may come from another
version of mucsvc: a key this version does not know is ignored and one it
misses takes its default (each with a log line), and a value the domain
refuses falls back to the default for that field, so one odd value never
stops the service from restoring its rooms.  Writing is strict: what cannot
come back unchanged is refused at once, while the caller still knows what
it meant, rather than discovered changed after a restart.
"""

import dataclasses
import enum
import json
import math

from twisted.logger import Logger

from mucsvc.rooms.avatar import Avatar
from mucsvc.rooms.config import RoomConfig
from mucsvc.rooms.errors import NotAcceptable
from mucsvc.rooms.hat_definitions import HatDefinition
from mucsvc.rooms.history import HistoryEntry
from mucsvc.rooms.outcomes import Subject
from mucsvc.rooms.roles import Affiliation
from mucsvc.rooms.tombstones import Tombstone
from mucsvc.storage.errors import RoomNotPersistent

log = Logger()

_CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(RoomConfig))


def _plain(value):
    """A config field value as JSON: sets (of roles) become sorted lists,
    hat definitions objects."""
    if isinstance(value, (frozenset, set)):
        return sorted(v.value if isinstance(v, enum.Enum) else v for v in value)
    if isinstance(value, tuple):
        return [v.as_dict() if isinstance(v, HatDefinition) else v for v in value]
    return value


def encode_config(room_jid: str, config: RoomConfig) -> str:
    """JSON text of a valid, persistent ``config``."""
    if not isinstance(config, RoomConfig):
        raise TypeError(f"config must be a RoomConfig, not {type(config).__name__}")
    config.validate()
    if not config.persistent:
        raise RoomNotPersistent(room_jid)
    return json.dumps({name: _plain(getattr(config, name)) for name in _CONFIG_FIELDS},
                      sort_keys=True, allow_nan=False)


def decode_config(room_jid: str, text: str) -> RoomConfig:
    """The `RoomConfig` in ``text``; never fails on content (see module)."""
    try:
        stored = json.loads(text)
    except ValueError:
        stored = None
    if not isinstance(stored, dict):
        log.warn("Room {room}: stored configuration is unreadable; using defaults",
                 room=room_jid)
        return RoomConfig(persistent=True)
    unknown = sorted(set(stored) - set(_CONFIG_FIELDS))
    if unknown:
        log.info("Room {room}: ignoring unknown stored configuration options {options}",
                 room=room_jid, options=unknown)
    missing = [name for name in _CONFIG_FIELDS if name not in stored]
    if missing:
        log.info("Room {room}: stored configuration lacks {options}; using defaults",
                 room=room_jid, options=missing)
    config = RoomConfig()
    for name in _CONFIG_FIELDS:
        if name not in stored:
            continue
        try:
            config = config.updated(**{name: stored[name]})
        except NotAcceptable as e:
            log.warn("Room {room}: stored option {option} is invalid ({why}); using the default",
                     room=room_jid, option=name, why=e.text)
    if not config.persistent:
        # Only persistent rooms are stored: a stored room is persistent.
        config = config.updated(persistent=True)
    return config


def encode_data(data) -> str:
    """JSON text of an affiliation's data dict (None means empty).

    Refuses (``TypeError``/``ValueError``) data that would not come back
    equal: tuples, non-text keys, NaN, objects JSON cannot hold."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise TypeError(f"affiliation data must be a dict, not {type(data).__name__}")
    text = json.dumps(data, sort_keys=True, allow_nan=False)
    if json.loads(text) != data:
        raise TypeError("affiliation data must be plain JSON (dicts with text keys, lists, "
                        "text, numbers, booleans, None) to come back unchanged")
    return text


def decode_data(text: str) -> dict:
    """The data dict in ``text``; ``ValueError`` if it is not one."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("affiliation data is not a JSON object")
    return data


def check_user(user) -> str:
    if not isinstance(user, str) or not user:
        raise TypeError("an affiliated user is a non-empty bare JID or domain")
    return user


def check_affiliation(affiliation) -> Affiliation:
    if not isinstance(affiliation, Affiliation):
        raise TypeError(f"affiliation must be an Affiliation, not {affiliation!r}")
    return affiliation


def _number(name: str, value, optional: bool = False):
    if optional and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise TypeError(f"{name} must be a finite number")
    return float(value)


def subject_row(subject) -> tuple:
    """``(text, nick, stamp)`` of a `Subject`."""
    if not isinstance(subject, Subject):
        raise TypeError(f"subject must be a Subject, not {type(subject).__name__}")
    if not isinstance(subject.text, str):
        raise TypeError("subject text must be text")
    if subject.nick is not None and not isinstance(subject.nick, str):
        raise TypeError("subject nick must be text or None")
    return subject.text, subject.nick, _number("subject stamp", subject.stamp, optional=True)


def subject_from_row(text, nick, stamp) -> Subject:
    return Subject(text=text, nick=nick, stamp=stamp)


def avatar_row(avatar) -> tuple | None:
    """``(media type, image bytes)`` of an `Avatar`, None for None."""
    if avatar is None:
        return None
    if not isinstance(avatar, Avatar):
        raise TypeError(f"avatar must be an Avatar or None, not {type(avatar).__name__}")
    return avatar.media_type, avatar.data


def avatar_from_row(room_jid: str, media_type, data) -> Avatar | None:
    """The `Avatar` of a stored row; None (with a log line) for one that is
    not an image's, so one odd row never stops the rooms from coming back."""
    if not isinstance(media_type, str) or not isinstance(data, (bytes, memoryview)) or not data:
        log.warn("Room {room}: stored avatar is unreadable; the room has none", room=room_jid)
        return None
    return Avatar(media_type, bytes(data))


def history_row(entry) -> tuple:
    """``(stamp, nick, payload, chars, seq, author)`` of a `HistoryEntry`
    whose payload is the serialized stanza text."""
    if not isinstance(entry, HistoryEntry):
        raise TypeError(f"entry must be a HistoryEntry, not {type(entry).__name__}")
    if not isinstance(entry.payload, str):
        raise TypeError("a stored history payload must be the serialized stanza text (str)")
    if not isinstance(entry.nick, str):
        raise TypeError("a history nick must be text")
    if isinstance(entry.chars, bool) or not isinstance(entry.chars, int) or entry.chars < 0:
        raise TypeError("history chars must be a non-negative integer")
    if entry.seq is not None and (isinstance(entry.seq, bool) or not isinstance(entry.seq, int)):
        raise TypeError("a history message number must be an integer or None")
    if entry.author is not None and not isinstance(entry.author, str):
        raise TypeError("a history author must be text or None")
    return (_number("history stamp", entry.stamp), entry.nick, entry.payload, entry.chars,
            entry.seq, entry.author)


def history_from_row(stamp, nick, payload, chars, seq=None, author=None) -> HistoryEntry:
    return HistoryEntry(stamp=stamp, nick=nick, payload=payload, chars=chars, seq=seq,
                        author=author)


def check_retraction(seq, payload, chars) -> tuple:
    """The arguments of ``retract_history``, checked."""
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise TypeError("a history message number must be an integer")
    if not isinstance(payload, str):
        raise TypeError("a stored history payload must be the serialized stanza text (str)")
    if isinstance(chars, bool) or not isinstance(chars, int) or chars < 0:
        raise TypeError("history chars must be a non-negative integer")
    return seq, payload, chars


def check_limit(limit) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError("a history limit must be a non-negative integer")
    return limit


def encode_room(stored) -> tuple:
    """A whole `StoredRoom` checked and encoded, before anything is written:
    ``(config text, subject row, [(user, Affiliation, data text)], [history
    row])``.  ``Affiliation.NONE`` entries are dropped (as the domain does).
    Its avatar is ``avatar_row(stored.avatar)``."""
    affiliations = []
    for user, (affiliation, data) in stored.affiliations.items():
        check_user(user)
        check_affiliation(affiliation)
        text = encode_data(data)
        if affiliation is not Affiliation.NONE:
            affiliations.append((user, affiliation, text))
    return (encode_config(stored.jid, stored.config), subject_row(stored.subject),
            affiliations, [history_row(entry) for entry in stored.history])


def tombstone_row(tombstone) -> tuple:
    """``(room jid, expires at, reason, alternate venue)`` of a `Tombstone`."""
    if not isinstance(tombstone, Tombstone):
        raise TypeError(f"tombstone must be a Tombstone, not {type(tombstone).__name__}")
    if not isinstance(tombstone.room_jid, str) or not tombstone.room_jid:
        raise TypeError("a tombstone's room is a non-empty room JID")
    for name in ("reason", "alternate_venue"):
        value = getattr(tombstone, name)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"a tombstone's {name} must be text or None")
    return (tombstone.room_jid, _number("tombstone expiry", tombstone.expires_at),
            tombstone.reason, tombstone.alternate_venue)


def tombstone_from_row(room_jid, expires_at, reason, alternate_venue) -> Tombstone:
    return Tombstone(room_jid, expires_at, reason, alternate_venue)
