"""`MucApplication`: every use case of the rooms, in one place.

Each method is one use case, whoever asks for it (an XMPP handler, the
HTTP kick, the hats service, an ad-hoc command, the housekeeping timer).
It always goes the same way:

1. check and call the domain, which changes the live room and says what
   changed (an outcome record) or refuses (a ``MucError``);
2. write the store once for the whole operation (`IRoomStore.apply`): all
   of it or none;
3. if a step fails, put the room back as it was (`RoomCheckpoint`), so
   memory, store and what clients were told agree, and raise;
4. otherwise call ``acknowledge`` (the edge's answer to the requester, when
   it has one and it comes before the broadcasts) and emit the events
   (`mucsvc.app.events`), which the XMPP broadcaster turns into stanzas.

The store may answer with a Deferred (a network database will); the
operation then returns a Deferred that fires once acknowledged and
announced, or fails with `StoreFailed` after the rollback.  With the SQLite
store nothing is deferred and the operation returns its outcome.
"""

from __future__ import annotations

import uuid

from twisted.internet import defer
from twisted.logger import Logger

from mucsvc.app import events
from mucsvc.app.errors import StoreFailed, store_refusal
from mucsvc.app.persistence import RoomWrites, is_stored
from mucsvc.rooms import Affiliation, ConfigChanged, Joined, NickChanged, Role
from mucsvc.rooms.checkpoint import RoomCheckpoint
from mucsvc.rooms.errors import (
    Conflict, Forbidden, MucError, NoSuchMessage, NoSuchOccupant, NotAcceptable,
)
from mucsvc.rooms.history import HistoryEntry
from mucsvc.rooms.permissions import may_read_archive
from mucsvc.rooms.retraction import Retraction, check_author, moderator_of
from mucsvc.storage.archive import (
    ArchivedMessage, ArchiveItemNotFound, ArchivePage, ArchiveQuery, MessageIds,
)
from mucsvc.storage.pg_link import DatabaseUnavailable


def _nothing():
    return None


