"""The service configuration: one flat TOML file, keys named as Prosody admins know them.

Every user mistake becomes a :class:`ConfigError` whose message is one line
naming the key and the problem, so ``twistd muc`` can refuse to start with
that line alone instead of a traceback.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from typing import Any, Mapping

from twisted.internet import endpoints

from mucsvc.jid import InvalidJID, parse_jid

SECRET_ENVIRONMENT_VARIABLE = "MUCSVC_COMPONENT_SECRET"


class ConfigError(Exception):
    """A configuration mistake, described in one line that names the key."""

    def __init__(self, key: str | None, problem: str):
        self.key = key
        self.problem = problem
        where = f"config key '{key}': " if key else "config: "
        super().__init__(where + problem)


@dataclasses.dataclass(frozen=True)
class Config:
    """Validated settings; see ``example.toml`` for what each key means."""

    jid: str
    component_secret: str = dataclasses.field(repr=False)
    component_host: str = "127.0.0.1"
    component_port: int = 5347
    http_endpoint: str = "tcp:5280:interface=127.0.0.1"
    http_muc_kick_authorization_header: str | None = dataclasses.field(
        default=None, repr=False
    )
    storage: str = "mucsvc.sqlite"
    service_secret_file: str | None = None
    admins: tuple[str, ...] = ()
    log_traffic: bool = False
    http_muc_hats_authorization_header: str | None = dataclasses.field(
        default=None, repr=False
    )
    muc_hats_legacy_element: bool = False
    http_muc_moderate_authorization_header: str | None = dataclasses.field(
        default=None, repr=False
    )
    http_muc_admin_authorization_header: str | None = dataclasses.field(
        default=None, repr=False
    )
    # Who may create rooms, and what new rooms look like (Prosody's names).
    restrict_room_creation: bool | str | tuple[str, ...] = False
    muc_room_locking: bool = True
    muc_room_lock_timeout: int = 300
    max_history_messages: int = 100
    muc_room_default_public: bool = False
    muc_room_default_persistent: bool = False
    muc_room_default_members_only: bool = False
    muc_room_default_moderated: bool = False
    muc_room_default_public_jids: bool = False
    muc_room_default_language: str = ""
    muc_room_default_change_subject: bool = False
    muc_room_default_history_length: int = 20
    muc_room_default_allow_member_invites: bool = False
    # Limits that keep one user or room from starving the others.
    muc_event_rate: float = 1.0
    muc_burst_factor: int = 60
    muc_bodyless_event_rate: float = 2.0
    muc_bodyless_burst_factor: int = 30
    muc_max_char_count: int = 5664
    muc_max_stanza_size: int = 65536
    max_occupants: int = 1000
    max_rooms: int = 100000
    max_rooms_per_user: int = 100
    # The room archive (XEP-0313), with Prosody's mod_muc_mam names.
    muc_log_by_default: bool = True
    muc_log_all_rooms: bool = False
    muc_log_expires_after: str | int = "1w"
    max_archive_query_results: int = 50
    muc_log_flush_interval: float = 0.1
    # Destroyed persistent rooms keep their names for a while (Prosody's names).
    muc_tombstones: bool = True
    muc_tombstone_expiry: int | float = 86400 * 31
    # Room avatars (XEP-0486): the largest image, decoded.
    muc_avatar_max_bytes: int = 64 * 1024
    # Several processes behind ejabberd sharing one PostgreSQL database:
    # ejabberd's component_number, and the slot leases' timing.
    component_slots: int = 1
    component_slot_renewal: float = 2.0
    component_slot_lease: float = 6.0


# key -> (accepted Python types, description of the type for messages)
_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "jid": ((str,), "a string"),
    "component_secret": ((str,), "a string"),
    "component_host": ((str,), "a string"),
    "component_port": ((int,), "an integer"),
    "http_endpoint": ((str,), "a string"),
    "http_muc_kick_authorization_header": ((str,), "a string"),
    "storage": ((str,), "a string"),
    "service_secret_file": ((str,), "a file path"),
    "admins": ((list,), "a list of bare JIDs"),
    "log_traffic": ((bool,), "true or false"),
    "http_muc_hats_authorization_header": ((str,), "a string"),
    "muc_hats_legacy_element": ((bool,), "true or false"),
    "http_muc_moderate_authorization_header": ((str,), "a string"),
    "http_muc_admin_authorization_header": ((str,), "a string"),
    "restrict_room_creation": ((bool, str, list), 'false, true, "admin", "local" or a list of domains'),
    "muc_room_locking": ((bool,), "true or false"),
    "muc_room_lock_timeout": ((int,), "a number of seconds"),
    "max_history_messages": ((int,), "an integer"),
    "muc_room_default_public": ((bool,), "true or false"),
    "muc_room_default_persistent": ((bool,), "true or false"),
    "muc_room_default_members_only": ((bool,), "true or false"),
    "muc_room_default_moderated": ((bool,), "true or false"),
    "muc_room_default_public_jids": ((bool,), "true or false"),
    "muc_room_default_language": ((str,), "a string"),
    "muc_room_default_change_subject": ((bool,), "true or false"),
    "muc_room_default_history_length": ((int,), "an integer"),
    "muc_room_default_allow_member_invites": ((bool,), "true or false"),
    "muc_event_rate": ((int, float), "a number of events per second (0: no limit)"),
    "muc_burst_factor": ((int,), "an integer"),
    "muc_bodyless_event_rate": ((int, float), "a number of events per second (0: no limit)"),
    "muc_bodyless_burst_factor": ((int,), "an integer"),
    "muc_max_char_count": ((int,), "an integer"),
    "muc_max_stanza_size": ((int,), "a number of bytes"),
    "max_occupants": ((int,), "an integer"),
    "max_rooms": ((int,), "an integer"),
    "max_rooms_per_user": ((int,), "an integer"),
    "muc_log_by_default": ((bool,), "true or false"),
    "muc_log_all_rooms": ((bool,), "true or false"),
    "muc_log_expires_after": ((str, int), 'a number of seconds, "never", or a count of '
                                          'days, weeks, months or years ("2w", "1y")'),
    "max_archive_query_results": ((int,), "an integer"),
    "muc_log_flush_interval": ((int, float), "a number of seconds"),
    "muc_tombstones": ((bool,), "true or false"),
    "muc_tombstone_expiry": ((int, float), "a number of seconds"),
    "muc_avatar_max_bytes": ((int,), "a number of bytes"),
    "component_slots": ((int,), "an integer (ejabberd's component_number)"),
    "component_slot_renewal": ((int, float), "a number of seconds"),
    "component_slot_lease": ((int, float), "a number of seconds"),
    "component_secret_file": ((str,), "a file path"),
    "http_muc_kick_authorization_header_file": ((str,), "a file path"),
    "http_muc_hats_authorization_header_file": ((str,), "a file path"),
    "http_muc_moderate_authorization_header_file": ((str,), "a file path"),
    "http_muc_admin_authorization_header_file": ((str,), "a file path"),
}
KNOWN_KEYS = frozenset(_TYPES)
#: Secrets that may be kept in a file of their own instead (``<key>_file``).
SECRET_KEYS = ("component_secret", "http_muc_kick_authorization_header",
               "http_muc_hats_authorization_header", "http_muc_moderate_authorization_header",
               "http_muc_admin_authorization_header")
KICK_AUTHORIZATION_KEY = "http_muc_kick_authorization_header"


def load_config(
    path: str | os.PathLike | None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read ``path`` (None: no file), apply command-line ``overrides``, validate."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as f:
                raw = tomllib.load(f)
        except FileNotFoundError:
            raise ConfigError(None, f"file not found: {os.fspath(path)}") from None
        except OSError as e:
            raise ConfigError(None, f"cannot read {os.fspath(path)}: {e.strerror}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(None, f"{os.fspath(path)} is not valid TOML: {e}") from None
    return parse_config(raw, overrides, environ)


def parse_config(
    raw: Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Validate a mapping of settings (the parsed file) into a :class:`Config`."""
    environ = os.environ if environ is None else environ
    values = dict(raw)
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value

    for key in values:
        if key not in KNOWN_KEYS:
            raise ConfigError(key, "unknown key" + _suggestion(key))
    for key, value in values.items():
        types, described = _TYPES[key]
        # bool is an int in Python; a port of `true` is still a mistake.
        if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
            raise ConfigError(key, f"must be {described}, not {_toml_type(value)}")

    for key in SECRET_KEYS:
        path = values.pop(key + "_file", None)
        if path is not None:
            if key in values:
                raise ConfigError(key + "_file", f"give either {key} or {key}_file, not both")
            values[key] = _read_secret_file(key + "_file", path)

    if not values.get("component_secret"):
        secret = environ.get(SECRET_ENVIRONMENT_VARIABLE)
        if secret:
            values["component_secret"] = secret

    for required in ("jid", "component_secret"):
        if not values.get(required):
            hint = f" (or set {SECRET_ENVIRONMENT_VARIABLE})" if required == "component_secret" else ""
            raise ConfigError(required, "missing; it is required" + hint)

    _check_kick_authorization(values.get(KICK_AUTHORIZATION_KEY))
    values["jid"] = _service_jid(values["jid"])
    if "component_port" in values:
        _check_port("component_port", values["component_port"])
    if "component_host" in values and not values["component_host"].strip():
        raise ConfigError("component_host", "must not be empty")
    if "http_endpoint" in values:
        _check_endpoint("http_endpoint", values["http_endpoint"])
    if "storage" in values and not values["storage"].strip():
        raise ConfigError("storage", "must not be empty")
    if "service_secret_file" in values and not values["service_secret_file"].strip():
        raise ConfigError("service_secret_file", "must not be empty")
    if "admins" in values:
        values["admins"] = tuple(_bare_jid("admins", a) for a in values["admins"])
    _check_muc_settings(values, values["jid"])
    _check_slots(values)
    for key in ("http_muc_hats_authorization_header", "http_muc_moderate_authorization_header",
                "http_muc_admin_authorization_header"):
        if key in values:
            _check_header_value(key, values[key])
    return Config(**values)


