"""The one unit of work: every write in BOTRAM runs through `unit_of_work` (docs/unit-of-work.md).

A decorated domain function is one transaction:

1. it begins the write the way the database needs: on SQLite a read transaction the request left open is
   ended (SQLite cannot turn a reader into a writer once another writer committed, it fails at once with
   "database is locked") and `BEGIN IMMEDIATE` takes the writer lock up front, queued behind an in-process
   lock; on PostgreSQL (read committed) the request's transaction simply continues;
2. it runs the function, which changes rows, records its audit entry (`audit.record`) and says which events
   changed (`bump_version`);
3. it commits, retrying the whole function when the database says the attempt may be retried (a PostgreSQL
   deadlock or serialization failure, a busy SQLite, a connection lost before the commit was sent);
4. after the commit, `board_watch` wakes the boards, desk consoles and status pages of the changed events.

Views and the CLI never commit: they call a decorated domain function. Calls nest: a unit of work called
from inside another joins it, so composing domain functions stays one transaction.
"""
from __future__ import annotations

import contextlib
import functools
import random
import threading
import time
from typing import Callable, Iterable, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Event, EventStatus
from ..sqlite_tuning import write_transaction

RETRIES = 5
T = TypeVar("T")

# One writer at a time inside this process on SQLite. SQLite serialises writers anyway (BEGIN IMMEDIATE),
# but a writer that finds the database locked sleeps in SQLite's busy handler (up to 100 ms a nap), so
# under a burst of desks some wait far longer than the work takes. Queuing on a lock first keeps the wait
# close to the sum of the work ahead. Other processes still meet the busy timeout as before.
_SQLITE_WRITERS = threading.RLock()

_DEPTH = "uow_depth"
_AUDITED = "uow_audited"
_WROTE = "uow_wrote"
_FIRST = "uow_first"
_BOOKKEEPING = frozenset({"AuditLog", "IdempotentRequest"})


_OBSERVERS: list[Callable[[str, str], None]] = []


def observe(callback: Callable[[str, str], None]) -> None:
    """Learn of every retry and database failure of a unit of work: `callback("retry" | "failure", reason)`.
    botram/metrics.py counts them; the domain itself stays free of any monitoring library."""
    if callback not in _OBSERVERS:
        _OBSERVERS.append(callback)


def _note(kind: str, reason: str) -> None:
    for callback in _OBSERVERS:
        callback(kind, reason)


class Unaudited(AssertionError):
    """A unit of work declared as audited committed nothing to the audit log: a programming error."""


class DatabaseUnavailable(Exception):
    """The database could not be reached (or went away mid-request). Pages and the API answer 503."""


