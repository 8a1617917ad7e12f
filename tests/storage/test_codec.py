"""Reading a stored configuration written by another version of mucsvc:
unknown options are ignored, missing ones take their defaults, odd values
fall back to the default, each with a log line, and the room still loads."""

import json

import pytest
from twisted.logger import capturedLogs

from mucsvc.rooms import Role, RoomConfig
from mucsvc.storage import codec
from tests.storage.helpers import EVERY_FIELD_CHANGED, ROOM


def stored_json(config=EVERY_FIELD_CHANGED) -> dict:
    return json.loads(codec.encode_config(ROOM, config))


def decode(fields) -> tuple:
    text = fields if isinstance(fields, str) else json.dumps(fields)
    with capturedLogs() as events:
        config = codec.decode_config(ROOM, text)
    return config, events


def test_roles_are_stored_as_sorted_role_names():
    fields = stored_json()
    assert fields["presence_broadcast"] == ["moderator", "participant"]
    assert fields["get_member_list"] == ["moderator", "visitor"]
    assert fields["max_users"] == 42 and fields["password"] == "s3cret"


def test_an_exact_copy_decodes_silently():
    config, events = decode(stored_json())
    assert config == EVERY_FIELD_CHANGED and events == []


def test_unknown_options_are_ignored_with_a_log_line():
    fields = {**stored_json(), "muc#roomconfig_pubsub": "node", "zz_future": [1, 2]}
    config, events = decode(fields)
    assert config == EVERY_FIELD_CHANGED
    assert len(events) == 1
    assert events[0]["options"] == ["muc#roomconfig_pubsub", "zz_future"]
    assert events[0]["room"] == ROOM


def test_missing_options_take_their_defaults_with_a_log_line():
    fields = stored_json()
    del fields["moderated"], fields["presence_broadcast"]
    config, events = decode(fields)
    assert config.moderated is RoomConfig().moderated is False
    assert config.presence_broadcast == RoomConfig().presence_broadcast
    assert config.name == "Lounge" and config.max_users == 42
    assert [e["options"] for e in events] == [["moderated", "presence_broadcast"]]


@pytest.mark.parametrize("option, value", [
    ("whois", "everyone"), ("history_length", -3), ("moderated", "yes"),
    ("presence_broadcast", ["owner"]), ("max_users", 0), ("name", 7)])
def test_an_invalid_value_takes_the_default_and_the_rest_is_kept(option, value):
    fields = {**stored_json(), option: value}
    config, events = decode(fields)
    assert getattr(config, option) == getattr(RoomConfig(), option)
    others = [name for name in fields if name != option]
    assert all(getattr(config, n) == getattr(EVERY_FIELD_CHANGED, n) for n in others)
    assert [e["option"] for e in events] == [option]


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", "null", ""])
def test_unreadable_text_gives_a_default_persistent_config(text):
    config, events = decode(text)
    assert config == RoomConfig(persistent=True) and len(events) == 1


def test_a_stored_room_is_persistent_whatever_the_text_says():
    config, _ = decode({**stored_json(), "persistent": False})
    assert config == EVERY_FIELD_CHANGED


def test_role_values_decode_to_roles():
    config, _ = decode({"persistent": True, "get_member_list": ["participant"]})
    assert config.get_member_list == frozenset({Role.PARTICIPANT})
