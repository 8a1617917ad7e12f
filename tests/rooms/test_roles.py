import pytest

from mucsvc.rooms import Affiliation, NotAcceptable, Role, default_role


def test_values_are_the_xep_strings():
    assert [r.value for r in Role] == ["none", "visitor", "participant", "moderator"]
    assert [a.value for a in Affiliation] == ["outcast", "none", "member", "admin", "owner"]


def test_roles_are_ordered_by_rank():
    assert Role.NONE < Role.VISITOR < Role.PARTICIPANT < Role.MODERATOR
    assert Role.MODERATOR >= Role.MODERATOR and not Role.VISITOR > Role.PARTICIPANT
    assert max(Role) is Role.MODERATOR


def test_affiliations_are_ordered_by_rank():
    assert Affiliation.OUTCAST < Affiliation.NONE < Affiliation.MEMBER < Affiliation.ADMIN < Affiliation.OWNER
    assert sorted([Affiliation.OWNER, Affiliation.OUTCAST, Affiliation.MEMBER]) == [
        Affiliation.OUTCAST, Affiliation.MEMBER, Affiliation.OWNER]


def test_roles_and_affiliations_do_not_compare_with_each_other():
    with pytest.raises(TypeError):
        Role.MODERATOR < Affiliation.OWNER  # noqa: B015


def test_parse_accepts_xep_strings_and_rejects_others():
    assert Role.parse("visitor") is Role.VISITOR
    assert Affiliation.parse("outcast") is Affiliation.OUTCAST
    with pytest.raises(NotAcceptable):
        Role.parse("god")
    with pytest.raises(NotAcceptable):
        Affiliation.parse("Owner")


@pytest.mark.parametrize("affiliation, moderated, members_only, expected", [
    (Affiliation.OWNER, False, False, Role.MODERATOR),
    (Affiliation.OWNER, True, True, Role.MODERATOR),
    (Affiliation.ADMIN, True, False, Role.MODERATOR),
    (Affiliation.MEMBER, False, False, Role.PARTICIPANT),
    (Affiliation.MEMBER, True, True, Role.PARTICIPANT),
    (Affiliation.NONE, False, False, Role.PARTICIPANT),
    (Affiliation.NONE, True, False, Role.VISITOR),
    (Affiliation.NONE, False, True, Role.NONE),
    (Affiliation.NONE, True, True, Role.NONE),
    (Affiliation.OUTCAST, False, False, Role.NONE),
])
def test_default_role(affiliation, moderated, members_only, expected):
    assert default_role(affiliation, moderated=moderated, members_only=members_only) is expected