class MucApplication:
    """The use cases over ``rooms`` (a `RoomRegistry`).

    ``store``: an ``IRoomStore`` or None (nothing is kept); ``writes``: the
    `RoomWrites` that say which writes a change needs; ``clock``: an
    ``IReactorTime``.  Listeners are added with `listen`.
    """

    log = Logger()

    def __init__(self, rooms, store, writes: RoomWrites, clock, archive=None, texts=None):
        self.rooms = rooms
        #: The edge's texts of retraction (announcements, tombstones; see
        #: `mucsvc.protocol.retraction_render`); None: retraction is off.
        self.texts = texts
        self.store = store
        self.writes = writes
        self.clock = clock
        #: The `RoomArchive` (None: no archive at all; message numbers then
        #: come from the clock alone).
        self.archive = archive
        #: Message numbers: ``message_ids.next()`` (the edge calls it on the
        #: hot path; `next_message_seq` says the same).
        self.message_ids = archive.ids if archive is not None else MessageIds(clock)
        self.listeners = events.Listeners(self.log)
        if archive is not None:
            self.listeners.add(archive)
        #: Operations whose store write failed (and were rolled back).
        self.store_failures = 0

    def listen(self, listener) -> None:
        """Call ``listener(event)`` for every event from now on."""
        self.listeners.add(listener)

    def now(self) -> float:
        return self.clock.seconds()

    def restore(self, replay=None, archived_text=None, forget_orphans: bool = True) -> tuple:
        """Bring back the stored rooms and tombstones (at start-up):
        ``(rooms, tombstones)`` restored.

        A room that archives gets its history from its archive: its newest
        messages, each made a history payload by ``replay(archived
        message)`` (the edge's).  Before that, messages its stored history
        holds but its archive lacks (a crash came before the archive's
        batch was written) are archived, ``archived_text(entry, room JID)``
        giving the archive's text of a history entry: the history, written
        with every message, is what makes the archive survive a crash.
        ``forget_orphans``: drop the archives of rooms not stored (false
        when other processes share the store: they are its temporary rooms).
        """
        if self.store is None:
            if forget_orphans:
                self._forget_orphan_archives()
            return 0, 0
        count = self.writes.restore(self.store, self.rooms)
        tombstones = self.writes.restore_tombstones(self.store, self.rooms)
        if forget_orphans:
            self._forget_orphan_archives()
        if self.archive is not None and replay is not None:
            for room in self.rooms.rooms():
                if self.archives(room):
                    if archived_text is not None:
                        self._recover(room, archived_text)
                    self._refill_history(room, replay)
        return count, tombstones

    def _forget_orphan_archives(self) -> None:
        """Archives of rooms that did not come back (temporary rooms of the
        last run) go, as they would have when the room ended: whoever
        creates a room of that name must not read its predecessor's."""
        if self.archive is None:
            return
        for room_jid in self.archive.archive.room_jids():
            if room_jid not in self.rooms:
                self.archive.forget(room_jid)

    def _recover(self, room, archived_text) -> None:
        bounds = self.archive.bounds(room.jid)
        newest = bounds[1].seq if bounds is not None else 0
        missing = []
        for entry in room.history:
            if entry.seq is not None and entry.seq > newest:
                try:
                    text = archived_text(entry, room.jid)
                except ValueError:
                    continue
                missing.append(ArchivedMessage(entry.seq, room.jid, entry.nick,
                                               entry.author or "", text))
        if missing:
            self.archive.archive.append(missing)
            self.archive.ids.raise_floor(missing[-1].seq)
            self.log.info("{room}: archived {count} messages a crash had kept from the archive",
                          room=room.jid, count=len(missing))

    def _refill_history(self, room, replay) -> None:
        history = room.history
        if not history.limit:
            return
        page = self.archive.query(room.jid, ArchiveQuery(max=history.limit, last=True))
        history.clear()
        for message in page.messages:
            payload, chars = replay(message)
            entry = HistoryEntry(message.stamp, message.nick, payload, chars, message.seq,
                                 message.author)
            entry.retracted = message.retracted
            history.append(entry)

    # ---- message identity and the archive -------------------------------------------

    def archives(self, room) -> bool:
        """Whether ``room``'s messages go to an archive now."""
        return self.archive is not None and self.rooms.archives(room)

    def next_message_seq(self) -> int:
        """The number (and stanza id) of the next groupchat message."""
        return self.message_ids.next()

    def archive_query(self, room, requester: str, query):
        """A page of ``room``'s archive for ``requester`` (a full JID);
        `Forbidden` for an outcast, or a non-member of a members-only room
        (Prosody's rule: being in the room is not needed);
        `ArchiveItemNotFound` for an unknown ``after``/``before``.
        ``requester`` None: the service itself (the HTTP admin API), which
        may read every room's archive."""
        if requester is not None:
            self._may_read_archive(room, requester)
        if self.archive is None:
            return ArchivePage([], True, 0 if query.count else None)
        return self._answer(self.archive.query(room.jid, query))

    def _answer(self, result):
        """An archive's answer; a later failure (but an unknown id) becomes
        `StoreFailed` (`StoreUnavailable` while the database is away)."""
        if isinstance(result, defer.Deferred):
            return result.addErrback(
                lambda failure: failure if failure.check(ArchiveItemNotFound)
                else self._archive_failed(failure))
        return result

    def archive_bounds(self, room, requester: str):
        """``(first, last)`` archived messages of ``room`` or None (XEP-0313
        metadata); the same rule as `archive_query`."""
        self._may_read_archive(room, requester)
        return None if self.archive is None else self._answer(self.archive.bounds(room.jid))

    def _may_read_archive(self, room, requester: str) -> None:
        if not may_read_archive(room.affiliation_of(requester),
                                members_only=room.config.members_only):
            raise Forbidden(None)

    # ---- the one way an operation ends -------------------------------------------

    def _finish(self, writes, undo, announce, result=None):
        """Commit ``writes``; on failure ``undo()`` and raise (or fail with)
        `StoreFailed`; on success ``announce()`` and return ``result``."""
        if writes and self.store is not None:
            try:
                written = self.store.apply(writes)
            except Exception as error:
                self.log.failure("the store refused an operation's writes; rolled back")
                self.store_failures += 1
                undo()
                raise store_refusal(error) from None
            if isinstance(written, defer.Deferred):
                return written.addCallbacks(
                    lambda _: (announce(), result)[1],
                    lambda failure: self._failed_later(failure, undo))
        announce()
        return result

    def _failed_later(self, failure, undo):
        if isinstance(failure.value, DatabaseUnavailable):  # expected: one line, no traceback
            self.log.warn("refused a change the store cannot take now ({why}); rolled back",
                          why=str(failure.value))
        else:
            self.log.failure("the store failed an operation's writes; rolled back", failure)
        self.store_failures += 1
        undo()
        raise store_refusal(failure.value)

    def _guarded(self, room, change):
        """Run ``change()`` (domain calls that may refuse half-way) on
        ``room``; on a refusal put the room back and re-raise.  Returns
        ``(result, checkpoint)``."""
        checkpoint = RoomCheckpoint(room)
        try:
            return change(), checkpoint
        except BaseException:
            checkpoint.restore()
            raise

    def _gone_if(self, room, destroyed: bool, checkpoint):
        """Forget ``room`` when the change emptied it for good; returns the
        undo for the operation: the checkpoint, and the room back in the
        registry."""
        if destroyed:
            self.rooms.forget(room.jid)

        def undo():
            checkpoint.restore()
            if destroyed:
                self.rooms.add(room)
        return undo

    # ---- presence ------------------------------------------------------------------

    def join(self, room_jid, session, nick, *, payload, muc_x, password=None, history=None):
        """An available presence to ``room_jid/nick``: a join (creating the
        room if need be), a presence update, or a nick change."""
        tombstones = self.rooms.tombstones
        stone = tombstones.get(room_jid)
        room, outcome = self.rooms.enter(room_jid, session, nick, self.now(), payload=payload,
                                         muc_x=muc_x, password=password)
        emit = self.listeners.emit
        if isinstance(outcome, Joined):
            writes = self.writes.created(room) if outcome.created else None
            if outcome.created and stone is not None:
                # The creation lifted the tombstone (an admin's, or an expired one).
                writes = writes + self.writes.tombstones_lifted([stone])
            if writes:
                def undo():
                    self.rooms.forget(room.jid)
                    if stone is not None:
                        tombstones.lay(stone)
                return self._finish(writes, undo,
                                    lambda: emit(events.OccupantJoined(room, outcome, session,
                                                                       history)),
                                    outcome)
            emit(events.OccupantJoined(room, outcome, session, history))
            return outcome
        if isinstance(outcome, NickChanged):
            emit(events.NickChanged(room, outcome, payload))
        elif outcome.resync:
            emit(events.OccupantJoined(room, outcome, session, history))
        else:
            emit(events.PresenceChanged(room, outcome))
        return outcome

    def leave(self, room, session, payload=None):
        """An unavailable presence from ``session``."""
        return self._departure(room, session, None, payload=payload)

    def drop(self, room, session, status: str):
        """``session`` answered with an error: it is unreachable, and leaves
        with ``status`` shown (Prosody's "kickable" errors)."""
        return self._departure(room, session, status)

    def _departure(self, room, session, status, payload=None):
        occupant = room.occupant_by_jid(session)
        if occupant is None:
            return None
        prev_role = occupant.role
        if status is None:
            left = room.presence_unavailable(session, self.now(), payload=payload)
        else:
            left = room.presence_error(session, self.now())
        if left.destroy_room:
            # The last occupant of a temporary room left: it is gone.
            self.rooms.forget(room.jid)
        self.listeners.emit(events.OccupantLeft(room, left, prev_role, status))
        return left

    # ---- messages ------------------------------------------------------------------

    def groupchat(self, room, session, message, replay=None, chars=0, historic=False,
                  seq=None, archived=None):
        """A groupchat message: recorded (``replay`` is its history copy),
        stored with the room, then sent to every occupant, and archived
        (``archived``: the text the archive keeps; None when the message is
        not for the archive).  ``seq``: its number, from `next_message_seq`.
        The hot path: no checkpoint, only the history append is undone on
        failure."""
        history = room.history
        if seq is None:
            seq = self.message_ids.next()
        stored = historic and self.store is not None and is_stored(room)
        evicted = history.next_evicted() if stored else None
        now = seq / 1_000_000
        outcome = room.groupchat(session, now, payload=replay, chars=chars,
                                 historic=historic, seq=seq)
        entry = outcome.entry
        record = None
        if archived is not None and self.archive is not None and \
                self.rooms.limits.archiving_enabled(room.config):  # self.archives(room), inlined
            sender = outcome.sender
            record = ArchivedMessage(seq, room.jid, sender.nick, sender.bare_jid, archived)
        if stored and entry is not None:
            writes = self.writes.history(room, entry)
            if writes:
                return self._finish(writes, lambda: history.retract(entry, evicted),
                                    lambda: self.listeners.emit(
                                        events.MessageBroadcast(room, message, entry, record)),
                                    outcome)
        self.listeners.emit(events.MessageBroadcast(room, message, entry, record))
        return outcome

    # ---- retraction ----------------------------------------------------------------

    def moderate(self, room, actor, seq: int, reason=None, acknowledge=_nothing):
        """A moderator retracts message ``seq`` of ``room`` (XEP-0425):
        ``actor`` is their full JID (None: the service itself, the HTTP
        API).  The message becomes a tombstone in the archive, the history
        and the stored history, and the room is told by an announcement
        that is archived and kept in the history like a message; then the
        requester is answered.  `Forbidden` for a non-moderator,
        `NoSuchMessage` for an id the room does not know.  A message
        already retracted stays as it is and nobody is told again: the
        answer is the same success (returns None instead of the
        `Retraction`).  With an archive that answers later, the message is
        looked up first and the operation returns a Deferred."""
        moderator = moderator_of(room, actor)
        return self._looked_up(room, seq, lambda archived: self._moderate(
            room, moderator, seq, reason, acknowledge, self._found(room, seq, archived)))

    def _moderate(self, room, moderator, seq, reason, acknowledge, found):
        if found.retracted:
            acknowledge()
            return None
        notice_seq = self.message_ids.next()
        now = notice_seq / 1_000_000
        retraction = Retraction(seq, now, uuid.uuid4().hex[:16], notice_seq, moderator,
                                reason, found.author, self._occupant_id(room, found.author))
        notice, notice_text = self.texts.announcement(room.jid, retraction)
        writes, undo_tombstone, archived_now = self._tombstone(room, found, retraction)
        history = room.history
        evicted = history.next_evicted()
        entry = None
        if history.limit:
            payload, chars = self.texts.history_payload(
                ArchivedMessage(notice_seq, room.jid, "", "", notice_text))
            entry = HistoryEntry(now, "", payload, chars, notice_seq, None)
            history.append(entry)
            if self.store is not None:
                writes += self.writes.history(room, entry)
        record = (ArchivedMessage(notice_seq, room.jid, "", "", notice_text)
                  if self.archives(room) else None)

        def undo():
            if entry is not None:
                history.retract(entry, evicted)
            undo_tombstone()

        def announce():
            self.listeners.emit(events.MessageRetracted(room, retraction, notice, entry, record))
            acknowledge()
        return self._finish_after(archived_now, writes, undo, announce, retraction)

    def retract_own(self, room, session, message, target: int, replay=None, chars=0,
                    historic=False, seq=None, archived=None, notice_id=None):
        """A groupchat message by which its author retracts their message
        ``target`` (XEP-0424).  It is reflected, kept and archived like any
        message (the arguments are `groupchat`'s), and ``target`` becomes
        a tombstone in the archive, the history and the stored history, in
        the same store commit.  `Forbidden` when ``target`` is someone
        else's: nothing is sent.  A ``target`` the room does not know, or
        one already retracted, leaves the message a plain message, passed
        on as it is."""
        def go(archived):
            try:
                found = self._found(room, target, archived)
            except NoSuchMessage:
                found = None
            return self._retract_own(room, session, message, target, replay, chars, historic,
                                     seq, archived_text, notice_id, found)
        archived_text = archived
        return self._looked_up(room, target, go)

    def _retract_own(self, room, session, message, target, replay, chars, historic, seq,
                     archived, notice_id, found):
        if found is None or found.retracted:
            return self.groupchat(room, session, message, replay, chars, historic, seq, archived)
        sender = room.occupant_by_jid(session)
        if sender is not None:
            check_author(sender.bare_jid, found.author)
        if seq is None:
            seq = self.message_ids.next()
        now = seq / 1_000_000
        history = room.history
        evicted = history.next_evicted()
        outcome = room.groupchat(session, now, payload=replay, chars=chars, historic=historic,
                                 seq=seq)
        entry = outcome.entry
        retraction = Retraction(target, now, notice_id or "", seq, None, None, found.author,
                                self._occupant_id(room, found.author))
        try:
            writes, undo_tombstone, archived_now = self._tombstone(room, found, retraction)
        except BaseException:
            history.retract(entry, evicted)
            raise
        if entry is not None and self.store is not None:
            writes += self.writes.history(room, entry)
        record = None
        if archived is not None and self.archives(room):
            author = outcome.sender
            record = ArchivedMessage(seq, room.jid, author.nick, author.bare_jid, archived)

        def undo():
            history.retract(entry, evicted)
            undo_tombstone()
        return self._finish_after(archived_now, writes, undo, lambda: self.listeners.emit(
            events.MessageRetracted(room, retraction, message, entry, record)), outcome)

    def _looked_up(self, room, seq: int, then):
        """``then(archived copy of message seq, or None)``; on the Deferred
        of an archive that answers later (whose failure is `StoreFailed`)."""
        archived = self.archive.get(room.jid, seq) if self.archive is not None else None
        if isinstance(archived, defer.Deferred):
            return archived.addCallbacks(then, self._archive_failed)
        return then(archived)

    def _archive_failed(self, failure):
        failure.trap(Exception)
        if isinstance(failure.value, (MucError, StoreFailed)):
            return failure
        if isinstance(failure.value, DatabaseUnavailable):
            self.log.warn("refused an archive request ({why})", why=str(failure.value))
        else:
            self.log.failure("the archive failed a request", failure)
        self.store_failures += 1
        raise store_refusal(failure.value)

    def _finish_after(self, archived_now, writes, undo, announce, result):
        """`_finish`, once the archive's own change (a Deferred, or None)
        is made; its failure undoes the operation."""
        if archived_now is None:
            return self._finish(writes, undo, announce, result)
        return archived_now.addCallbacks(
            lambda _: self._finish(writes, undo, announce, result),
            lambda failure: self._failed_later(failure, undo))

    def _found(self, room, seq: int, archived) -> "_Found":
        """Message ``seq`` of ``room`` in its archive and its history;
        `NoSuchMessage` when in neither."""
        entry = room.history.find(seq)
        if archived is None and entry is None:
            raise NoSuchMessage(None)
        return _Found(archived, entry)

    @staticmethod
    def _occupant_id(room, author):
        return room.occupant_id_for(author) if author else None

    def _tombstone(self, room, found, retraction):
        """Make the message of ``found`` a tombstone: in the archive at once
        (a failure there changes nothing and raises `StoreFailed`), in the
        history in memory; returns the store writes still to commit and the
        undo of both."""
        texts = self.texts
        archived = found.archived
        tombstone = None
        archived_now = None
        if archived is not None:
            tombstone = texts.tombstone(archived.payload, room.jid, retraction)
            try:
                done = self.archive.retract(room.jid, retraction.seq, tombstone)
            except Exception as error:
                self.log.failure("the archive refused a retraction; nothing changed")
                self.store_failures += 1
                raise store_refusal(error) from None
            if isinstance(done, defer.Deferred):
                archived_now = done
        entry = found.entry
        writes = []
        before = None
        if entry is not None:
            if tombstone is None:
                try:
                    tombstone = texts.tombstone(texts.history_text(entry, room.jid), room.jid,
                                                retraction)
                except ValueError:  # an entry of another shape: leave it alone
                    entry = None
            if entry is not None:
                before = (entry.payload, entry.chars, entry.retracted)
                entry.payload, entry.chars = texts.history_payload(ArchivedMessage(
                    entry.seq, room.jid, entry.nick, entry.author or "", tombstone))
                entry.retracted = True
                if self.store is not None:
                    writes += self.writes.retracted(room, entry)

        def undo():
            if before is not None:
                entry.payload, entry.chars, entry.retracted = before
            if archived is not None:
                try:
                    put_back = self.archive.restore(room.jid, retraction.seq, archived.payload)
                except Exception:
                    put_back = defer.fail()
                if isinstance(put_back, defer.Deferred):
                    put_back.addErrback(lambda failure: self.log.failure(
                        "could not put back message {seq} of {room} in the archive after a "
                        "failed retraction", failure, seq=retraction.seq, room=room.jid))
        return writes, undo, archived_now

    def announce(self, room, body: str):
        """A message from the room itself to everyone in it, on the
        service's authority (the HTTP admin API); nothing is stored."""
        if not isinstance(body, str) or not body:
            raise NotAcceptable("A message needs a body")
        self.listeners.emit(events.RoomAnnouncement(room, body))
        return len(room.occupants)

    def invite_directly(self, room, users, reason=None, password=None):
        """Invite ``users`` (bare JIDs) to ``room`` on the service's
        authority (XEP-0249 direct invitations, from the room itself, as
        ejabberd's ``send_direct_invitation``); nothing is stored and no
        affiliation changes.  Returns the number of users invited."""
        users = tuple(dict.fromkeys(users))
        if not users:
            raise NotAcceptable("Nobody to invite")
        self.listeners.emit(events.DirectInvitations(room, users, reason, password))
        return len(users)

    def change_subject(self, room, session, text):
        old = room.subject
        outcome = room.change_subject(session, text, self.now())

        def undo():
            room.subject = old
        return self._finish(self.writes.subject(room), undo,
                            lambda: self.listeners.emit(events.SubjectChanged(room, outcome)),
                            outcome)

    # ---- configuration -------------------------------------------------------------

    def configure(self, room, actor, changes: dict, *, owners=None, admins=None,
                  acknowledge=_nothing):
        """An owner's configuration form with its owner and admin lists, as
        one operation: all applied and stored, or nothing.  The requester is
        answered before the room hears of the change."""
        if owners is not None and not owners:
            raise NotAcceptable("A room needs at least one owner")
        was_locked = room.locked
        was_archived = self.archives(room)

        def change():
            outcome = room.configure(actor, self.now(), **changes)
            return outcome, self._affiliation_lists(room, actor, owners, admins)
        (outcome, affiliation_changes), checkpoint = self._guarded(room, change)
        if self.archives(room) != was_archived:  # Prosody's mod_muc_mam codes
            outcome.status_codes = outcome.status_codes | {171 if was_archived else 170}
        undo = self._gone_if(room, outcome.destroy_room, checkpoint)
        writes = self.writes.config_changed(room, outcome.old, was_locked)
        if is_stored(room) and writes and writes[0].method != "replace_room":
            for jid in dict.fromkeys(c.jid for c in affiliation_changes):
                writes += self.writes.affiliation(room, jid)

        def announce():
            acknowledge()
            emit = self.listeners.emit
            emit(events.ConfigChanged(room, outcome))
            for affiliation_change in affiliation_changes:
                emit(events.AffiliationChanged(room, affiliation_change))
        return self._finish(writes, undo, announce, outcome)

    @staticmethod
    def _affiliation_lists(room, actor, owners, admins) -> list:
        """The form's owner and admin lists (XEP-0045 §10.5, §10.8): listed
        users get the affiliation, users dropped from a list become members
        in a members-only room and unaffiliated elsewhere.  Every grant is
        made before any demotion, so an owner who hands the room over
        keeps the authority for the whole form."""
        demoted = Affiliation.MEMBER if room.config.members_only else Affiliation.NONE
        grants, demotions = [], []
        for wanted, affiliation in ((owners, Affiliation.OWNER), (admins, Affiliation.ADMIN)):
            if wanted is None:
                continue
            current = {jid for jid, _ in room.affiliation_list(affiliation)}
            grants += [(jid, affiliation) for jid in sorted(set(wanted) - current)]
            demotions += [(jid, demoted) for jid in sorted(current - set(wanted))]
        granted = {jid for jid, _ in grants}
        changes = [room.set_affiliation(actor, jid, affiliation) for jid, affiliation in grants]
        changes += [room.set_affiliation(actor, jid, affiliation) for jid, affiliation in demotions
                    if jid not in granted]
        return changes

    # ---- the room's avatar ---------------------------------------------------------

    def set_room_avatar(self, room, actor, media_type=None, data=None, acknowledge=_nothing):
        """An owner (``actor``; None: the service) gives the room an avatar
        (XEP-0486): ``data`` (decoded image bytes) of ``media_type``; no
        ``data`` removes it.  Checked against the service's size limit
        (`TooLarge`), stored with the room in one write, acknowledged, then
        the room hears the new hash.  Returns the `AvatarChanged` outcome,
        or None when the room already had that image (nothing is stored or
        sent, the requester is still answered)."""
        checkpoint = RoomCheckpoint(room)
        outcome = room.set_avatar(actor, media_type, data, self.rooms.limits.max_avatar_bytes)
        if outcome is None:
            acknowledge()
            return None

        def announce():
            acknowledge()
            self.listeners.emit(events.AvatarChanged(room, outcome))
        return self._finish(self.writes.avatar(room), checkpoint.restore, announce, outcome)

    # ---- roles and affiliations ----------------------------------------------------

    def change_roles_and_affiliations(self, room, actor, items, acknowledge=_nothing):
        """A ``muc#admin`` set: every item applied, or none (a refused item
        leaves the room as it was).  ``items`` are `RoleItem` and
        `AffiliationItem` values in request order.  The room hears of the
        changes before the requester is answered, as in Prosody."""
        had_owners = bool(room.affiliation_list(Affiliation.OWNER))

        def change():
            outcomes = []
            for item in items:
                outcomes += item.apply(room, actor)
            _keeps_an_owner(room, had_owners)
            return outcomes
        outcomes, checkpoint = self._guarded(room, change)
        affected = dict.fromkeys(o.outcome.jid for o in outcomes
                                 if isinstance(o, events.AffiliationChanged))
        writes = [w for jid in affected for w in self.writes.affiliation(room, jid)]
        undo = self._gone_if(room, any(o.outcome.destroy_room for o in outcomes), checkpoint)

        def announce():
            for event in outcomes:
                self.listeners.emit(event)
            acknowledge()
        return self._finish(writes, undo, announce)

    def kick(self, room_jid, nick, reason=None):
        """Remove an occupant on the service's own authority (the HTTP kick:
        307 to everyone, no actor).  `NoSuchRoom`, `NoSuchOccupant`."""
        room = self.rooms.get(room_jid)
        outcome = room.set_role(None, nick, Role.NONE, reason)
        if outcome.destroy_room:
            self.rooms.forget(room.jid)
        self.listeners.emit(events.RoleChanged(room, outcome))
        return outcome

    def ban(self, room_jid, nick, reason=None):
        """Ban the user behind an occupant on the service's own authority
        (the HTTP kick with ``ban``): their bare JID becomes an outcast with
        ``reason``, stored in one commit, and every occupant of theirs is
        removed with status 301 (XEP-0045 §9.1).  `NoSuchRoom`,
        `NoSuchOccupant`.  Returns the `AffiliationChanged` outcome."""
        room = self.rooms.get(room_jid)
        occupant = room.occupant_by_nick(nick)
        if occupant is None:
            raise NoSuchOccupant("No occupant with that nickname")
        user = occupant.bare_jid
        had_owners = bool(room.affiliation_list(Affiliation.OWNER))

        def change():
            banned = room.set_affiliation(None, user, Affiliation.OUTCAST, reason)
            _keeps_an_owner(room, had_owners)
            return banned
        return self._affiliation_operation(room, change)

    def grant_voice(self, room, moderator, target_nick):
        """A moderator approved a voice request."""
        outcome = room.set_role(moderator, target_nick, Role.PARTICIPANT, "Voice granted")
        self.listeners.emit(events.RoleChanged(room, outcome))
        return outcome

    def _affiliation_operation(self, room, change, acknowledge=_nothing,
                               changed=lambda answer: answer):
        """At most one affiliation change: ``change()`` returns the domain's
        answer, ``changed(answer)`` its `AffiliationChanged` (None: nothing
        changed).  Returns the answer."""
        answer, checkpoint = self._guarded(room, change)
        affiliation = changed(answer)
        if affiliation is None:
            acknowledge()
            return answer
        undo = self._gone_if(room, affiliation.destroy_room, checkpoint)

        def announce():
            self.listeners.emit(events.AffiliationChanged(room, affiliation))
            acknowledge()
        return self._finish(self.writes.affiliation(room, affiliation.jid), undo, announce, answer)

    def register(self, room, session, nick, acknowledge=_nothing):
        """Reserve ``nick`` in the room for the user (XEP-0045 §7.10)."""
        return self._affiliation_operation(room, lambda: room.register_nick(session, nick),
                                           acknowledge)

    def unregister(self, room, session, acknowledge=_nothing):
        return self._affiliation_operation(room, lambda: room.unregister(session), acknowledge)

    def invite(self, room, inviter, invitee):
        """A mediated invitation; in a members-only room the invitee may
        become a member.  Returns the `Invited` outcome for the edge to
        send the invitation."""
        return self._affiliation_operation(room, lambda: room.invite(inviter, invitee, self.now()),
                                           changed=lambda invited: invited.membership)

    def set_affiliation_data(self, room, user, data):
        """Replace the data kept with ``user``'s affiliation (hats); their
        occupants are shown again, without status codes."""
        checkpoint = RoomCheckpoint(room)
        occupants = room.set_affiliation_data(user, data)
        return self._finish(
            self.writes.affiliation(room, user), checkpoint.restore,
            lambda: self.listeners.emit(events.OccupantsRefreshed(room, tuple(occupants))))

    def define_hat(self, room, definition):
        """Define a hat of ``room`` (a `HatDefinition`), or change the title
        or hue of one it defines (XEP-0317 v0.3): stored with the room's
        configuration; everyone is told the configuration changed (104)
        and the wearers whose hat now looks different are shown again.
        Returns the `HatsChanged`, or None when nothing changed."""
        checkpoint = RoomCheckpoint(room)
        outcome = room.define_hat(definition)
        if outcome is None:
            return None
        return self._hats_changed(room, outcome, checkpoint)

    def destroy_hat(self, room, uri: str):
        """Forget ``room``'s hat ``uri`` and take it off every user who has
        it, stored in one commit; then 104 to everyone and the wearers shown
        again without it.  `NoSuchHat` when the room has no such hat."""
        checkpoint = RoomCheckpoint(room)
        outcome = room.destroy_hat(uri)
        return self._hats_changed(room, outcome, checkpoint)

    def _hats_changed(self, room, outcome, checkpoint):
        writes = []
        if outcome.config.changed:
            writes += self.writes.config_changed(room, outcome.config.old, room.locked)
        for user in outcome.users:
            writes += self.writes.affiliation(room, user)

        def announce():
            emit = self.listeners.emit
            emit(events.ConfigChanged(room, outcome.config))
            if outcome.occupants:
                emit(events.OccupantsRefreshed(room, outcome.occupants))
        return self._finish(writes, checkpoint.restore, announce, outcome)

    # ---- the end of rooms ----------------------------------------------------------

    def destroy(self, room, actor, *, reason=None, alternate_venue=None, password=None,
                acknowledge=_nothing):
        """Destroy a room: by an owner (``actor``), or by the service
        (``actor`` None: the admin command).  Occupants are told, then the
        requester is answered."""
        checkpoint = RoomCheckpoint(room)
        outcome = self.rooms.destroy(room.jid, actor, self.now(), reason=reason,
                                     alternate_venue=alternate_venue, password=password)

        def undo():
            checkpoint.restore()
            if outcome.tombstone is not None:
                self.rooms.tombstones.lift(room.jid)
            self.rooms.add(room)

        def announce():
            self.listeners.emit(events.RoomDestroyed(outcome))
            acknowledge()
        return self._finish(self.writes.destroyed(room, outcome.tombstone), undo, announce,
                            outcome)

    def create_by_service(self, room_jid, owner, options=None):
        """Create a room on the service's own authority (the HTTP admin
        API): empty, unlocked, ``owner`` (a bare JID) its owner, configured
        with ``options`` (`RoomConfig` fields).  `Conflict` when the room
        exists; a tombstone standing on the name is lifted, as a service
        admin's creation lifts it.  Returns the room."""
        if room_jid in self.rooms:
            raise Conflict("The room exists already")
        room = self.rooms.new_room(room_jid)
        room.created_at = self.now()
        room.set_affiliation(None, owner, Affiliation.OWNER)
        room.configure(None, self.now(), **dict(options or {}))
        tombstones = self.rooms.tombstones
        stone = tombstones.get(room_jid)
        if stone is not None:
            tombstones.lift(room_jid)
        self.rooms.add(room)
        writes = self.writes.created(room)
        if stone is not None:
            writes = writes + self.writes.tombstones_lifted([stone])

        def undo():
            self.rooms.forget(room.jid)
            if stone is not None:
                tombstones.lay(stone)
        return self._finish(writes, undo, _nothing, room)

    def destroy_by_service(self, room_jid, reason=None) -> bool:
        """The admin command: True if there was such a room."""
        room = self.rooms.room(room_jid)
        if room is None:
            return False
        destroyed = self.destroy(room, None, reason=reason)
        if isinstance(destroyed, defer.Deferred):  # refused later: rolled back and logged
            destroyed.addErrback(lambda failure: failure.trap(StoreFailed) and None)
        return True

    def expire_locked(self) -> list:
        """Rooms locked too long: unlocked when in use, destroyed when
        empty (see `RoomRegistry.expire_lock`).  Each is its own operation;
        one whose write fails is put back as it was (still locked, still
        overdue) and looked at again at the next round.  Returns
        ``(room, outcome)`` for those that took effect."""
        done = []
        now = self.now()
        for room in self.rooms.overdue_locked(now):
            checkpoint = RoomCheckpoint(room)
            outcome = self.rooms.expire_lock(room, now)
            if isinstance(outcome, ConfigChanged):
                writes = self.writes.config_changed(room, outcome.old, was_locked=True)
                event = events.ConfigChanged(room, outcome)
            else:
                writes = self.writes.destroyed(room)
                event = events.RoomDestroyed(outcome)

            def undo(room=room, checkpoint=checkpoint):
                checkpoint.restore()
                self.rooms.add(room)
            try:
                finished = self._finish(writes, undo, lambda event=event: self.listeners.emit(event))
            except StoreFailed:
                continue
            if isinstance(finished, defer.Deferred):
                # Rolled back and logged on failure: looked at again next round.
                finished.addErrback(lambda failure: failure.trap(StoreFailed) and None)
            done.append((room, outcome))
        return done

    # ---- tombstones ----------------------------------------------------------------

    def pass_tombstone(self, room_jid, sender, creating: bool):
        """Before any stanza to ``room_jid`` is handled: `RoomGone` while
        the room's tombstone stands (but to a service admin's join,
        ``creating``, which recreates the room).  An expired tombstone met
        here is deleted now rather than at the next sweep, so the stanza
        finds the name free; returns None, or a Deferred when the store
        answers later (`StoreFailed` if it failed: the tombstone stays)."""
        stone = self.rooms.check_tombstone(room_jid, sender, self.now(), creating=creating)
        if stone is None:
            return None
        return self._lift_tombstones([stone])

    def expire_tombstones(self) -> list:
        """The periodic sweep: every expired tombstone deleted, in one
        commit.  On a store failure they all stay, to be swept again next
        time.  Returns the tombstones deleted."""
        due = self.rooms.tombstones.expired(self.now())
        if not due:
            return []
        try:
            lifted = self._lift_tombstones(due)
        except StoreFailed:
            return []
        if isinstance(lifted, defer.Deferred):
            lifted.addErrback(lambda failure: failure.trap(StoreFailed) and None)
        return due

    def _lift_tombstones(self, stones):
        tombstones = self.rooms.tombstones
        for stone in stones:
            tombstones.lift(stone.room_jid)

        def undo():
            for stone in stones:
                tombstones.lay(stone)
        return self._finish(self.writes.tombstones_lifted(stones), undo, _nothing)

    def shutdown(self) -> int:
        """Everyone leaves: the service is stopping.  Returns how many
        occupants were told."""
        evacuated = tuple((room, room.evacuate()) for room in list(self.rooms.rooms()))
        self.listeners.emit(events.ServiceShutdown(evacuated))
        return sum(len(occupants) for _room, occupants in evacuated)