def _check_kick_authorization(value: str | None) -> None:
    """``POST /muc_kick`` removes anyone from any room: like Prosody's
    mod_http_muc_kick, the service does not run without a header to require.
    The value must also be one an HTTP client can send: twisted.web strips
    surrounding spaces and tabs from header values and refuses NUL, CR, LF."""
    why = "some authorization must be configured for POST /muc_kick"
    if value is None:
        raise ConfigError(KICK_AUTHORIZATION_KEY, f"missing; {why}")
    if not value.strip(" \t"):
        raise ConfigError(KICK_AUTHORIZATION_KEY, f"empty; {why}")
    if value != value.strip(" \t"):
        raise ConfigError(KICK_AUTHORIZATION_KEY,
                          "must not begin or end with white space (HTTP drops it, so no request could match)")
    if any(c in value for c in "\0\r\n"):
        raise ConfigError(KICK_AUTHORIZATION_KEY, "must be one line without NUL characters")


def _check_header_value(key: str, value: str) -> None:
    """An optional header value that an HTTP client can send: twisted.web
    strips surrounding spaces and tabs and refuses NUL, CR and LF."""
    if not value.strip(" \t"):
        raise ConfigError(key, "empty; leave the key out to turn the API off")
    if value != value.strip(" \t") or any(c in value for c in "\0\r\n"):
        raise ConfigError(key, "must be one line without surrounding white space or NUL")


