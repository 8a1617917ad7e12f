"""One connection to a PostgreSQL database, on one thread of its own.

Why a dedicated thread and not ``twisted.enterprise.adbapi``: a room
change must reach the database in the order the service made it (a
configuration, then the affiliation it allows, then the message), and
every call here is a short transaction, so one connection used by one
thread is all the service needs; ``ConnectionPool`` with ``cp_max=1``
would keep that order too, but it starts only once the reactor runs (the
rooms are loaded before that), reconnects only on the next call, with no
backoff and no state to show, and hides which connection a call used.
Here the thread runs the calls one after another, first come first
served (the archive's batches and the rooms' changes share it, so a
reader always sees every write handed in before it), and the reactor only
ever waits on Deferreds.

Two modes.  Until `start` is called (at start-up, before the reactor
runs) a call runs on the thread and the caller waits for its result: the
stored rooms are read before the service connects to its XMPP server.
After `start` every call returns a Deferred fired in the reactor thread.

Losing the database.  A connection found dead when a call begins (the
server restarted meanwhile) is replaced at once, as nothing of the call
was sent on it.  A call whose connection breaks later, or that cannot
connect, fails with `DatabaseUnavailable` and the link goes down: calls fail at once with the
same error (the service refuses the changes it cannot store, and keeps
serving what it holds in memory), and reconnection is attempted on the
link's clock after 0.5 s, doubling to at most 30 s, until the database
answers; then the link is up again and calls go through.  ``state``,
``since`` and ``reconnects`` are what ``/health`` and ``/metrics`` show.

A COMMIT sent but never answered is not taken for a refusal: a new
connection asks the server whether that transaction took
(``txid_status``), and the caller is told what the database holds; only
when no new connection can be made does the call fail, saying the change
"may have been stored".
"""

from __future__ import annotations

import datetime
import time
from concurrent.futures import ThreadPoolExecutor

from twisted.internet import defer
from twisted.logger import Logger

from mucsvc.storage.errors import StorageError, StoreClosed

#: First and longest wait between reconnection attempts, in seconds.
FIRST_RETRY = 0.5
LONGEST_RETRY = 30.0
#: How long, and how often, a new connection asks whether a transaction
#: whose COMMIT went unanswered took, while the server has not decided.
IN_DOUBT_WAIT = 2.0
IN_DOUBT_POLL = 0.05
#: Seconds a connection attempt may take before the database counts as down.
CONNECT_TIMEOUT = 5
#: Connection settings used unless the conninfo names them: a server that
#: vanishes without closing the connection (a cable, a firewall) is noticed
#: in about 15 s by TCP keepalives and the send timeout, rather than the
#: calls queued behind the lost one waiting for the operating system's
#: default of hours.
CONNECTION_DEFAULTS = {"connect_timeout": str(CONNECT_TIMEOUT), "keepalives": "1",
                       "keepalives_idle": "5", "keepalives_interval": "2",
                       "keepalives_count": "3", "tcp_user_timeout": "15000",
                       "application_name": "mucsvc"}


class DatabaseUnavailable(StorageError):
    """The database cannot be reached: the change is not acknowledged.
    Nothing of it was written, unless the message says it "may have been
    stored" (a COMMIT sent whose outcome could not be learnt)."""

    def __init__(self, detail: str = "the database is unreachable"):
        super().__init__(detail)


def _psycopg():
    try:
        import psycopg
    except ImportError:  # pragma: no cover - depends on the installation
        raise StorageError("PostgreSQL storage needs psycopg: pip install 'mucsvc[postgresql]'") \
            from None
    return psycopg