def _keeps_an_owner(room, had_owners: bool) -> None:
    """`Conflict` (the domain's refusal) when a change took the room's last owner: checked
    for changes on the service's authority too, which the domain's own
    rule (for an actor) does not cover."""
    if had_owners and not room.affiliation_list(Affiliation.OWNER):
        raise Conflict("A room needs at least one owner")


class _Found:
    """A message looked up for retraction: its archived copy and its
    history entry (either may be None, not both)."""

    __slots__ = ("archived", "entry")

    def __init__(self, archived, entry):
        self.archived, self.entry = archived, entry

    @property
    def author(self):
        if self.archived is not None and self.archived.author:
            return self.archived.author
        return self.entry.author if self.entry is not None else None

    @property
    def retracted(self) -> bool:
        return ((self.archived is not None and self.archived.retracted)
                or (self.entry is not None and self.entry.retracted))


class RoleItem:
    """One ``muc#admin`` role change: ``nick`` to ``role``."""

    __slots__ = ("nick", "role", "reason")

    def __init__(self, nick, role, reason=None):
        self.nick, self.role, self.reason = nick, role, reason

    def apply(self, room, actor) -> list:
        return [events.RoleChanged(room, room.set_role(actor, self.nick, self.role, self.reason))]


class AffiliationItem:
    """One ``muc#admin`` affiliation change: ``jid`` to ``affiliation``.
    With ``nick`` the nick is reserved for the user, and whoever else sits
    on it is asked to leave (Prosody)."""

    __slots__ = ("jid", "affiliation", "reason", "nick")

    def __init__(self, jid, affiliation, reason=None, nick=None):
        self.jid, self.affiliation, self.reason, self.nick = jid, affiliation, reason, nick

    def apply(self, room, actor) -> list:
        changed = []
        data = None
        if self.nick is not None:
            squatter = room.occupant_by_nick(self.nick)
            if squatter is not None and squatter.bare_jid != self.jid:
                kicked = room.set_role(None, self.nick, Role.NONE, "This nickname is reserved")
                changed.append(events.RoleChanged(room, kicked))
            data = dict(room.affiliation_data(self.jid), reserved_nickname=self.nick)
        outcome = room.set_affiliation(actor, self.jid, self.affiliation, self.reason, data)
        changed.append(events.AffiliationChanged(room, outcome))
        return changed


