"""The transactional outbox (docs/outbox.md): what leaves the app is written in the same unit of work as the
change that causes it, and sent after the commit by a worker (`worker.py`), outside any transaction.

The interface is small on purpose (messages to citizens and ticket prints both use it):

- `enqueue(kind, dedupe_key, payload, event_id=None)` inside a unit of work; a second row with the same
  `dedupe_key` is a quiet no-op, so "at most once per citizen per kind of message" is a key, not a check.
- `register_sender(kind_prefix, send)`: `send(kind, payload)` delivers one row or raises; `Permanent` means
  retrying cannot help (the row is marked failed), anything else is retried with backoff until the
  give-up time (`BOTRAM_OUTBOX_GIVE_UP_MINUTES`).
- `deliver_due()`: one pass of the worker: claim due rows, send each outside any transaction, settle it.

Delivery is AT LEAST ONCE: a row is claimed for a lease; a worker that dies after the gateway accepted a row
but before it marked it sent leaves it to be claimed again when the lease ends, so that one row may arrive
twice. The other choice (mark first, send after) would lose it instead; for "your turn is near" a rare
duplicate does less harm than a lost message. The window is the few milliseconds between the gateway's
answer and the commit of `mark_sent`.
"""
from __future__ import annotations

import logging
import os
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

import sqlalchemy as sa
from flask import current_app

from ...extensions import db
from ...models import Outbox, OutboxStatus
from .. import audit
from ..clock import now
from ..uow import in_unit_of_work, unit_of_work

log = logging.getLogger("botram.outbox")

LEASE_SECONDS = 60  # a claimed row is the claimer's this long: longer than any send may take (apprise: 10 s)
BACKOFF_FIRST = 2.0  # seconds before the first retry, doubled each time
BACKOFF_MAX = 30.0  # a gateway back after an outage gets its messages within half a minute
CLAIM_BATCH = 20

Sender = Callable[[str, dict], None]
_senders: dict[str, Sender] = {}
_wake = threading.Event()
_wake_fd: int | None = None  # the write end of the pipe to the server's outbox process (botram/outbox_process.py)
_t = Outbox.__table__


class Permanent(Exception):
    """Raised by a sender when retrying cannot help (a payload it cannot send): the row is marked failed."""


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    payload: dict
    attempts: int
    event_id: int | None


# --------------------------------------------------------------------------------------------- writing rows

def enqueue(kind: str, dedupe_key: str, payload: dict[str, Any], event_id: int | None = None) -> None:
    """Add a row to the outbox in the current unit of work (so it is committed if and only if the change that
    causes it is). A row with this `dedupe_key` already there: nothing happens, and the transaction goes on."""
    session = db.session()
    if not in_unit_of_work():
        raise RuntimeError("outbox.enqueue belongs inside a unit of work (the change that causes the message)")
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    at = now()
    session.execute(
        insert(_t).values(kind=kind, dedupe_key=dedupe_key, payload=payload, event_id=event_id,
                          status=OutboxStatus.PENDING, attempts=0, next_attempt_at=at, created_at=at)
        .on_conflict_do_nothing(index_elements=["dedupe_key"]))
    session.info["outbox_enqueued"] = True


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _wake_after_commit(session) -> None:
    """A row was committed: this process's worker sends it at once instead of at its next poll."""
    if session.info.pop("outbox_enqueued", False):
        _wake.set()
        if _wake_fd is not None:
            try:
                os.write(_wake_fd, b"!")
            except OSError:  # full (the worker is busy and will look anyway) or gone: never the caller's problem
                pass


def set_wake_pipe(fd: int | None) -> None:
    """Commits of this process (and of processes forked from it) wake the outbox process reading that pipe."""
    global _wake_fd
    _wake_fd = fd


def register_sender(kind_prefix: str, send: Sender) -> None:
    """Rows whose kind starts with `kind_prefix` are delivered by `send(kind, payload)` (the longest prefix
    wins). A process claims only the kinds it has a sender for."""
    _senders[kind_prefix] = send


def unregister_sender(kind_prefix: str) -> None:
    _senders.pop(kind_prefix, None)


def sender_for(kind: str) -> Sender | None:
    matches = [prefix for prefix in _senders if kind.startswith(prefix)]
    return _senders[max(matches, key=len)] if matches else None


def wake_event() -> threading.Event:
    return _wake


# ------------------------------------------------------------------------------------------- the worker's API