def _service_jid(value: str) -> str:
    try:
        parsed = parse_jid(value)
    except InvalidJID as e:
        raise ConfigError("jid", f"malformed JID {value!r}: {e}") from None
    if parsed.user or parsed.resource:
        raise ConfigError("jid", f"must be a bare domain like 'muc.example.org', not {value!r}")
    return parsed.full()


def _bare_jid(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(key, f"must be a list of bare JIDs, found {_toml_type(value)}")
    try:
        parsed = parse_jid(value)
    except InvalidJID as e:
        raise ConfigError(key, f"malformed JID {value!r}: {e}") from None
    if parsed.resource:
        raise ConfigError(key, f"{value!r} must be a bare JID (no resource)")
    return parsed.userhost()


def _check_port(key: str, port: int) -> None:
    if not 0 < port < 65536:
        raise ConfigError(key, f"{port} is not a TCP port (1-65535)")


def _check_endpoint(key: str, description: str) -> None:
    from twisted.internet import reactor

    try:
        endpoints.serverFromString(reactor, description)
    except Exception as e:  # strports raises ValueError, KeyError, TypeError…
        raise ConfigError(key, f"cannot parse endpoint {description!r}: {e!r}") from None


def _suggestion(key: str) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _toml_type(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a float",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


_POSITIVE = ("muc_avatar_max_bytes", "muc_room_lock_timeout", "muc_burst_factor", "muc_bodyless_burst_factor",
             "muc_max_char_count", "muc_max_stanza_size", "max_occupants", "max_rooms",
             "max_rooms_per_user", "max_archive_query_results", "muc_log_flush_interval",
             "muc_tombstone_expiry")
_NON_NEGATIVE = ("max_history_messages", "muc_room_default_history_length", "muc_event_rate",
                 "muc_bodyless_event_rate")


def _check_muc_settings(values: dict, service_jid: str) -> None:
    """Ranges of the room settings, and ``restrict_room_creation`` read as
    Prosody admins write it: ``false`` (anyone), ``true`` or ``"admin"``
    (service admins), ``"local"`` (users of the server the service belongs
    to: ``muc.example.org`` -> ``example.org``), or a list of domains."""
    for key in _POSITIVE:
        if key in values and values[key] <= 0:
            raise ConfigError(key, f"must be positive, not {values[key]}")
    for key in _NON_NEGATIVE:
        if key in values and values[key] < 0:
            raise ConfigError(key, f"must not be negative, not {values[key]}")
    if "muc_log_expires_after" in values:
        try:
            expiry_seconds(values["muc_log_expires_after"])
        except ValueError as e:
            raise ConfigError("muc_log_expires_after", str(e)) from None
    expiry = values.get("muc_tombstone_expiry")
    if expiry is not None and not math.isfinite(expiry):
        raise ConfigError("muc_tombstone_expiry", f"must be a finite number of seconds, not {expiry}")
    policy = values.get("restrict_room_creation")
    if isinstance(policy, str):
        if policy == "local":
            parent = service_jid.split(".", 1)[1] if "." in service_jid else service_jid
            values["restrict_room_creation"] = (parent,)
        elif policy != "admin":
            raise ConfigError("restrict_room_creation",
                              f'{policy!r} is not "admin", "local", true, false or a list of domains')
    elif isinstance(policy, list):
        domains = []
        for domain in policy:
            parsed = _bare_jid("restrict_room_creation", domain)
            if "@" in parsed:
                raise ConfigError("restrict_room_creation", f"{domain!r} is not a domain")
            domains.append(parsed)
        values["restrict_room_creation"] = tuple(domains)


def _check_slots(values: dict) -> None:
    """``component_slots`` above 1 shares the rooms through the database
    (PostgreSQL only), and a lease must outlast two renewals: a holder
    stops serving ``lease - renewal`` seconds after its last renewal, which
    must leave it at least one more attempt."""
    slots = values.get("component_slots", 1)
    if slots < 1 or slots > 1000:
        raise ConfigError("component_slots", f"must be 1 to 1000 (ejabberd's component_number), "
                                              f"not {slots}")
    renewal = values.get("component_slot_renewal", Config.component_slot_renewal)
    lease = values.get("component_slot_lease", Config.component_slot_lease)
    for key, value in (("component_slot_renewal", renewal), ("component_slot_lease", lease)):
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(key, f"must be a positive number of seconds, not {value}")
    if lease <= 2 * renewal:
        raise ConfigError("component_slot_lease", f"must be more than twice "
                                                   f"component_slot_renewal ({renewal}), not {lease}")
    if slots > 1:
        from mucsvc.storage.backends import is_postgresql
        if not is_postgresql(values.get("storage", Config.storage)):
            raise ConfigError("component_slots", "several slots share the rooms through a "
                                                  "PostgreSQL database: set storage to a "
                                                  "postgresql:// URL")


_UNITS = {"": 1, "d": 86400, "w": 7 * 86400, "m": 31 * 86400, "y": 365.2425 * 86400}


def expiry_seconds(value) -> float | None:
    """``muc_log_expires_after`` in seconds, None for ``"never"``; read as
    Prosody reads it: a number of seconds, or a count with ``d``/``w``/
    ``m`` (31 days)/``y``."""
    if isinstance(value, bool):
        raise ValueError("must be a duration, not a boolean")
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"must be positive, not {value}")
        return float(value)
    text = value.strip().lower()
    if text == "never":
        return None
    number = text.rstrip("dwmy").strip()
    unit = text[len(text.rstrip("dwmy")):]
    if not number.isdigit() or len(unit) > 1 or int(number) <= 0:
        raise ValueError(f'{value!r} is not a duration such as "1w", "30d" or "never"')
    return int(number) * _UNITS[unit]


def _read_secret_file(key: str, path: str) -> str:
    """A secret kept in its own file, which only the service's user may read
    (like ssh keys, a file others can read is refused rather than trusted).
    One trailing newline is dropped."""
    try:
        mode = os.stat(path).st_mode
        if mode & 0o077:
            raise ConfigError(key, f"{path} is readable by others (mode {mode & 0o777:o}); "
                                   "chmod 600 it")
        with open(path, encoding="utf-8") as f:
            value = f.read()
    except FileNotFoundError:
        raise ConfigError(key, f"file not found: {path}") from None
    except (OSError, UnicodeError) as e:
        raise ConfigError(key, f"cannot read {path}: {e}") from None
    value = value[:-1] if value.endswith("\n") else value
    if not value:
        raise ConfigError(key, f"{path} is empty")
    return value
