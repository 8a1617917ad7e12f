"""The hats of a room, as the domain sees them (XEP-0317 v0.3): the hats
the room defines (`RoomConfig.hats`) and the hats its users wear (the
``hats`` of their affiliation data, Prosody's mod_muc_hats_api model:
hat URI -> attachment with ``active``, ``required`` and ``title``).

A hat someone wears that the room does not define (given with a title by
the Prosody-style API) is defined implicitly: it is listed with the title
of its first wearer that has one and no hue, and can be destroyed or given
a definition of its own like any other.  So the list a client reads is
always every hat in the room, and the Prosody-style API keeps working as
it did, with no definition to make first.

In presence a hat shows its definition's title and hue; a hat the room
only defines implicitly shows its wearer's own title.  A mixin of `Room`.
"""

from __future__ import annotations

from collections.abc import Mapping

from mucsvc.rooms.errors import NoSuchHat
from mucsvc.rooms.hat_definitions import HatDefinition
from mucsvc.rooms.outcomes import ConfigChanged, HatsChanged
from mucsvc.rooms.roles import Affiliation

#: The affiliations that may wear hats (outcasts are affiliated, but out).
WEARERS = frozenset({Affiliation.MEMBER, Affiliation.ADMIN, Affiliation.OWNER})

#: XEP-0317 v0.3: a change to the list of hats is a configuration change.
_CONFIGURATION_CHANGED = frozenset({104})


def worn(data) -> dict:
    """The hats in one user's affiliation data: URI -> attachment (a
    mapping); anything malformed (only a hand-edited store could hold it)
    is left out."""
    hats = data.get("hats") if isinstance(data, Mapping) else None
    if not isinstance(hats, Mapping):
        return {}
    return {uri: attachment for uri, attachment in hats.items()
            if isinstance(uri, str) and isinstance(attachment, Mapping)}


def shown(hats: dict, definitions: dict) -> list:
    """``[(uri, title or None, hue or None)]`` of the active ``hats`` of one
    user, ordered by URI, as presence shows them with the room's
    ``definitions`` (URI -> `HatDefinition`, explicit ones only)."""
    result = []
    for uri, attachment in sorted(hats.items()):
        if attachment.get("active") is not True:
            continue
        definition = definitions.get(uri)
        if definition is not None:
            result.append((uri, definition.title, definition.hue))
        else:
            result.append((uri, attachment.get("title") or None, None))
    return result


class HatRules:
    """Defining, listing and destroying the room's hats."""

    __slots__ = ()

    # ---- reading -----------------------------------------------------------

    def defined_hats(self) -> dict:
        """URI -> `HatDefinition` of the hats the room defines explicitly."""
        return {d.uri: d for d in self.config.hats}

    def hats_of(self, bare_jid: str) -> dict:
        """What ``bare_jid`` wears (URI -> attachment); nothing unless a
        member, admin or owner."""
        if self._affiliations.get(bare_jid) not in WEARERS:
            return {}
        return worn(self._affiliation_data.get(bare_jid))

    def shown_hats(self, bare_jid: str) -> list:
        """``[(uri, title, hue)]`` that ``bare_jid``'s presence carries."""
        hats = self.hats_of(bare_jid)
        if not hats:
            return []
        return shown(hats, self.defined_hats() if self.config.hats else {})

    def assigned_hats(self) -> list:
        """``[(bare JID, uri)]`` of every hat worn in the room, ordered."""
        return sorted((user, uri) for user in self._affiliations
                      for uri in self.hats_of(user))

    def hat_definitions(self) -> tuple:
        """Every hat of the room, explicit or implicit (see the module),
        as `HatDefinition` values ordered by URI."""
        definitions = self.defined_hats()
        implicit = {}
        for user, uri in self.assigned_hats():
            if uri in definitions:
                continue
            title = self.hats_of(user)[uri].get("title") or ""
            if uri not in implicit or (not implicit[uri].title and title):
                implicit[uri] = HatDefinition(uri, title if isinstance(title, str) else "")
        definitions.update(implicit)
        return tuple(definitions[uri] for uri in sorted(definitions))

    def hat_definition(self, uri: str):
        """The room's `HatDefinition` of ``uri`` (explicit or implicit), or None."""
        for definition in self.hat_definitions():
            if definition.uri == uri:
                return definition
        return None

    # ---- changing ----------------------------------------------------------

    def define_hat(self, definition: HatDefinition):
        """Define the hat, or give an existing definition a new title or
        hue; returns `HatsChanged`, or None when it was defined so already.
        `NotAcceptable` for an invalid definition or one too many."""
        definition.validate()
        old = self.config
        before = self.defined_hats()
        if before.get(definition.uri) == definition:
            return None
        after = dict(before)
        after[definition.uri] = definition
        new = old.updated(hats=tuple(after.values()))
        changed = [user for user, uri in self.assigned_hats() if uri == definition.uri
                   and shown(self.hats_of(user), before) != shown(self.hats_of(user), after)]
        self.config = new
        return HatsChanged(ConfigChanged(old=old, new=new, status_codes=_CONFIGURATION_CHANGED),
                           occupants=self._occupants_of(changed))

    def destroy_hat(self, uri: str) -> HatsChanged:
        """Forget the hat and take it off everyone who has it, in one
        change; `NoSuchHat` when the room neither defines it nor does
        anyone wear it."""
        old = self.config
        remaining = tuple(d for d in old.hats if d.uri != uri)
        holders = sorted(user for user, data in self._affiliation_data.items()
                         if uri in worn(data))
        if len(remaining) == len(old.hats) and not any(
                self._affiliations.get(user) in WEARERS for user in holders):
            raise NoSuchHat("The room has no such hat")
        shown_before = {user: self.shown_hats(user) for user in holders}
        for user in holders:
            data = dict(self._affiliation_data[user])
            hats = dict(data["hats"])
            del hats[uri]
            if hats:
                data["hats"] = hats
            else:
                del data["hats"]
            if data:
                self._affiliation_data[user] = data
            else:
                del self._affiliation_data[user]
        new = old.updated(hats=remaining) if len(remaining) != len(old.hats) else old
        self.config = new
        changed = [user for user in holders if self.shown_hats(user) != shown_before[user]]
        return HatsChanged(ConfigChanged(old=old, new=new, status_codes=_CONFIGURATION_CHANGED),
                           users=tuple(holders), occupants=self._occupants_of(changed))

    def _occupants_of(self, users) -> tuple:
        users = set(users)
        return tuple(o for o in self._by_nick.values() if o.bare_jid in users)
