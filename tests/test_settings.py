"""The configuration's room settings become the domain's ServiceLimits."""

import pytest

from mucsvc.config import ConfigError, parse_config
from mucsvc.settings import service_limits

BASE = {"jid": "muc.example.org", "component_secret": "x",
        "http_muc_kick_authorization_header": "Bearer k"}


def limits(**raw):
    return service_limits(parse_config(dict(BASE, **raw), environ={}))


def test_defaults_follow_prosody_with_bounded_history():
    result = limits()
    assert result.room_creation == "anyone"
    assert result.lock_new_rooms and result.locked_room_timeout == 300
    assert result.max_history_messages == 100
    config = result.default_config
    assert (config.public, config.persistent, config.members_only, config.moderated) == (
        False, False, False, False)
    assert config.whois == "moderators" and config.history_length == 20
    assert result.event_rate == 1.0 and result.burst_factor == 60 and result.max_chars == 5664
    assert result.signal_rate == 2.0 and result.signal_burst_factor == 30


def test_tombstones_are_on_for_31_days_as_in_prosody():
    assert limits().tombstone_ttl == 86400 * 31
    assert limits(muc_tombstone_expiry=60).tombstone_ttl == 60.0
    assert limits(muc_tombstone_expiry=0.5).tombstone_ttl == 0.5
    assert limits(muc_tombstones=False, muc_tombstone_expiry=60).tombstone_ttl is None


def test_room_avatars_take_64_kib_of_image_unless_set():
    assert limits().max_avatar_bytes == 65536
    assert limits(muc_avatar_max_bytes=8192).max_avatar_bytes == 8192


@pytest.mark.parametrize("value, policy", [
    (False, "anyone"), (True, "admins"), ("admin", "admins"),
    ("local", frozenset({"example.org"})), (["example.org", "Example.NET"],
                                            frozenset({"example.org", "example.net"})),
])
def test_room_creation_policy(value, policy):
    assert limits(restrict_room_creation=value).room_creation == policy


def test_room_defaults_are_applied():
    config = limits(muc_room_default_public=True, muc_room_default_persistent=True,
                    muc_room_default_public_jids=True, muc_room_default_history_length=5,
                    muc_room_default_language="fr").default_config
    assert (config.public, config.persistent, config.whois, config.history_length,
            config.language) == (True, True, "anyone", 5, "fr")


@pytest.mark.parametrize("raw, key", [
    ({"restrict_room_creation": "members"}, "restrict_room_creation"),
    ({"restrict_room_creation": ["user@example.org"]}, "restrict_room_creation"),
    ({"max_rooms": 0}, "max_rooms"),
    ({"muc_event_rate": -1}, "muc_event_rate"),
    ({"muc_bodyless_event_rate": -1}, "muc_bodyless_event_rate"),
    ({"muc_bodyless_burst_factor": 0}, "muc_bodyless_burst_factor"),
    ({"muc_room_lock_timeout": "5m"}, "muc_room_lock_timeout"),
    ({"muc_tombstones": "yes"}, "muc_tombstones"),
    ({"muc_avatar_max_bytes": 0}, "muc_avatar_max_bytes"),
    ({"muc_avatar_max_bytes": "64k"}, "muc_avatar_max_bytes"),
    ({"muc_tombstone_expiry": 0}, "muc_tombstone_expiry"),
    ({"muc_tombstone_expiry": float("inf")}, "muc_tombstone_expiry"),
    ({"muc_tombstone_expiry": float("nan")}, "muc_tombstone_expiry"),
])
def test_bad_settings_name_the_key(raw, key):
    with pytest.raises(ConfigError) as caught:
        parse_config(dict(BASE, **raw), environ={})
    assert caught.value.key == key
