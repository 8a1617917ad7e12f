"""Telling a room about role and affiliation changes (XEP-0045 §8-9).

Used by the broadcaster (`mucsvc.protocol.broadcaster`) for every role and
affiliation change, whoever made it: ``muc#admin`` requests, the
configuration form's owner and admin lists, the HTTP kick, registrations,
invitations.  The domain says what changed; this module says it in stanzas,
as Prosody's ``set_role``/``set_affiliation`` do.
"""

from __future__ import annotations

from mucsvc.protocol import namespaces
from mucsvc.protocol.fanout import Outgoing
from mucsvc.protocol.occupant_presence import Change, OccupantPresence, status_codes
from mucsvc.protocol.xmltext import element, text_element
from mucsvc.rooms import Affiliation, Role


def _change(actor, reason) -> Change:
    return Change(actor_nick=actor.nick if actor else None,
                  actor_jid=actor.jid if actor else None, reason=reason)


def occupant_changed(context, room, change, lead: str, actor=None, reason=None) -> None:
    """Publish one occupant's new role (and affiliation) to the room."""
    occupant = change.occupant
    if change.removed:
        presence = OccupantPresence(room, occupant, payload="", unavailable=True, lead=lead,
                                    change=_change(actor, reason))
    else:
        presence = OccupantPresence(room, occupant, payload=occupant.presence or "",
                                    change=_change(actor, reason))
    context.publisher.to_room(presence, prev_role=change.old_role)
    context.publisher.to_self(presence)
    if change.sees_real_jids_changed and not change.removed:
        # Gaining or losing moderator changes which real JIDs it may see.
        for session in occupant.sessions:
            context.publisher.occupant_list(room, occupant, session)


def role_changed(context, room, outcome) -> None:
    lead = status_codes(outcome.change.status_codes) if outcome.change.removed else ""
    occupant_changed(context, room, outcome.change, lead, outcome.actor, outcome.reason)


def affiliation_changed(context, room, outcome) -> None:
    """Every occupant of the user is told; with none in the room, the room
    announces the change by message (to moderators only in a semi-anonymous
    room, as Prosody does)."""
    removed_code = ""
    if room.default_role_for(outcome.new_affiliation) is Role.NONE:
        removed_code = status_codes((301,) if outcome.new_affiliation is Affiliation.OUTCAST else (321,))
    if outcome.changes:
        for change in outcome.changes:
            occupant_changed(context, room, change, removed_code if change.removed else "",
                             outcome.actor, outcome.reason)
    else:
        inner = text_element("reason", outcome.reason) if outcome.reason is not None else ""
        item = element("item", (("affiliation", outcome.new_affiliation.value),
                                ("jid", outcome.jid)), inner)
        message = Outgoing("message", (("from", room.jid),),
                           element("x", (("xmlns", namespaces.MUC_USER),), removed_code + item))
        if room.config.whois == "anyone":
            recipients = list(room.occupants)
        else:
            recipients = [o for o in room.occupants if o.role is Role.MODERATOR]
        context.fanout.to_occupants(message, recipients)
