"""A room: its state, the questions the protocol asks about it, and its
configuration lifecycle (locked -> configured -> destroyed).

The rules for presence, messages and moderation live in their own modules
(`presence`, `messaging`, `moderation`) as mixins of `Room`; this module
holds the state they share.  Occupants are indexed twice, by nick and by
full JID, so every per-stanza lookup is a dict lookup.
"""

import dataclasses

from mucsvc.rooms import jids
from mucsvc.rooms.avatar import AvatarChanged, checked_avatar
from mucsvc.rooms.config import RoomConfig
from mucsvc.rooms.errors import Forbidden, NotAcceptable
from mucsvc.rooms.hats import HatRules
from mucsvc.rooms.history import History
from mucsvc.rooms.messaging import MessagingRules
from mucsvc.rooms.moderation import ModerationRules
from mucsvc.rooms.occupant import Occupant, make_occupant_id
from mucsvc.rooms.outcomes import SERVICE, Actor, ConfigChanged, Destroyed, Subject
from mucsvc.rooms.permissions import may_configure
from mucsvc.rooms.presence import PresenceRules
from mucsvc.rooms.registration import RegistrationRules
from mucsvc.rooms.roles import Affiliation, Role, default_role
from mucsvc.rooms.roominfo import RoomInfo, features_of