def is_connection_error(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached, not that a statement was wrong."""
    if isinstance(exc, DatabaseUnavailable):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    orig = getattr(exc, "orig", None)
    try:
        from psycopg import OperationalError as PgOperationalError
        from psycopg import errors as pg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    if isinstance(orig, (pg.AdminShutdown, pg.CannotConnectNow, pg.ConnectionFailure)):
        return True
    if isinstance(orig, PgOperationalError) and getattr(orig, "sqlstate", None) is None:
        return True  # psycopg raises a bare OperationalError when it cannot connect at all
    return False


def _retryable(exc: Exception, sqlite: bool) -> bool:
    """May the whole unit of work simply be run again?"""
    orig = getattr(exc, "orig", None)
    if sqlite:
        # BEGIN IMMEDIATE waits out the busy timeout; a "locked" past it is worth one more go.
        return "database is locked" in str(orig or exc) or "database is busy" in str(orig or exc)
    try:
        from psycopg import errors as pg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(orig, (pg.DeadlockDetected, pg.SerializationFailure, pg.LockNotAvailable))


def _refuse_changes_made_outside() -> None:
    """A row a view changed before calling the domain would be written by this unit under another action's audit
    entry (or, on SQLite, by ending the read transaction with a commit): a programming error, refused."""
    session = db.session()
    changed = [*session.new, *session.deleted, *(o for o in session.dirty if session.is_modified(o))]
    if changed:
        session.rollback()
        raise Unaudited(f"rows changed outside a unit of work: {sorted({type(o).__name__ for o in changed})}")


def _end_read() -> None:
    """End the read transaction the request left open, without committing it."""
    if db.session().in_transaction():
        db.session.rollback()


def _begin(sqlite: bool) -> None:
    """Start a writer transaction (see the module docstring for why SQLite ends its reader first)."""
    if sqlite:
        _end_read()
    write_transaction(db.session)


def unit_of_work(fn: Callable[..., T] | None = None, *, audited: bool = True):
    """Run the decorated function as one write transaction (module docstring).

    `audited=False` is for bookkeeping that is not an action of a person (a session's last-seen time, a
    token's last use, a failed sign-in counted for the lockout); everything else must call `audit.record`,
    and a unit of work that did not is refused at commit time rather than left unaccounted for.
    """

    def decorate(inner: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(inner)
        def wrapper(*args, **kwargs) -> T:
            session = db.session()
            if session.info.get(_DEPTH):
                return inner(*args, **kwargs)  # joins the unit of work already running
            return _run(inner, args, kwargs, audited)

        wrapper.unit_of_work = True  # type: ignore[attr-defined]  (tests walk the domain for this mark)
        return wrapper

    return decorate(fn) if fn is not None else decorate


def _run(fn: Callable[..., T], args, kwargs, audited: bool) -> T:
    _refuse_changes_made_outside()
    sqlite = db.engine.dialect.name == "sqlite"
    guard = _SQLITE_WRITERS if sqlite else contextlib.nullcontext()
    reconnected = False
    attempt = 0
    while True:
        attempt += 1
        # Never wait for the writer lock while holding a pooled connection: the writer in front of us may
        # need one, and a pool drained by waiters would stall everyone until the pool timeout.
        if sqlite:
            _end_read()
        committing = False
        with guard:
            session = db.session()
            session.info[_DEPTH] = 1
            session.info[_AUDITED] = session.info[_WROTE] = False
            try:
                _begin(sqlite)
                for first in session.info.get(_FIRST, ()):
                    first()
                result = fn(*args, **kwargs)
                session.flush()
                if audited and session.info.get(_WROTE) and not session.info.get(_AUDITED):
                    raise Unaudited(f"{fn.__module__}.{fn.__qualname__} wrote without an audit entry")
                committing = True
                session.commit()
                session.info.pop(_FIRST, None)  # done once, with the first write of the request
                return result
            except (OperationalError, DBAPIError) as exc:
                session.rollback()
                if is_connection_error(exc):
                    # Lost before the commit was sent: nothing was written, one fresh try is safe. Lost
                    # during the commit: it may have been written, so the caller must not repeat it blindly
                    # (the API's Idempotency-Key is how a device repeats safely).
                    if committing or reconnected:
                        _note("failure", "unavailable")
                        raise DatabaseUnavailable(str(exc.orig or exc)) from exc
                    reconnected = True
                    _note("retry", "reconnect")
                    time.sleep(0.2)  # a restarting server needs a moment before it accepts again
                    continue
                if not _retryable(exc, sqlite):
                    _note("failure", "error")
                    raise
                if attempt >= RETRIES:
                    _note("failure", "retries_exhausted")
                    raise
                _note("retry", "locked" if sqlite else "conflict")
            except BaseException:
                session.rollback()
                raise
            finally:
                for key in (_DEPTH, _AUDITED, _WROTE):
                    session.info.pop(key, None)
        time.sleep(random.uniform(0.005, 0.03) * attempt)


@sa.event.listens_for(Session, "before_flush")
def _note_rows_written(session, flush_context, instances) -> None:
    """A unit of work that changes rows through the ORM owes an audit entry (see `unit_of_work`).

    An API idempotency key is not such a row: it keeps the answer of the write it guards, and a write that
    turned out to change nothing (a call-next with no one waiting) must still keep its key so the repeat
    answers the same."""
    if not session.info.get(_DEPTH):
        return
    changed = [*session.new, *session.deleted, *(o for o in session.dirty if session.is_modified(o))]
    if any(type(obj).__name__ not in _BOOKKEEPING for obj in changed):
        session.info[_WROTE] = True


def in_unit_of_work() -> bool:
    """True inside a running unit of work (the outbox refuses rows written anywhere else)."""
    return bool(db.session().info.get(_DEPTH))


def first_in_next_unit(callback: Callable[[], None]) -> None:
    """Run `callback` at the start of the next unit of work of this request, inside its transaction (and
    again on each retry of it, as the transaction it wrote into was rolled back). The API's idempotency
    keys use it, so that a key is stored if and only if the write it guards was committed."""
    db.session().info.setdefault(_FIRST, []).append(callback)


def forget_first() -> None:
    db.session().info.pop(_FIRST, None)


def note_audited() -> None:
    """Called by `audit.record`: this unit of work has its audit entry."""
    db.session().info[_AUDITED] = True


# ---------------------------------------------------------------------------------------- announcing changes

_BUMP = (
    sa.update(Event.__table__).where(Event.__table__.c.id == sa.bindparam("e_id"))
    .values(queue_version=Event.__table__.c.queue_version + 1)
)
# PostgreSQL: the same statement also queues a NOTIFY, which the server delivers at the commit (and never on
# a rollback) to every process listening (board_watch): their screens learn of the change without a poll.
# Identical notifications of one transaction are delivered once. No extra round trip.
NOTIFY_CHANNEL = "botram_queue"
_BUMP_AND_NOTIFY = _BUMP.returning(
    sa.func.pg_notify(NOTIFY_CHANNEL, sa.cast(Event.__table__.c.id, sa.String)))


def bump_version(event_id: int) -> None:
    """Say that what an event's screens show has changed: `UPDATE event SET queue_version = queue_version + 1`.

    The one way to change the version (never read it and write it back: a desk call committing in between
    would lose a bump and two board states would share one version). Queue writes, event settings (hours,
    running text, desks, status) and sponsors thanked all call it; boards, desk consoles and status pages
    listen for the version. Pending ORM changes are flushed first so the increment is the last statement.
    """
    db.session.flush()
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    db.session.execute(_BUMP_AND_NOTIFY if postgresql else _BUMP, {"e_id": event_id})
    db.session.info[_WROTE] = True
    # Read by the board watcher after the commit, to wake this process's boards without waiting for a poll.
    db.session.info.setdefault("bumped_events", set()).add(event_id)


def bump_versions(event_ids: Iterable[int]) -> None:
    """Several events, in id order (a fixed lock order: two such writes cannot deadlock each other)."""
    for event_id in sorted(set(event_ids)):
        bump_version(event_id)


def bump_open_events() -> None:
    """Every open event (the boards that are on a projector now): for changes that are not tied to one
    event, such as a sponsor of the whole programme or an agency's colour."""
    bump_versions(db.session.scalars(sa.select(Event.id).where(Event.status == EventStatus.OPEN)))