class DatabaseLink:
    """The connection to the database ``conninfo`` names (a
    ``postgresql://`` URL or a libpq keyword string).

    ``connect(conninfo)``: makes a connection (psycopg's, by default);
    ``on_connect(conn)``: run on every new connection before it is used
    (the schema migration runs there on the first).
    """

    log = Logger()

    def __init__(self, conninfo: str, *, connect=None, on_connect=None):
        self.conninfo = conninfo
        self._connect = connect or self._psycopg_connect
        self._on_connect = on_connect
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="postgresql")
        # Touched on the database thread only.
        self._conn = None
        self._broken = False
        # The reactor side.
        self.clock = None
        self._deliver = None
        self.state = "up"
        self.since = None
        self._reconnects = 0
        #: Connections replaced at the start of a call (on the database
        #: thread; read by the reactor's: a counter, never reset).
        self.quiet_reconnects = 0
        #: Why it last went down (None while it never did).
        self.last_error = None
        self._delay = FIRST_RETRY
        self._retry = None
        self._closed = False
        #: Stores and archives on this link: the last to close closes it.
        self._users = 0

    # ---- the database thread ---------------------------------------------------------

    def _psycopg_connect(self, conninfo):
        psycopg = _psycopg()
        given = psycopg.conninfo.conninfo_to_dict(conninfo)
        extra = {key: value for key, value in CONNECTION_DEFAULTS.items() if key not in given}
        return psycopg.connect(conninfo, autocommit=True, **extra)

    def _connection(self):
        if self._conn is None:
            if self._broken:
                raise DatabaseUnavailable()
            try:
                conn = self._connect(self.conninfo)
            except _psycopg().OperationalError as e:
                self._broken = True
                raise DatabaseUnavailable(f"cannot connect to the database: {_first_line(e)}") \
                    from None
            try:
                if self._on_connect is not None:
                    self._on_connect(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def _job(self, work):
        """``work(connection)`` in one transaction (on the database thread)."""
        conn = self._begin()
        try:
            result = work(conn)
            # The transaction's id, if it wrote anything: the one way to
            # learn afterwards whether a COMMIT whose answer was lost took.
            xid = conn.execute("SELECT txid_current_if_assigned()").fetchone()[0]
        except Exception as e:
            if conn.closed or conn.broken:
                self._drop_connection()
                raise DatabaseUnavailable(f"lost the database: {_first_line(e)}") from None
            conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except Exception as e:
            if not (conn.closed or conn.broken):
                raise  # refused by the server: the transaction is over, nothing kept
            self._drop_connection()
            if xid is not None and self._committed(xid, e):
                return result
            raise DatabaseUnavailable(f"lost the database: {_first_line(e)}") from None
        return result

    def _committed(self, xid, error) -> bool:
        """Whether transaction ``xid``, whose COMMIT was sent but never
        answered, took: asked on a new connection (`txid_status`), so
        that the caller is told what the database holds.  False when it
        was aborted; `DatabaseUnavailable` when that cannot be learnt (no
        new connection, or still undecided after `IN_DOUBT_WAIT`)."""
        unknown = f"lost the database during a commit, which may have been stored: " \
                  f"{_first_line(error)}"
        self._broken = False
        try:
            conn = self._connection()
        except DatabaseUnavailable:
            raise DatabaseUnavailable(unknown) from None
        self.quiet_reconnects += 1
        waited = 0.0
        try:
            while True:
                status = conn.execute("SELECT txid_status(%s)", (xid,)).fetchone()[0]
                if status in ("committed", "aborted"):
                    self.log.info("PostgreSQL connection lost during a commit; it was {status}",
                                  status=status)
                    return status == "committed"
                if status is None or waited >= IN_DOUBT_WAIT:
                    break
                # The old connection's server process has not yet seen it close.
                time.sleep(IN_DOUBT_POLL)
                waited += IN_DOUBT_POLL
        except Exception:
            if conn.closed or conn.broken:
                self._drop_connection()
            raise DatabaseUnavailable(unknown) from None
        self._drop_connection()
        raise DatabaseUnavailable(unknown)

    def _begin(self):
        """A connection in a new transaction.  A connection found dead at
        ``BEGIN`` (the server restarted since the last call) carried nothing
        of this call: it is replaced at once, once, so a restart the
        service did not see is not a refusal."""
        conn = self._connection()
        try:
            conn.execute("BEGIN")
            return conn
        except Exception as e:
            if not (conn.closed or conn.broken):
                raise
            self._drop_connection()
            self._broken = False
            self.log.info("PostgreSQL connection lost since the last call ({why}); "
                          "connecting again", why=_first_line(e))
        conn = self._connection()
        self.quiet_reconnects += 1
        try:
            conn.execute("BEGIN")
        except Exception as e:
            if conn.closed or conn.broken:
                self._drop_connection()
                raise DatabaseUnavailable(f"lost the database: {_first_line(e)}") from None
            raise
        return conn

    def _drop_connection(self):
        conn, self._conn = self._conn, None
        self._broken = True
        if conn is not None:
            try:
                conn.close()
            except Exception:
                pass

    def _reconnect_job(self):
        self._broken = False
        try:
            conn = self._connection()
            conn.execute("SELECT 1")
        except DatabaseUnavailable:
            raise
        except Exception as e:
            self._drop_connection()
            raise DatabaseUnavailable(_first_line(e)) from None

    def _close_job(self):
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    # ---- the caller's side ---------------------------------------------------------------

    def start(self, clock, deliver) -> None:
        """From now on calls return Deferreds, fired through ``deliver(f,
        *args)`` (``reactor.callFromThread``); reconnection runs on
        ``clock``."""
        self.clock = clock
        self._deliver = deliver
        self.since = clock.seconds()

    @property
    def reconnects(self) -> int:
        """Times a lost connection was replaced: after the link was down,
        or at the start of a call that found it dead."""
        return self._reconnects + self.quiet_reconnects

    @property
    def started(self) -> bool:
        return self._deliver is not None

    @property
    def is_up(self) -> bool:
        return self.state == "up"

    def run(self, work):
        """``work(connection)`` in one transaction, after every call made
        before it: its result (before `start`) or a Deferred of it."""
        if self._closed:
            raise StoreClosed()
        if not self.started:
            return self._thread.submit(self._job, work).result()
        if self.state == "down":
            return defer.fail(DatabaseUnavailable())
        return self._deferred(self._thread.submit(self._job, work), watch=True)

    def _deferred(self, future, watch: bool):
        d = defer.Deferred()

        def fire(future):
            error = future.exception()
            if error is None:
                d.callback(future.result())
                return
            if watch and isinstance(error, DatabaseUnavailable):
                self._went_down(error)
            d.errback(error)
        future.add_done_callback(lambda f: self._deliver(fire, f))
        return d

    def _went_down(self, error) -> None:
        if self.state == "down" or self._closed:
            return
        self.state, self.since = "down", self.clock.seconds()
        self.last_error = str(error)
        self._delay = FIRST_RETRY
        self.log.error("PostgreSQL is unreachable ({why}); changes are refused until it is back",
                       why=str(error))
        self._schedule()

    def _schedule(self) -> None:
        self._retry = self.clock.callLater(self._delay, self._attempt)

    def _attempt(self) -> None:
        self._retry = None
        if self._closed:
            return
        d = self._deferred(self._thread.submit(self._reconnect_job), watch=False)
        d.addCallbacks(self._came_back, self._still_down)

    def _came_back(self, _) -> None:
        if self._closed:
            return
        self.state, self.since = "up", self.clock.seconds()
        self._reconnects += 1
        self.log.info("PostgreSQL is reachable again; changes are stored")

    def _still_down(self, failure) -> None:
        if self._closed:
            return
        why = str(failure.value)
        if why != self.last_error:
            self.log.warn("PostgreSQL is still unreachable: {why}", why=why)
        self.last_error = why
        self._delay = min(self._delay * 2, LONGEST_RETRY)
        self._schedule()

    def as_dict(self) -> dict:
        """The link's state for ``/health`` (``since``: ISO 8601, UTC)."""
        document = {"state": self.state, "reconnects": self.reconnects}
        if self.since is not None:
            since = datetime.datetime.fromtimestamp(self.since, datetime.timezone.utc)
            document["since"] = since.isoformat(timespec="seconds").replace("+00:00", "Z")
        if self.last_error is not None:
            document["last_error"] = self.last_error
        return document

    def acquire(self) -> "DatabaseLink":
        """One more store or archive uses this link."""
        self._users += 1
        return self

    def release(self):
        """A user is done; the last one closes the link (see `close`)."""
        self._users -= 1
        if self._users <= 0:
            return self.close()
        return None

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self):
        """Close the connection after every call already made (a Deferred
        once started)."""
        if self._closed:
            return None
        self._closed = True
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        future = self._thread.submit(self._close_job)
        self._thread.shutdown(wait=False)
        if not self.started:
            future.result()
            return None
        return self._deferred(future, watch=False)


def _first_line(error) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
