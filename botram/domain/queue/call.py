"""A desk calls: the next eligible visitor (atomically, fairly between priority and regular visitors),
the same visitor again, and the desk opened, paused or closed.

A visit is never called at two desks at once: `Visit.busy_desk_id` is claimed with a conditional UPDATE,
and the visit's other steps keep their place while it is busy."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import ACTIVE_STEP_STATES, Desk, DeskState, Event, EventStatus, Priority, Step, Visit, desk_service
from .. import Conflict, DomainError, NotFound, audit
from ..clock import now
from ..field import ensure_queue_writable
from ..queue_rules import DEFAULT as DEFAULT_RULES
from ..queue_rules import QueueRules
from ..uow import bump_version, unit_of_work
from .read import loaded_step
from .shared import CALLED, WAITING, current_step_id, lock_step, require_status

CANDIDATES = 8  # rows fetched per call_next round; more are fetched only under contention


_desk_t, _event_t, _step_t, _visit_t = Desk.__table__, Event.__table__, Step.__table__, Visit.__table__

# call_next runs on every "Panggil" press: its statements are built once (Core, bound parameters) so a call
# costs a few indexed statements and little Python.
# The desk's services, as a subquery: the desk row, the busy check and the candidates need no list in Python.
_DESK_SERVICES = sa.select(desk_service.c.service_id).where(desk_service.c.desk_id == sa.bindparam("desk_id"))
_DESK_ROW = (
    sa.select(_desk_t.c.event_id, _desk_t.c.state, _desk_t.c.priority_streak, _event_t.c.status,
              sa.exists().where(_step_t.c.event_id == _desk_t.c.event_id, _step_t.c.desk_id == _desk_t.c.id,
                                _step_t.c.service_id.in_(_DESK_SERVICES),
                                _step_t.c.status.in_(ACTIVE_STEP_STATES)).label("busy"))
    .join(_event_t, _event_t.c.id == _desk_t.c.event_id).where(_desk_t.c.id == sa.bindparam("desk_id"))
    .with_for_update(of=_desk_t, key_share=True)
)


def _candidate_query(regular_only: bool):
    query = (
        sa.select(_step_t.c.id, _step_t.c.visit_id, _step_t.c.priority_rank)
        .join(_visit_t, _visit_t.c.id == _step_t.c.visit_id)
        .where(_step_t.c.event_id == sa.bindparam("event_id"),
               _step_t.c.service_id.in_(_DESK_SERVICES),
               _step_t.c.status == WAITING, _visit_t.c.busy_desk_id.is_(None),
               _step_t.c.id.not_in(sa.bindparam("exclude", expanding=True)))
        .order_by(_step_t.c.priority_rank, _step_t.c.arrived_at, _step_t.c.id)
        .limit(sa.bindparam("limit"))
    )
    if regular_only:
        query = query.where(_step_t.c.priority_rank == Priority.NONE.rank)
    return query


_CANDIDATES = {False: _candidate_query(False), True: _candidate_query(True)}
_CLAIM_VISIT = (
    sa.update(_visit_t).where(_visit_t.c.id == sa.bindparam("v_id"), _visit_t.c.busy_desk_id.is_(None))
    .values(busy_desk_id=sa.bindparam("desk"))
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
    priority_streak=sa.bindparam("streak"))


def _candidates(event_id: int, desk_id: int, *, regular_only: bool, exclude: set[int],
                limit: int) -> list[tuple[int, int, int]]:
    """(step id, visit id, priority rank) of eligible waiting steps in queue order."""
    rows = db.session.execute(_CANDIDATES[regular_only], {
        "event_id": event_id, "desk_id": desk_id, "exclude": sorted(exclude), "limit": limit})
    return [tuple(row) for row in rows]


def call_next(desk_id: int, *, by_user_id: int, rules: QueueRules = DEFAULT_RULES) -> Step | None:
    """Claim the next eligible step for the desk, atomically; None when no one eligible waits.

    The step comes back with its visit, service and desk, loaded after the commit: the writer lock is
    held no longer than the claim itself, and the caller needs no lazy loads to answer.
    """
    step_id = _claim_next(desk_id, by_user_id=by_user_id, priority_cap=rules.priority_cap)
    return None if step_id is None else loaded_step(step_id)


@unit_of_work
def _claim_next(desk_id: int, *, by_user_id: int, priority_cap: int) -> int | None:
    """The id of the step claimed for the desk, or None.

    The desk row is locked first (a double press cannot call two visitors to one desk); each candidate is
    claimed by a conditional UPDATE of its visit (`busy_desk_id IS NULL`), then of the step
    (`status = 'waiting'`); a candidate another desk took in the meantime is skipped.
    """
    row = db.session.execute(_DESK_ROW, {"desk_id": desk_id}).first()
    if row is None:
        raise NotFound(_l("Loket tidak ditemukan."))
    event_id, state, streak, event_status, busy = row
    ensure_queue_writable(event_id)
    if event_status != EventStatus.OPEN.value:
        raise DomainError(_l("Acara belum dibuka atau sudah ditutup."))
    if state != DeskState.OPEN.value:
        raise DomainError(_l("Loket sedang dijeda atau ditutup; buka loket untuk memanggil."))
    if busy:
        raise Conflict(_l("Loket ini masih memanggil atau melayani pengunjung; selesaikan dulu."))

    regular_first = streak >= priority_cap
    tried: set[int] = set()
    at = now()
    while True:
        candidates = []
        if regular_first:
            candidates = _candidates(event_id, desk_id, regular_only=True, exclude=tried, limit=CANDIDATES)
        if not candidates:
            candidates = _candidates(event_id, desk_id, regular_only=False, exclude=tried, limit=CANDIDATES)
        if not candidates:
            return None
        for step_id, visit_id, rank in candidates:
            tried.add(step_id)
            if db.session.execute(_CLAIM_VISIT, {"v_id": visit_id, "desk": desk_id}).rowcount != 1:
                continue
            taken = db.session.execute(_CLAIM_STEP, {"s_id": step_id, "desk": desk_id, "at": at,
                                                     "user": by_user_id}).rowcount
            if taken != 1:
                db.session.execute(_UNCLAIM_VISIT, {"v_id": visit_id, "desk": desk_id})
                continue
            new_streak = 0 if rank == Priority.NONE.rank else streak + 1
            if new_streak != streak:
                db.session.execute(_SET_STREAK, {"d_id": desk_id, "streak": new_streak})
            audit.record("step.call", "step", step_id, user_id=by_user_id, event_id=event_id, desk_id=desk_id,
                         visit_id=visit_id, priority=rank == 0)
            db.session.flush()
            bump_version(event_id)
            return step_id


@unit_of_work
def recall(step_id: int, *, by_user_id: int, rules: QueueRules = DEFAULT_RULES) -> Step:
    """Announce a called step again; refused once it was recalled `rules.max_recalls` times."""
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
    if state == DeskState.CLOSED.value and current_step_id(desk.id) is not None:
        raise Conflict(_l("Loket masih memanggil atau melayani pengunjung; selesaikan dulu sebelum menutup."))
    previous = desk.state
    desk.state = state
    db.session.flush()
    audit.record("desk.state", "desk", desk.id, user_id=by_user_id, event_id=desk.event_id,
                 before=previous, after=state)
    bump_version(desk.event_id)
    return desk
