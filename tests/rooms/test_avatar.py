"""The room's avatar in the domain: who may set it, what it may be."""

import hashlib

import pytest

from mucsvc.rooms import Affiliation, BadRequest, Forbidden
from mucsvc.rooms.avatar import Avatar, checked_avatar
from mucsvc.rooms.checkpoint import RoomCheckpoint
from mucsvc.rooms.errors import TooLarge
from tests.rooms.helpers import ALICE, OWNER, join, new_room

IMAGE = b"\x89PNG\r\n\x1a\n image"


def test_the_hash_is_the_sha1_of_the_bytes():
    assert Avatar("image/png", IMAGE).sha1 == hashlib.sha1(IMAGE).hexdigest()


def test_an_owner_sets_replaces_and_removes_it():
    room = new_room()
    changed = room.set_avatar(OWNER, "image/png", IMAGE)
    assert (changed.old, changed.new, changed.sha1) == (None, room.avatar, room.avatar.sha1)
    assert room.info().avatar_hash == hashlib.sha1(IMAGE).hexdigest()
    again = room.set_avatar(OWNER, "image/jpeg", b"\xff\xd8 jpeg")
    assert again.old.data == IMAGE and room.avatar.media_type == "image/jpeg"
    gone = room.set_avatar(OWNER, None, None)
    assert (gone.new, gone.sha1, room.avatar, room.info().avatar_hash) == (None, None, None, None)


def test_the_same_image_changes_nothing():
    room = new_room()
    room.set_avatar(OWNER, "image/png", IMAGE)
    assert room.set_avatar(OWNER, "IMAGE/PNG ", IMAGE) is None
    assert room.set_avatar(OWNER, "image/webp", IMAGE) is not None  # another type is a change


@pytest.mark.parametrize("affiliation", [Affiliation.ADMIN, Affiliation.MEMBER, Affiliation.NONE])
def test_only_owners_may(affiliation):
    room = new_room()
    join(room, ALICE, "Alice")
    room.set_affiliation(OWNER, "alice@example.org", affiliation)
    with pytest.raises(Forbidden):
        room.set_avatar(ALICE, "image/png", IMAGE)
    with pytest.raises(Forbidden):  # permission comes before the image is looked at
        room.set_avatar(ALICE, "text/plain", b"")
    assert room.avatar is None


def test_the_service_may():
    room = new_room()
    assert room.set_avatar(None, "image/png", IMAGE).new.data == IMAGE


@pytest.mark.parametrize("media_type", [None, "", "text/html", "image/", "image/png; x=<y>", 3])
def test_the_type_must_be_an_image_type(media_type):
    with pytest.raises(BadRequest):
        checked_avatar(media_type, IMAGE, None)


def test_the_size_limit_counts_decoded_bytes():
    assert checked_avatar("image/png", b"x" * 10, 10).data == b"x" * 10
    with pytest.raises(TooLarge) as caught:
        checked_avatar("image/png", b"x" * 11, 10)
    assert caught.value.text == "The avatar is too large: 11 bytes of image, at most 10 allowed"
    assert checked_avatar("image/png", b"x" * 11, None).data == b"x" * 11


def test_a_checkpoint_puts_the_avatar_back():
    room = new_room()
    room.set_avatar(OWNER, "image/png", IMAGE)
    checkpoint = RoomCheckpoint(room)
    room.set_avatar(OWNER, None, None)
    checkpoint.restore()
    assert room.avatar.data == IMAGE
