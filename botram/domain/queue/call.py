"""A desk calls: the next eligible visitor (atomically, fairly between priority and regular visitors),
the same visitor again, and the desk opened, paused or closed.

A visit is never called at two desks at once: `Visit.busy_desk_id` is claimed with a conditional UPDATE,
and the visit's other steps keep their place while it is busy."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import ACTIVE_STEP_STATES, Desk, DeskState, Event, EventStatus, Step, Visit, desk_service
from .. import Conflict, DomainError, NotFound, audit, notify
from ..clock import now
from ..field import ensure_queue_writable
from ..queue_rules import QueueRules, current_rules
from ..uow import bump_version, unit_of_work
from . import order
from .read import loaded_step
from .shared import CALLED, WAITING, current_step_id, lock_step, require_status

CANDIDATES = 8  # rows fetched per call_next round; more are fetched only under contention


_desk_t, _event_t, _step_t, _visit_t = Desk.__table__, Event.__table__, Step.__table__, Visit.__table__

# call_next runs on every "Panggil" press: its statements are built once (Core, bound parameters) so a call
# costs a few indexed statements and little Python.
# The desk's services, as a subquery: the desk row, the busy check and the candidates need no list in Python.
_DESK_SERVICES = sa.select(desk_service.c.service_id).where(desk_service.c.desk_id == sa.bindparam("desk_id"))
_DESK_ROW = (
    sa.select(_desk_t.c.event_id, _desk_t.c.state, _desk_t.c.priority_streak, _desk_t.c.booked_streak,
              _event_t.c.status,
              sa.exists().where(_step_t.c.event_id == _desk_t.c.event_id, _step_t.c.desk_id == _desk_t.c.id,
                                _step_t.c.service_id.in_(_DESK_SERVICES),
                                _step_t.c.status.in_(ACTIVE_STEP_STATES)).label("busy"))
    .join(_event_t, _event_t.c.id == _desk_t.c.event_id).where(_desk_t.c.id == sa.bindparam("desk_id"))
    .with_for_update(of=_desk_t, key_share=True)
)


def _candidate_query(regular_only: bool, walk_in_only: bool = False):
    query = (
        sa.select(_step_t.c.id, _step_t.c.visit_id, _step_t.c.priority_rank,
                  order.band(_step_t.c, "at_now") == order.DUE)
        .join(_visit_t, _visit_t.c.id == _step_t.c.visit_id)
        .where(_step_t.c.event_id == sa.bindparam("event_id"),
               _step_t.c.service_id.in_(_DESK_SERVICES),
               _step_t.c.status == WAITING, _visit_t.c.busy_desk_id.is_(None),
               _step_t.c.id.not_in(sa.bindparam("exclude", expanding=True)))
        .order_by(*order.key_columns(_step_t, "at_now"))
        .limit(sa.bindparam("limit"))
        # PostgreSQL: a candidate another desk is claiming this instant is passed over, not waited for (its
        # claim would fail after that desk's commit anyway). Five desks pressing at once then each take a
        # different visitor in one round instead of queuing behind each other's commits. SQLite ignores it
        # (its writer lock already makes the claim one at a time).
        .with_for_update(of=(_step_t, _visit_t), skip_locked=True)
    )
    if regular_only:
        query = query.where(_step_t.c.priority_rank == order.REGULAR)
    if walk_in_only:
        query = query.where(order.band(_step_t.c, "at_now") == order.NOT_DUE)
    return query


_CLAIM_VISIT = (
    sa.update(_visit_t).where(_visit_t.c.id == sa.bindparam("v_id"), _visit_t.c.busy_desk_id.is_(None))
    .values(busy_desk_id=sa.bindparam("desk")).returning(_visit_t.c.notify)  # opted in to messages?
)
_UNCLAIM_VISIT = (
    sa.update(_visit_t).where(_visit_t.c.id == sa.bindparam("v_id"), _visit_t.c.busy_desk_id == sa.bindparam("desk"))
    .values(busy_desk_id=None)
)
_CLAIM_STEP = (
    sa.update(_step_t).where(_step_t.c.id == sa.bindparam("s_id"), _step_t.c.status == WAITING)
    .values(status=CALLED, desk_id=sa.bindparam("desk"), called_at=sa.bindparam("at"),
            served_by_id=sa.bindparam("user"), started_at=None, finished_at=None)
)
_SET_STREAK = sa.update(_desk_t).where(_desk_t.c.id == sa.bindparam("d_id")).values(
    priority_streak=sa.bindparam("streak"), booked_streak=sa.bindparam("booked_streak"))


def _candidates(event_id: int, desk_id: int, *, regular_only: bool, exclude: set[int], limit: int,
                at=None, walk_in_only: bool = False) -> list[tuple[int, int, int, bool]]:
    """(step id, visit id, priority rank, due) of eligible waiting steps in queue order."""
    # Built once per app (once per server process) on first use, not at import: code that runs at import is
    # out of mutation testing's reach, and every test's own app builds them again, so mutmut sees every test
    # that depends on the queue order (docs/mutation-testing.md).
    built = current_app.extensions.setdefault("botram.call_candidates", {})
    key = (regular_only, True) if walk_in_only else regular_only
    statement = built.get(key)
    if statement is None:
        statement = built[key] = _candidate_query(regular_only, walk_in_only)
    rows = db.session.execute(statement, {
        "event_id": event_id, "desk_id": desk_id, "exclude": sorted(exclude), "limit": limit, "at_now": at or now()})
    return [tuple(row) for row in rows]


def call_next(desk_id: int, *, by_user_id: int, rules: QueueRules | None = None) -> Step | None:
    """Claim the next eligible step for the desk, atomically; None when no one eligible waits.

    The step comes back with its visit, service and desk, loaded after the commit: the writer lock is
    held no longer than the claim itself, and the caller needs no lazy loads to answer.
    """
    rules = rules or current_rules()
    step_id = _claim_next(desk_id, by_user_id=by_user_id, priority_cap=rules.priority_cap,
                          booking_cap=rules.booking_cap)
    return None if step_id is None else loaded_step(step_id)


@unit_of_work
def _claim_next(desk_id: int, *, by_user_id: int, priority_cap: int, booking_cap: int) -> int | None:
    """The id of the step claimed for the desk, or None.

    The desk row is locked first (a double press cannot call two visitors to one desk); each candidate is
    claimed by a conditional UPDATE of its visit (`busy_desk_id IS NULL`), then of the step
    (`status = 'waiting'`); a candidate another desk took in the meantime is skipped.
    """
    row = db.session.execute(_DESK_ROW, {"desk_id": desk_id}).first()
    if row is None:
        raise NotFound(_l("Loket tidak ditemukan."))
    event_id, state, streak, booked_streak, event_status, busy = row
    ensure_queue_writable(event_id)
    if event_status != EventStatus.OPEN:
        raise DomainError(_l("Acara belum dibuka atau sudah ditutup."))
    if state != DeskState.OPEN:
        raise DomainError(_l("Loket sedang dijeda atau ditutup; buka loket untuk memanggil."))
    if busy:
        raise Conflict(_l("Loket ini masih memanggil atau melayani pengunjung; selesaikan dulu."))

    regular_first = order.regular_first(streak, priority_cap)
    # PostgreSQL locks every candidate it returns (SKIP LOCKED, see _candidate_query): take one at a time, so
    # desks pressing together never hide the whole queue from each other.
    limit = 1 if db.session.get_bind().dialect.name == "postgresql" else CANDIDATES
    walk_in_first = order.walk_in_first(booked_streak, booking_cap)
    tried: set[int] = set()
    at = now()
    # The same preference order as order.pick: both caps owed, then the priority one, then the walk-ins' one.
    wanted = [(r, w) for r, w in ((regular_first, walk_in_first), (regular_first, False), (False, walk_in_first))
              if r or w] + [(False, False)]
    while True:
        candidates = []
        for regular_only, walk_in_only in wanted:
            candidates = _candidates(event_id, desk_id, regular_only=regular_only, walk_in_only=walk_in_only,
                                     exclude=tried, limit=limit, at=at)
            if candidates:
                break
        if not candidates:
            return None
        for step_id, visit_id, rank, due in candidates:
            tried.add(step_id)
            claimed = db.session.execute(_CLAIM_VISIT, {"v_id": visit_id, "desk": desk_id}).first()
            if claimed is None:
                continue
            taken = db.session.execute(_CLAIM_STEP, {"s_id": step_id, "desk": desk_id, "at": at,
                                                     "user": by_user_id}).rowcount
            if taken != 1:
                db.session.execute(_UNCLAIM_VISIT, {"v_id": visit_id, "desk": desk_id})
                continue
            new_streak = order.next_streak(streak, rank)
            new_booked = order.next_booked_streak(booked_streak, bool(due))
            if (new_streak, new_booked) != (streak, booked_streak):
                db.session.execute(_SET_STREAK, {"d_id": desk_id, "streak": new_streak,
                                                 "booked_streak": new_booked})
            audit.record("step.call", "step", step_id, user_id=by_user_id, event_id=event_id, desk_id=desk_id,
                         visit_id=visit_id, priority=rank != order.REGULAR, booked=bool(due))
            if claimed.notify:  # the message is committed with the call, or neither is
                notify.queue_called(step_id, visit_id, desk_id)
            db.session.flush()
            bump_version(event_id)
            return step_id


@unit_of_work
def recall(step_id: int, *, by_user_id: int, rules: QueueRules | None = None) -> Step:
    """Announce a called step again; refused once it was recalled `rules.max_recalls` times (the app's rules
    unless a test hands others)."""
    rules = rules or current_rules()
    step = lock_step(step_id)
    require_status(step, (CALLED,), _l("dipanggil ulang"))
    if step.recall_count >= rules.max_recalls:
        raise DomainError(_l("Pengunjung ini sudah dipanggil %(n)d kali; tandai tidak hadir.", n=step.recall_count))
    step.recall_count += 1
    step.called_at = now()
    db.session.flush()
    audit.record("step.recall", "step", step.id, user_id=by_user_id, event_id=step.event_id,
                 desk_id=step.desk_id, recall_count=step.recall_count)
    bump_version(step.event_id)
    return step


@unit_of_work
def set_desk_state(desk_id: int, state: str, *, by_user_id: int) -> Desk:
    """Open, pause or close a desk; closing waits until its current visitor is finished."""
    desk = db.session.scalar(
        sa.select(Desk).where(Desk.id == desk_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True))
    if desk is None:
        raise NotFound(_l("Loket tidak ditemukan."))
    ensure_queue_writable(desk.event_id)
    if state not in {s.value for s in DeskState}:
        raise DomainError(_l("Status loket tidak dikenal."), field="state")
    if state == DeskState.CLOSED and current_step_id(desk.id) is not None:
        raise Conflict(_l("Loket masih memanggil atau melayani pengunjung; selesaikan dulu sebelum menutup."))
    previous = desk.state
    desk.state = state
    db.session.flush()
    audit.record("desk.state", "desk", desk.id, user_id=by_user_id, event_id=desk.event_id,
                 before=previous, after=state)
    bump_version(desk.event_id)
    return desk