class Room(PresenceRules, MessagingRules, ModerationRules, RegistrationRules, HatRules):
    """One chat room.

    ``service_admins`` is a set of bare JIDs who act as owners in every room
    (shared with the service, so later changes apply).  ``secret`` keys the
    XEP-0421 occupant ids.  ``history_cap`` is the service-wide limit on
    history length.  ``lock_on_create``: whether the first joiner's room
    stays locked until configured.  ``affiliations`` (bare JID ->
    `Affiliation`) and ``affiliation_data`` seed a restored room.
    """

    __slots__ = (
        "jid", "config", "history", "subject", "locked", "locked_at", "created_at", "creator",
        "destroyed", "avatar", "service_admins", "_secret", "_history_cap", "_lock_on_create",
        "_occupant_cap", "_affiliations", "_affiliation_data", "_by_nick", "_by_jid",
    )

    def __init__(self, jid: str, config: RoomConfig | None = None, *,
                 service_admins=frozenset(), secret: bytes = b"",
                 history_cap: int | None = None, lock_on_create: bool = True,
                 affiliations: dict | None = None, affiliation_data: dict | None = None,
                 occupant_cap: int | None = None):
        self.jid = jid
        self.config = config if config is not None else RoomConfig()
        self.config.validate()
        self.service_admins = service_admins
        self._secret = secret
        self._history_cap = history_cap
        self._lock_on_create = lock_on_create
        self._occupant_cap = occupant_cap
        self.history = History(self._history_limit(self.config))
        self.subject = Subject()
        self.locked = False
        self.locked_at: float | None = None
        self.created_at: float | None = None
        #: Bare JID of the user who created the room (None: not known).
        self.creator: str | None = None
        self.destroyed = False
        #: The room's `Avatar` (XEP-0486), None: none.
        self.avatar = None
        self._affiliations: dict = {}
        self._affiliation_data: dict = {}
        for jid_, affiliation in (affiliations or {}).items():
            if affiliation is not Affiliation.NONE:
                self._affiliations[jid_] = affiliation
        for jid_, data in (affiliation_data or {}).items():
            if jid_ in self._affiliations:
                self._affiliation_data[jid_] = dict(data)
        self._by_nick: dict = {}
        self._by_jid: dict = {}

    def __repr__(self):
        return f"<Room {self.jid} occupants={len(self._by_nick)} locked={self.locked}>"

    # ---- occupants -------------------------------------------------------

    @property
    def occupants(self):
        """Every occupant (a live view, in join order): the broadcast list."""
        return self._by_nick.values()

    @property
    def occupant_count(self) -> int:
        return len(self._by_nick)

    @property
    def is_empty(self) -> bool:
        return not self._by_nick

    def occupant_by_nick(self, nick: str) -> Occupant | None:
        return self._by_nick.get(nick)

    def occupant_by_jid(self, full_jid: str) -> Occupant | None:
        """The occupant one of whose sessions is ``full_jid``."""
        return self._by_jid.get(full_jid)

    def current_nick(self, full_jid: str) -> str | None:
        """The nick of the session ``full_jid`` (for presence sent to the
        bare room JID by buggy clients, and for IQ routing)."""
        occupant = self._by_jid.get(full_jid)
        return None if occupant is None else occupant.nick

    def occupants_with_role(self, role: Role) -> list:
        return [o for o in self._by_nick.values() if o.role is role]

    def sees_real_jids(self, recipient: Occupant) -> bool:
        """Whether ``recipient`` is shown other occupants' real JIDs:
        everyone in a non-anonymous room, moderators in a semi-anonymous
        one.  (Everyone also sees their own JIDs; that is the caller's
        bare-JID comparison.)"""
        return recipient.role is Role.MODERATOR or self.config.whois == "anyone"

    def occupant_id_for(self, bare_jid: str) -> str:
        return make_occupant_id(self._secret, self.jid, bare_jid)

    # ---- affiliations ----------------------------------------------------

    def affiliation_of(self, jid: str) -> Affiliation:
        """The affiliation of a (full or bare) JID: service admins are owners
        everywhere; a ban of the user's whole domain makes them outcast."""
        bare_jid = jids.bare(jid)
        if bare_jid in self.service_admins:
            return Affiliation.OWNER
        affiliations = self._affiliations
        affiliation = affiliations.get(bare_jid)
        if affiliation is not None:
            return affiliation
        if affiliations and affiliations.get(jids.domain(bare_jid)) is Affiliation.OUTCAST:
            return Affiliation.OUTCAST
        return Affiliation.NONE

    def affiliation_list(self, affiliation: Affiliation) -> list:
        """``[(bare_jid, data), ...]`` of the stored ``affiliation``, sorted.
        (Service admins appear only if they were given it explicitly.)"""
        return sorted((jid_, self._affiliation_data.get(jid_, {}))
                      for jid_, aff in self._affiliations.items() if aff is affiliation)

    @property
    def affiliations(self) -> dict:
        """Stored affiliations, bare JID -> `Affiliation` (read-only use)."""
        return self._affiliations

    def affiliation_data(self, jid: str) -> dict:
        """Free-form data kept with a user's affiliation (``reason``,
        reserved nick, hats…); a copy, empty if none."""
        return dict(self._affiliation_data.get(jids.bare(jid), {}))

    def default_role_for(self, affiliation: Affiliation) -> Role:
        config = self.config
        return default_role(affiliation, moderated=config.moderated,
                            members_only=config.members_only)

    def effective_role(self, jid: str) -> Role:
        """The role of ``jid``'s session if present, else the default role
        its affiliation would give (Prosody's rule for requests made from
        outside the room)."""
        occupant = self._by_jid.get(jid)
        if occupant is not None:
            return occupant.role
        return self.default_role_for(self.affiliation_of(jid))

    def _actor(self, actor_jid: str | None) -> Actor:
        if actor_jid is None:
            return SERVICE
        return Actor(actor_jid, self.current_nick(actor_jid))

    # ---- discovery -------------------------------------------------------

    def features(self) -> list:
        """XEP-0045 disco#info features describing the room type."""
        return features_of(self.config)

    def info(self) -> RoomInfo:
        """The muc#roominfo facts."""
        config = self.config
        return RoomInfo(name=config.name, description=config.description,
                        language=config.language, occupants=len(self._by_nick),
                        subject=self.subject.text, change_subject=config.change_subject,
                        password_protected=config.password is not None,
                        max_users=config.max_users,
                        avatar_hash=self.avatar.sha1 if self.avatar is not None else None)

    @property
    def discoverable(self) -> bool:
        """Listed in the service's disco#items: public and not locked."""
        return self.config.public and not self.locked

    # ---- configuration lifecycle -----------------------------------------

    def _history_limit(self, config: RoomConfig) -> int:
        if self._history_cap is None:
            return config.history_length
        return min(config.history_length, self._history_cap)

    def _emptied_temporary(self) -> bool:
        """After an occupant went away: the room is empty and temporary, so
        it is gone (the caller forgets it)."""
        return not self._by_nick and not self.config.persistent

    def configure(self, actor_jid: str | None, now: float, **changes) -> ConfigChanged:
        """Apply an owner's configuration; with no changes this accepts the
        instant room.  Either way the room is unlocked.

        Raises `Forbidden` for non-owners and `NotAcceptable` for a bad value
        (the room is then unchanged).  Becoming members-only removes the
        occupants who are not members (status 322), as XEP-0045 §10.2
        requires and Prosody does.
        """
        if actor_jid is not None and not may_configure(self.affiliation_of(actor_jid)):
            raise Forbidden("Only owners can configure rooms")
        if "hats" in changes:
            # Hats have operations of their own, which also change their wearers.
            raise NotAcceptable("unknown room option 'hats'")
        old = self.config
        new = old.updated(**changes) if changes else old
        codes = set()
        if new.whois != old.whois:
            codes.add(172 if new.whois == "anyone" else 173)
        # 104 is for changes other than privacy (XEP-0045 §10.2.1), as in Prosody.
        if dataclasses.replace(new, whois=old.whois) != old:
            codes.add(104)
        self.config = new
        self.history.set_limit(self._history_limit(new))
        removed = []
        if new.members_only and not old.members_only:
            for occupant in list(self._by_nick.values()):
                if self.affiliation_of(occupant.bare_jid) < Affiliation.MEMBER:
                    self._remove_occupant(occupant)
                    removed.append(occupant)
        unlocked = self.locked
        self.locked = False
        self.locked_at = None
        destroy = self._emptied_temporary()
        return ConfigChanged(old=old, new=new, status_codes=frozenset(codes),
                             removed=tuple(removed), unlocked=unlocked,
                             destroy_room=destroy)

    def set_avatar(self, actor_jid: str | None, media_type: str | None, data: bytes | None,
                   max_bytes: int | None = None) -> AvatarChanged | None:
        """Give the room the image ``data`` of ``media_type`` as its avatar
        (no ``data``: remove it), as an owner (``actor_jid`` None: the
        service).  `Forbidden` for anyone else, as Prosody and ejabberd
        refuse a non-owner's vCard, before the image is looked at; then
        `BadRequest`/`TooLarge` as `checked_avatar` says.  Returns None
        when the room already had that image: nothing changed."""
        if actor_jid is not None and not may_configure(self.affiliation_of(actor_jid)):
            raise Forbidden("Only owners can change the room's avatar")
        avatar = checked_avatar(media_type, data, max_bytes) if data else None
        old = self.avatar
        if old == avatar:
            return None
        self.avatar = avatar
        return AvatarChanged(old=old, new=avatar)

    def evacuate(self) -> tuple:
        """Everyone leaves (the service is shutting down); returns the
        occupants, each with role ``none`` and its sessions kept so it can
        be told.  The room itself, its affiliations and history stay."""
        occupants = tuple(self._by_nick.values())
        for occupant in occupants:
            self._remove_occupant(occupant)
        return occupants

    def destroy(self, actor_jid: str | None, *, reason: str | None = None,
                alternate_venue: str | None = None, password: str | None = None) -> Destroyed:
        """Empty the room for good (owners only; ``actor_jid`` None: the
        service).  The caller must also remove it from the service."""
        if actor_jid is not None and not may_configure(self.affiliation_of(actor_jid)):
            raise Forbidden("Only owners can destroy rooms")
        actor = self._actor(actor_jid)
        occupants = tuple(self._by_nick.values())
        for occupant in occupants:
            occupant.role = Role.NONE
        self._by_nick.clear()
        self._by_jid.clear()
        self.destroyed = True
        self.locked = False
        return Destroyed(room_jid=self.jid, occupants=occupants, actor=actor, reason=reason,
                         alternate_venue=alternate_venue, password=password, room=self)

    # ---- shared by the rule mixins -----------------------------------------

    def _remove_occupant(self, occupant: Occupant) -> None:
        """Take the occupant out of the room with all its sessions.  The
        occupant keeps ``sessions`` so the caller can address it one last
        time."""
        del self._by_nick[occupant.nick]
        by_jid = self._by_jid
        for full_jid in occupant.sessions:
            by_jid.pop(full_jid, None)
        occupant.role = Role.NONE