def _due(at: datetime, prefixes: list[str], limit: int):
    query = (sa.select(_t.c.id).where(
        _t.c.status == OutboxStatus.PENDING, _t.c.next_attempt_at <= at,
        sa.or_(_t.c.claimed_until.is_(None), _t.c.claimed_until < at),
        sa.or_(*[_t.c.kind.startswith(p, autoescape=True) for p in prefixes]))
        .order_by(_t.c.next_attempt_at, _t.c.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # two workers never wait for, nor take, the same rows
    return query


@unit_of_work(audited=False)
def claim_due(limit: int = CLAIM_BATCH, lease_seconds: int = LEASE_SECONDS) -> list[Claimed]:
    """Take up to `limit` due rows for this worker for `lease_seconds` (SKIP LOCKED on PostgreSQL; on SQLite
    the unit of work's writer lock serialises claimers). The attempt is counted now, before the send."""
    prefixes = sorted(_senders)
    if not prefixes:
        return []
    at = now()
    ids = list(db.session.scalars(_due(at, prefixes, limit)))
    if not ids:
        return []
    rows = db.session.execute(
        sa.update(_t).where(_t.c.id.in_(ids))
        .values(claimed_until=at + timedelta(seconds=lease_seconds), attempts=_t.c.attempts + 1)
        .returning(_t.c.id, _t.c.kind, _t.c.payload, _t.c.attempts, _t.c.event_id)).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: ids.index(c.id))


@unit_of_work
def mark_sent(outbox_id: int) -> bool:
    """The gateway accepted the row. Audited as "sent", with the kind and never the recipient."""
    row = db.session.execute(
        sa.update(_t).where(_t.c.id == outbox_id, _t.c.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENT, sent_at=now(), claimed_until=None, last_error=None)
        .returning(_t.c.kind, _t.c.event_id)).first()
    if row is None:
        return False
    audit.record("outbox.sent", "outbox", outbox_id, event_id=row.event_id, kind=row.kind)
    return True


def backoff_seconds(attempts: int) -> float:
    """2, 4, 8, 16, 30, 30 … seconds, each with up to a fifth more at random (workers do not retry in step)."""
    base = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, attempts - 1))
    return base * random.uniform(1.0, 1.2)


@unit_of_work(audited=False)
def mark_failed(outbox_id: int, error: str, *, permanent: bool = False) -> str:
    """The send failed: retry after a backoff, or give up (past the give-up time, or `permanent`).
    `error` is short and carries no personal data (the exception's type and our own words)."""
    row = db.session.execute(
        sa.select(_t.c.attempts, _t.c.created_at, _t.c.kind, _t.c.event_id)
        .where(_t.c.id == outbox_id, _t.c.status == OutboxStatus.PENDING)).first()
    if row is None:
        return ""
    at = now()
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=at.tzinfo)
    give_up = timedelta(minutes=current_app.config["BOTRAM_OUTBOX_GIVE_UP_MINUTES"])
    retry_at = at + timedelta(seconds=backoff_seconds(row.attempts))
    if permanent:
        status = OutboxStatus.FAILED
    elif retry_at - created > give_up:
        status = OutboxStatus.GIVEN_UP
    else:
        status = OutboxStatus.PENDING
    db.session.execute(sa.update(_t).where(_t.c.id == outbox_id).values(
        status=status, next_attempt_at=retry_at, claimed_until=None, last_error=error[:200]))
    if status != OutboxStatus.PENDING:  # a retry is bookkeeping; giving up is worth an audit line
        audit.record(f"outbox.{status}", "outbox", outbox_id, event_id=row.event_id, kind=row.kind,
                     attempts=row.attempts)
    return status


def _describe(exc: BaseException) -> str:
    """The error as the logs and the admin page show it: its type and our own message, never a payload."""
    return f"{type(exc).__name__}: {exc}"[:200]


def deliver_due(limit: int = CLAIM_BATCH) -> int:
    """One pass of the worker: claim due rows and send each OUTSIDE any transaction (a slow gateway holds no
    lock and no connection), then settle it. Returns how many rows were claimed."""
    claimed = claim_due(limit)
    db.session.remove()  # the claim's connection goes back to the pool for the duration of the sends
    for row in claimed:
        send = sender_for(row.kind)
        try:
            if send is None:
                raise Permanent("no sender for this kind")
            send(row.kind, row.payload)
        except Permanent as exc:
            log.warning("outbox %s (%s) failed for good: %s", row.id, row.kind, _describe(exc))
            mark_failed(row.id, _describe(exc), permanent=True)
        except Exception as exc:  # a dead gateway is a retry, never an error for the caller
            status = mark_failed(row.id, _describe(exc))
            log.warning("outbox %s (%s) attempt %d failed (%s): %s", row.id, row.kind, row.attempts, status,
                        _describe(exc))
        else:
            mark_sent(row.id)
        db.session.remove()
    return len(claimed)


# ----------------------------------------------------------------------------------------------- the admin's view

@dataclass(frozen=True)
class Health:
    pending: int
    failing: int  # pending rows whose last attempt failed: the gateway is down or refusing
    given_up_recently: int  # in the last hour
    oldest_pending_at: datetime | None
    last_error: str | None

    @property
    def warning(self) -> bool:
        return bool(self.failing or self.given_up_recently)


def health(kind_prefix: str = "") -> Health:
    """What the admin page warns about: rows that are failing now and rows given up in the last hour."""
    like = _t.c.kind.startswith(kind_prefix, autoescape=True)
    pending = _t.c.status == OutboxStatus.PENDING
    counts = db.session.execute(sa.select(
        sa.func.count().filter(pending),
        sa.func.count().filter(pending, _t.c.last_error.is_not(None)),
        sa.func.count().filter(_t.c.status.in_([OutboxStatus.GIVEN_UP, OutboxStatus.FAILED]),
                               _t.c.next_attempt_at > now() - timedelta(hours=1)),
        sa.func.min(_t.c.created_at).filter(pending),
    ).where(like)).one()
    last_error = db.session.scalar(
        sa.select(_t.c.last_error).where(like, _t.c.last_error.is_not(None), _t.c.status != OutboxStatus.SENT)
        .order_by(_t.c.next_attempt_at.desc()).limit(1))
    return Health(*counts, last_error=last_error)
