from mucsvc.rooms import Occupant, Role, make_occupant_id


def test_sessions_keep_join_order_and_current_follows_latest_update():
    o = Occupant("Alice", "alice@x", Role.PARTICIPANT)
    o.set_session("alice@x/a", "pa")
    o.set_session("alice@x/b", "pb")
    assert list(o.sessions) == ["alice@x/a", "alice@x/b"]
    assert o.presence == "pb" and o.current_jid == "alice@x/b"
    o.set_session("alice@x/a", "pa2")
    assert list(o.sessions) == ["alice@x/a", "alice@x/b"]
    assert o.presence == "pa2"


def test_removing_the_current_session_falls_back_to_latest_joined():
    o = Occupant("Alice", "alice@x", Role.PARTICIPANT)
    for res in "abc":
        o.set_session(f"alice@x/{res}", res)
    o.set_session("alice@x/a", "a2")
    o.remove_session("alice@x/a")
    assert o.presence == "c"
    o.remove_session("alice@x/b")
    assert o.presence == "c"
    o.remove_session("alice@x/c")
    assert o.presence is None and o.current_jid is None




def test_occupant_id_is_stable_per_room_and_user():
    a = make_occupant_id(b"secret", "room@muc", "alice@x")
    assert a == make_occupant_id(b"secret", "room@muc", "alice@x")
    assert a != make_occupant_id(b"secret", "other@muc", "alice@x")
    assert a != make_occupant_id(b"secret", "room@muc", "bob@x")


def test_occupant_id_depends_on_the_secret():
    assert make_occupant_id(b"one", "room@muc", "alice@x") != make_occupant_id(b"two", "room@muc", "alice@x")


def test_occupant_id_is_base64_of_a_sha256():
    import base64
    assert len(base64.b64decode(make_occupant_id(b"k", "r@m", "a@x"))) == 32


def test_occupant_has_slots():
    o = Occupant("a", "a@x", Role.VISITOR)
    assert not hasattr(o, "__dict__")
