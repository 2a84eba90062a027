"""The queue: issuing tickets, calling, serving and moving steps, and reading the queue cheaply.

Every waiting step sits in its service's queue from registration, ordered by priority rank, then arrival
time, then id. A visit is never called at two desks at once: `Visit.busy_desk_id` is claimed with a
conditional UPDATE, and the visit's other steps keep their place while it is busy.

Writes follow one pattern (see docs/queue-domain.md): `write_transaction` first (BEGIN IMMEDIATE on SQLite),
rows locked in a fixed order (desk → visit → step → event) so PostgreSQL cannot deadlock on our own
writes, an audit entry, `bump_version` as the last statement, commit. A broken rule rolls everything back.
"""
from __future__ import annotations

import contextlib
import functools
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

import lokal
import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.exc import IntegrityError, OperationalError

from ..extensions import db
from ..models import (
    ACTIVE_STEP_STATES, Desk, DeskState, Event, EventStatus, Priority, Requirement, Service, Step, StepStatus,
    Visit, desk_service,
)
from ..sqlite_tuning import write_transaction
from . import Conflict, DomainError, NotFound, audit, money
from .clock import now
from .ids import parse_id
from .nik import check_nik

WAITING = StepStatus.WAITING.value
CALLED = StepStatus.CALLED.value
SERVING = StepStatus.SERVING.value
LIVE_STEP_STATES = (WAITING, CALLED, SERVING)
OUTCOMES = ("done", "incomplete", "referred")
MAX_AMOUNT = money.MAX_RUPIAH  # the one upper bound of every amount (botram/domain/money.py)
MAX_NOTE = 1000
MAX_NAME = 120
CANDIDATES = 8  # rows fetched per call_next round; more are fetched only under contention
RETRIES = 5


# ---------------------------------------------------------------------------------------------- results


@dataclass
class IssuedVisit:
    visit: Visit
    warnings: list[str] = field(default_factory=list)


@dataclass
class WaitingRow:
    step: Step
    visit_code: str
    service_code: str
    priority: str
    waited_minutes: int
    busy: bool
    other_services: list[str] = field(default_factory=list)


@dataclass
class StepView:
    """One step of a visit as the public status page shows it (no personal data)."""

    step_id: int
    position: int
    service_id: int
    service_code: str
    service_name: str
    status: str
    outcome: str | None
    people_ahead: int
    estimated_minutes: int | None
    desk_number: int | None
    desk_label: str | None


@dataclass
class VisitStatus:
    code: str
    event_id: int
    event_title: str
    priority: str
    queue_version: int
    steps: list[StepView] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return all(s.status not in LIVE_STEP_STATES for s in self.steps)


# ------------------------------------------------------------------------------------- transaction glue


def _retryable(exc: Exception) -> bool:
    """A PostgreSQL deadlock or serialization failure: the whole unit of work can simply be run again."""
    orig = getattr(exc, "orig", None)
    try:
        from psycopg import errors as pg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(orig, (pg.DeadlockDetected, pg.SerializationFailure, pg.LockNotAvailable))


# One writer at a time inside this process on SQLite. SQLite serialises writers anyway (BEGIN IMMEDIATE),
# but a writer that finds the database locked sleeps in SQLite's busy handler (up to 100 ms a nap), so
# under a burst of desks some wait far longer than the work takes. Queuing on a lock first keeps the wait
# close to the sum of the work ahead. Other processes still meet the busy timeout as before.
_SQLITE_WRITERS = threading.RLock()


def _unit_of_work(fn):
    """Run `fn` as one write transaction: roll back on any error, retry on deadlock/serialization."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        sqlite = db.engine.dialect.name == "sqlite"
        guard = _SQLITE_WRITERS if sqlite else contextlib.nullcontext()
        for attempt in range(RETRIES):
            # Never wait for the writer lock while holding a pooled connection: the writer in front of us
            # may need one, and a pool drained by waiters would stall everyone until the pool timeout.
            if sqlite and db.session().in_transaction():
                db.session.commit()
            with guard:
                try:
                    _begin_write(sqlite)
                    result = fn(*args, **kwargs)
                    db.session.commit()
                    return result
                except OperationalError as exc:
                    db.session.rollback()
                    if attempt + 1 == RETRIES or not _retryable(exc):
                        raise
                except BaseException:
                    db.session.rollback()
                    raise
            time.sleep(random.uniform(0.005, 0.03) * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper


def _begin_write(sqlite: bool) -> None:
    """Start a writer transaction. On SQLite a read transaction the caller left open (loading the user, the
    desk) is ended first: SQLite cannot turn a reader into BEGIN IMMEDIATE, and its snapshot is stale.
    PostgreSQL (read committed) sees every committed row at each statement, so the unit of work simply
    continues the request's transaction: no extra commit, connection check-out and BEGIN on every press."""
    if sqlite and db.session().in_transaction():
        db.session.commit()
    write_transaction(db.session)


_BUMP = (
    sa.update(Event.__table__).where(Event.__table__.c.id == sa.bindparam("e_id"))
    .values(queue_version=Event.__table__.c.queue_version + 1)
)


def bump_version(event_id: int) -> None:
    """`UPDATE event SET queue_version = queue_version + 1` — the last statement of every queue write.
    Pending ORM changes (the audit entry) are flushed first so this really is the last one."""
    db.session.flush()
    db.session.execute(_BUMP, {"e_id": event_id})
    # Read by the board watcher after the commit, to wake this process's boards without waiting for a poll.
    db.session.info.setdefault("bumped_events", set()).add(event_id)


def _lock_visit(visit_id: int) -> Visit:
    visit = db.session.scalar(
        sa.select(Visit).where(Visit.id == visit_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if visit is None:
        raise NotFound("Tiket tidak ditemukan.")
    return visit


def _lock_step(step_id: int) -> Step:
    """The step and its visit, locked visit first (the order call_next uses)."""
    visit_id = db.session.scalar(sa.select(Step.visit_id).where(Step.id == step_id))
    if visit_id is None:
        raise NotFound("Antrean tidak ditemukan.")
    _lock_visit(visit_id)
    return db.session.scalar(
        sa.select(Step).where(Step.id == step_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def _release_visit(step: Step) -> None:
    """Clear the visit's busy mark if this step's desk holds it."""
    db.session.execute(
        sa.update(Visit).where(Visit.id == step.visit_id, Visit.busy_desk_id == step.desk_id)
        .values(busy_desk_id=None),
        execution_options={"synchronize_session": False},
    )


def _require_status(step: Step, allowed: tuple[str, ...], action: str) -> None:
    if step.status not in allowed:
        raise Conflict(f"Antrean ini tidak dapat {action}: statusnya {_STATUS_LABEL.get(step.status, step.status)}.")


_STATUS_LABEL = {
    "waiting": "menunggu", "called": "dipanggil", "serving": "sedang dilayani", "done": "selesai",
    "no_show": "tidak hadir", "transferred": "dialihkan", "cancelled": "dibatalkan",
}


def _services_offered(event_id: int) -> set[int]:
    return set(db.session.scalars(
        sa.select(desk_service.c.service_id).join(Desk, Desk.id == desk_service.c.desk_id)
        .where(Desk.event_id == event_id).distinct()
    ))


# ------------------------------------------------------------------------------------------------ visits


def _clean_ids(raw, field_name: str, message: str) -> list[int]:
    ids: list[int] = []
    for value in raw or []:
        # ids a row could have, from ints or ASCII digits: 2**70 or "٣" never reaches SQL, 1.5 is not read as 1
        number = parse_id(value)
        if number is None:
            raise DomainError(message, field=field_name)
        if number not in ids:
            ids.append(number)
    return ids


def issue_visit(event_id: int, service_ids: list[int], *, priority: str = "none", name: str | None = None,
                nik: str | None = None, phone: str | None = None, by_user_id: int,
                max_per_nik: int = 2) -> IssuedVisit:
    """Register a citizen: one visit with one waiting step per service, and a ticket code like `A-001`.

    The code is the first service's ticket letter and a per-(event, letter) sequence. Reception desks are
    serialised per event (BEGIN IMMEDIATE / row lock); a clash on the unique code is retried anyway.
    """
    for attempt in range(RETRIES):
        try:
            return _issue_visit(event_id, service_ids, priority=priority, name=name, nik=nik, phone=phone,
                                by_user_id=by_user_id, max_per_nik=max_per_nik)
        except IntegrityError:
            if attempt + 1 == RETRIES:
                raise
            time.sleep(random.uniform(0.002, 0.02))
    raise AssertionError("unreachable")  # pragma: no cover


@_unit_of_work
def _issue_visit(event_id, service_ids, *, priority, name, nik, phone, by_user_id, max_per_nik) -> IssuedVisit:
    # FOR NO KEY UPDATE on the event serialises reception desks of one event on PostgreSQL (sequence and
    # NIK cap stay exact) without blocking the FK checks of other writers.
    event = db.session.scalar(
        sa.select(Event).where(Event.id == event_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if event is None:
        raise NotFound("Acara tidak ditemukan.")
    if event.status != EventStatus.OPEN.value:
        raise DomainError("Acara belum dibuka atau sudah ditutup; tiket tidak dapat diterbitkan.")

    ids = _clean_ids(service_ids, "services", "Pilihan layanan tidak dikenal.")
    if not ids:
        raise DomainError("Pilih minimal satu layanan.", field="services")
    offered = _services_offered(event_id)
    missing = [i for i in ids if i not in offered]
    if missing:
        raise DomainError("Layanan yang dipilih tidak tersedia di acara ini.", field="services")
    services = {s.id: s for s in db.session.scalars(sa.select(Service).where(Service.id.in_(ids)))}

    try:
        group = Priority(priority or "none")
    except ValueError:
        raise DomainError("Kelompok prioritas tidak dikenal.", field="priority") from None

    name = (name or "").strip() or None
    if name is not None and len(name) > MAX_NAME:
        raise DomainError(f"Nama paling banyak {MAX_NAME} karakter.", field="name")

    warnings: list[str] = []
    phone = (phone or "").strip() or None
    if phone is not None:
        parsed = lokal.parse_phone(phone)
        if not parsed.valid:
            reason = " ".join(issue.message for issue in parsed.errors)
            raise DomainError(f"Nomor telepon tidak valid. {reason}".strip(), field="phone")
        phone = parsed.national
        warnings.extend(issue.message for issue in parsed.warnings)

    nik = (nik or "").strip() or None
    if nik is not None:
        checked = check_nik(nik)
        nik = checked.nik
        warnings.extend(checked.warnings)
        active = db.session.scalar(
            sa.select(sa.func.count(sa.distinct(Visit.id))).join(Step, Step.visit_id == Visit.id)
            .where(Visit.event_id == event_id, Visit.nik == nik, Step.status.in_(LIVE_STEP_STATES))
        )
        if active >= max_per_nik:
            raise DomainError(f"NIK ini sudah memiliki {active} tiket aktif di acara ini "
                              f"(paling banyak {max_per_nik}).", field="nik")

    letter = services[ids[0]].ticket_letter
    seq = (db.session.scalar(
        sa.select(sa.func.max(Visit.seq)).where(Visit.event_id == event_id, Visit.letter == letter)
    ) or 0) + 1
    at = now()
    visit = Visit(event_id=event_id, code=f"{letter}-{seq:03d}", letter=letter, seq=seq, name=name, nik=nik,
                  phone=phone, priority=group.value, public_token=secrets.token_urlsafe(32),
                  created_at=at, created_by_id=by_user_id)
    visit.steps = [
        Step(event_id=event_id, service_id=sid, position=pos, status=WAITING, priority_rank=group.rank,
             arrived_at=at)
        for pos, sid in enumerate(ids)
    ]
    db.session.add(visit)
    db.session.flush()
    audit.record("visit.issue", "visit", visit.id, user_id=by_user_id, event_id=event_id, code=visit.code,
                 services=ids, priority=group.value, with_nik=nik is not None)
    bump_version(event_id)
    return IssuedVisit(visit=visit, warnings=warnings)


@_unit_of_work
def cancel_visit(visit_id: int, *, by_user_id: int) -> Visit:
    """Cancel every waiting/called/serving step of the visit and clear its busy mark."""
    visit = _lock_visit(visit_id)
    steps = db.session.scalars(
        sa.select(Step).where(Step.visit_id == visit.id, Step.status.in_(LIVE_STEP_STATES))
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    ).all()
    if not steps:
        raise Conflict("Tiket ini sudah selesai atau dibatalkan.")
    at = now()
    for step in steps:
        step.status = StepStatus.CANCELLED.value
        step.finished_at = at
    visit.busy_desk_id = None
    db.session.flush()
    audit.record("visit.cancel", "visit", visit.id, user_id=by_user_id, event_id=visit.event_id,
                 code=visit.code, steps=[s.id for s in steps])
    bump_version(visit.event_id)
    return visit


def is_expired(step: Step, *, max_recalls: int = 3, no_show_after: int = 10) -> bool:
    """A no-show ticket expires once it was recalled `max_recalls` times, or `no_show_after` later
    numbers of the same service were called after it was marked absent."""
    if step.status != StepStatus.NO_SHOW.value:
        return False
    if step.recall_count >= max_recalls:
        return True
    since = step.finished_at or step.called_at
    if since is None:
        return False
    later = db.session.scalar(
        sa.select(sa.func.count()).select_from(Step)
        .where(Step.event_id == step.event_id, Step.service_id == step.service_id, Step.id != step.id,
               Step.called_at.is_not(None), Step.called_at >= since)
    )
    return later >= no_show_after


@_unit_of_work
def restore_step(step_id: int, *, by_user_id: int, max_recalls: int = 3, no_show_after: int = 10) -> Step:
    """Reception puts a no-show step back in its queue: original place, or at the end once expired."""
    step = _lock_step(step_id)
    _require_status(step, (StepStatus.NO_SHOW.value,), "dikembalikan ke antrean")
    expired = is_expired(step, max_recalls=max_recalls, no_show_after=no_show_after)
    step.status = WAITING
    if expired:
        step.arrived_at = now()
    step.desk_id = None
    step.served_by_id = None
    step.called_at = None
    step.started_at = None
    step.finished_at = None
    step.recall_count = 0
    db.session.flush()
    audit.record("step.restore", "step", step.id, user_id=by_user_id, event_id=step.event_id,
                 visit_id=step.visit_id, expired=expired)
    bump_version(step.event_id)
    return step


# ------------------------------------------------------------------------------------------ desk actions


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


def call_next(desk_id: int, *, by_user_id: int, priority_cap: int = 3) -> Step | None:
    """Claim the next eligible step for the desk, atomically; None when no one eligible waits.

    The step comes back with its visit, service and desk, loaded after the commit: the writer lock is
    held no longer than the claim itself, and the caller needs no lazy loads to answer.
    """
    step_id = _claim_next(desk_id, by_user_id=by_user_id, priority_cap=priority_cap)
    return None if step_id is None else loaded_step(step_id)


def loaded_step(step_id: int) -> Step | None:
    """The step with its visit, service and desk, fresh from the database in one query: what a caller needs
    to answer after a unit of work, whose commit expired everything it had loaded."""
    return db.session.scalar(
        sa.select(Step).where(Step.id == step_id)
        .options(orm.joinedload(Step.visit), orm.joinedload(Step.service), orm.joinedload(Step.desk))
        .execution_options(populate_existing=True))


@_unit_of_work
def _claim_next(desk_id: int, *, by_user_id: int, priority_cap: int) -> int | None:
    """The id of the step claimed for the desk, or None.

    The desk row is locked first (a double press cannot call two visitors to one desk); each candidate is
    claimed by a conditional UPDATE of its visit (`busy_desk_id IS NULL`), then of the step
    (`status = 'waiting'`); a candidate another desk took in the meantime is skipped.
    """
    row = db.session.execute(_DESK_ROW, {"desk_id": desk_id}).first()
    if row is None:
        raise NotFound("Loket tidak ditemukan.")
    event_id, state, streak, event_status, busy = row
    if event_status != EventStatus.OPEN.value:
        raise DomainError("Acara belum dibuka atau sudah ditutup.")
    if state != DeskState.OPEN.value:
        raise DomainError("Loket sedang dijeda atau ditutup; buka loket untuk memanggil.")
    if busy:
        raise Conflict("Loket ini masih memanggil atau melayani pengunjung; selesaikan dulu.")

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


@_unit_of_work
def recall(step_id: int, *, by_user_id: int, max_recalls: int = 3) -> Step:
    """Announce a called step again; refused once it was recalled `max_recalls` times."""
    step = _lock_step(step_id)
    _require_status(step, (CALLED,), "dipanggil ulang")
    if step.recall_count >= max_recalls:
        raise DomainError(f"Pengunjung ini sudah dipanggil {step.recall_count} kali; tandai tidak hadir.")
    step.recall_count += 1
    step.called_at = now()
    db.session.flush()
    audit.record("step.recall", "step", step.id, user_id=by_user_id, event_id=step.event_id,
                 desk_id=step.desk_id, recall_count=step.recall_count)
    bump_version(step.event_id)
    return step


@_unit_of_work
def start(step_id: int, *, by_user_id: int) -> Step:
    """The citizen sat down at the desk: called → serving."""
    step = _lock_step(step_id)
    _require_status(step, (CALLED,), "mulai dilayani")
    step.status = SERVING
    step.started_at = now()
    step.served_by_id = by_user_id
    db.session.flush()
    audit.record("step.start", "step", step.id, user_id=by_user_id, event_id=step.event_id, desk_id=step.desk_id)
    bump_version(step.event_id)
    return step


def _clean_note(note: str | None) -> str | None:
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise DomainError(f"Catatan paling banyak {MAX_NOTE} karakter.", field="note")
    return note


@_unit_of_work
def finish(step_id: int, *, outcome: str, by_user_id: int, requirements_presented: list[int] | None = None,
           amount: int | None = None, note: str | None = None) -> Step:
    """Close a called or serving step with its outcome, the documents shown, an amount, a note."""
    step = _lock_step(step_id)
    _require_status(step, ACTIVE_STEP_STATES, "diselesaikan")
    if outcome not in OUTCOMES:
        raise DomainError("Pilih hasil layanan: selesai, belum lengkap, atau dirujuk.", field="outcome")
    req_ids = _clean_ids(requirements_presented, "requirements", "Persyaratan yang dipilih tidak dikenal.")
    if req_ids:
        known = set(db.session.scalars(
            sa.select(Requirement.id).where(Requirement.service_id == step.service_id, Requirement.id.in_(req_ids))))
        if set(req_ids) - known:
            raise DomainError("Persyaratan yang dipilih bukan milik layanan ini.", field="requirements")
    service = db.session.get(Service, step.service_id)
    if amount is not None and amount != "":
        if not service.records_amount:
            raise DomainError("Layanan ini tidak mencatat nominal.", field="amount")
        if isinstance(amount, bool) or not isinstance(amount, (int, str)):
            raise DomainError("Nominal harus bilangan bulat rupiah.", field="amount")
        try:
            amount = int(amount)
        except ValueError:
            raise DomainError("Nominal harus bilangan bulat rupiah.", field="amount") from None
        if not 0 <= amount <= MAX_AMOUNT:
            raise DomainError(f"Nominal harus antara Rp 0 dan {money.format_plain(MAX_AMOUNT)}.", field="amount")
    else:
        amount = None
    note = _clean_note(note)

    step.status = StepStatus.DONE.value
    step.outcome = outcome
    step.requirements_presented = req_ids
    step.amount = amount
    step.note = note
    step.finished_at = now()
    if step.served_by_id is None:
        step.served_by_id = by_user_id
    db.session.flush()
    _release_visit(step)
    audit.record("step.finish", "step", step.id, user_id=by_user_id, event_id=step.event_id,
                 desk_id=step.desk_id, outcome=outcome, amount=amount, requirements=req_ids)
    bump_version(step.event_id)
    return step


@_unit_of_work
def no_show(step_id: int, *, by_user_id: int) -> Step:
    """The called citizen did not come: called → no_show; reception can put them back."""
    step = _lock_step(step_id)
    _require_status(step, (CALLED,), "ditandai tidak hadir")
    step.status = StepStatus.NO_SHOW.value
    step.finished_at = now()
    db.session.flush()
    _release_visit(step)
    audit.record("step.no_show", "step", step.id, user_id=by_user_id, event_id=step.event_id,
                 desk_id=step.desk_id, recall_count=step.recall_count)
    bump_version(step.event_id)
    return step


@_unit_of_work
def transfer(step_id: int, to_service_id: int, *, by_user_id: int, note: str | None = None) -> Step:
    """Move the need to another service; the new waiting step keeps the original arrival and priority."""
    step = _lock_step(step_id)
    _require_status(step, ACTIVE_STEP_STATES, "dialihkan")
    try:
        to_service_id = int(to_service_id)
    except (TypeError, ValueError):
        raise DomainError("Layanan tujuan tidak dikenal.", field="service") from None
    if to_service_id == step.service_id:
        raise DomainError("Pilih layanan tujuan yang berbeda dari layanan sekarang.", field="service")
    if to_service_id not in _services_offered(step.event_id):
        raise DomainError("Layanan tujuan tidak tersedia di acara ini.", field="service")
    duplicate = db.session.scalar(
        sa.select(Step.id).where(Step.visit_id == step.visit_id, Step.service_id == to_service_id,
                                 Step.status.in_(LIVE_STEP_STATES)))
    if duplicate is not None:
        raise DomainError("Pengunjung ini sudah ada dalam antrean layanan tujuan.", field="service")
    note = _clean_note(note)

    step.status = StepStatus.TRANSFERRED.value
    step.finished_at = now()
    if note:
        step.note = note
    position = db.session.scalar(sa.select(sa.func.max(Step.position)).where(Step.visit_id == step.visit_id))
    new = Step(visit_id=step.visit_id, event_id=step.event_id, service_id=to_service_id,
               position=(position or 0) + 1, status=WAITING, priority_rank=step.priority_rank,
               arrived_at=step.arrived_at, transferred_from_id=step.id)
    db.session.add(new)
    db.session.flush()
    _release_visit(step)
    audit.record("step.transfer", "step", step.id, user_id=by_user_id, event_id=step.event_id,
                 desk_id=step.desk_id, to_service=to_service_id, new_step=new.id)
    bump_version(step.event_id)
    return new


@_unit_of_work
def set_desk_state(desk_id: int, state: str, *, by_user_id: int) -> Desk:
    """Open, pause or close a desk; closing waits until its current visitor is finished."""
    desk = db.session.scalar(
        sa.select(Desk).where(Desk.id == desk_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True))
    if desk is None:
        raise NotFound("Loket tidak ditemukan.")
    if state not in {s.value for s in DeskState}:
        raise DomainError("Status loket tidak dikenal.", field="state")
    if state == DeskState.CLOSED.value and _current_step_id(desk.id) is not None:
        raise Conflict("Loket masih memanggil atau melayani pengunjung; selesaikan dulu sebelum menutup.")
    previous = desk.state
    desk.state = state
    db.session.flush()
    audit.record("desk.state", "desk", desk.id, user_id=by_user_id, event_id=desk.event_id,
                 before=previous, after=state)
    bump_version(desk.event_id)
    return desk


# ------------------------------------------------------------------------------------------------ reading


def _current_step_id(desk_id: int) -> int | None:
    return db.session.scalar(
        sa.select(Step.id).where(Step.desk_id == desk_id, Step.status.in_(ACTIVE_STEP_STATES))
        .order_by(Step.called_at.desc()).limit(1))


def desk_current(desk_id: int) -> Step | None:
    """The called or serving step at the desk, if any."""
    return db.session.scalar(
        sa.select(Step).where(Step.desk_id == desk_id, Step.status.in_(ACTIVE_STEP_STATES))
        .order_by(Step.called_at.desc()).limit(1))


def _minutes_since(moment: datetime | None, at: datetime) -> int:
    if moment is None:
        return 0
    return max(0, int((at - moment).total_seconds() // 60))


def waiting_for_desk(desk_id: int, limit: int = 50) -> list[WaitingRow]:
    """Waiting steps for the desk's services in the order call_next takes them (fairness aside);
    steps of visits busy at another desk are included and flagged."""
    desk = db.session.get(Desk, desk_id)
    if desk is None:
        raise NotFound("Loket tidak ditemukan.")
    service_ids = list(db.session.scalars(
        sa.select(desk_service.c.service_id).where(desk_service.c.desk_id == desk_id)))
    if not service_ids:
        return []
    rows = db.session.execute(
        sa.select(Step, Visit.code, Service.code, Visit.priority, Visit.busy_desk_id)
        .join(Visit, Visit.id == Step.visit_id).join(Service, Service.id == Step.service_id)
        .where(Step.event_id == desk.event_id, Step.service_id.in_(service_ids), Step.status == WAITING)
        .order_by(Step.priority_rank, Step.arrived_at, Step.id).limit(limit)
    ).all()
    visit_ids = {step.visit_id for step, *_ in rows}
    others: dict[int, list[tuple[int, str, int]]] = {}
    if visit_ids:
        for visit_id, step_id, code, position in db.session.execute(
            sa.select(Step.visit_id, Step.id, Service.code, Step.position)
            .join(Service, Service.id == Step.service_id)
            .where(Step.visit_id.in_(visit_ids), Step.status.in_(LIVE_STEP_STATES))
        ):
            others.setdefault(visit_id, []).append((step_id, code, position))
    at = now()
    result = []
    for step, visit_code, service_code, priority, busy_desk in rows:
        other = [code for sid, code, pos in sorted(others.get(step.visit_id, []), key=lambda r: r[2])
                 if sid != step.id]
        result.append(WaitingRow(step=step, visit_code=visit_code, service_code=service_code, priority=priority,
                                 waited_minutes=_minutes_since(step.arrived_at, at), busy=busy_desk is not None,
                                 other_services=other))
    return result


def _ahead_clause(step: Step):
    return sa.or_(
        Step.priority_rank < step.priority_rank,
        sa.and_(Step.priority_rank == step.priority_rank, Step.arrived_at < step.arrived_at),
        sa.and_(Step.priority_rank == step.priority_rank, Step.arrived_at == step.arrived_at, Step.id < step.id),
    )


def _people_ahead(step: Step) -> int:
    if step.status != WAITING:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(Step)
        .where(Step.event_id == step.event_id, Step.service_id == step.service_id, Step.status == WAITING,
               _ahead_clause(step)))


def people_ahead(step_id: int) -> int:
    """Waiting steps of the same service in the event that are ahead of this one (0 unless waiting)."""
    step = db.session.get(Step, step_id)
    if step is None:
        raise NotFound("Antrean tidak ditemukan.")
    return _people_ahead(step)


def _minutes_expr(dialect: str):
    if dialect == "postgresql":
        return sa.func.extract("epoch", Step.finished_at - Step.called_at) / 60.0
    return (sa.func.julianday(Step.finished_at) - sa.func.julianday(Step.called_at)) * 1440.0


def service_times_today(event_id: int, service_id: int | None = None) -> dict[int, float]:
    """Mean minutes (called → finished) of the event's done steps, per service id; measured, not assumed."""
    minutes = _minutes_expr(db.session.get_bind().dialect.name)
    query = (
        sa.select(Step.service_id, sa.func.avg(minutes))
        .where(Step.event_id == event_id, Step.status == StepStatus.DONE.value,
               Step.called_at.is_not(None), Step.finished_at.is_not(None))
        .group_by(Step.service_id)
    )
    if service_id is not None:
        query = query.where(Step.service_id == service_id)
    return {sid: float(mean) for sid, mean in db.session.execute(query) if mean is not None}


def open_desks_offering(event_id: int, service_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Desk.id))).join(desk_service, desk_service.c.desk_id == Desk.id)
        .where(Desk.event_id == event_id, Desk.state == DeskState.OPEN.value,
               desk_service.c.service_id == service_id))


def _estimate(step: Step, ahead: int, target_minutes: int) -> int | None:
    if step.status != WAITING:
        return None
    if ahead == 0:
        return 0
    desks = open_desks_offering(step.event_id, step.service_id)
    if not desks:
        return None
    mean = service_times_today(step.event_id, step.service_id).get(step.service_id, float(target_minutes))
    return max(1, round(ahead * mean / desks))


def estimated_wait_minutes(step_id: int) -> int | None:
    """People ahead × today's mean service time (the target until measured) ÷ open desks offering it.
    None when the step is not waiting or no open desk offers the service."""
    step = db.session.get(Step, step_id)
    if step is None:
        raise NotFound("Antrean tidak ditemukan.")
    target = db.session.scalar(sa.select(Service.target_minutes).where(Service.id == step.service_id))
    return _estimate(step, _people_ahead(step), target)


def visit_status(token: str) -> VisitStatus | None:
    """What `/status/<token>` shows: code, event and per step where it stands. No name, NIK or phone."""
    if not token or len(token) > 64:
        return None
    visit = db.session.scalar(sa.select(Visit).where(Visit.public_token == token))
    if visit is None:
        return None
    event = db.session.get(Event, visit.event_id)
    steps = []
    for step in visit.steps:
        service = step.service
        ahead = _people_ahead(step)
        desk = step.desk if step.status in ACTIVE_STEP_STATES else None
        steps.append(StepView(
            step_id=step.id, position=step.position, service_id=service.id, service_code=service.code,
            service_name=service.name, status=step.status, outcome=step.outcome, people_ahead=ahead,
            estimated_minutes=_estimate(step, ahead, service.target_minutes),
            desk_number=desk.number if desk else None, desk_label=desk.label if desk else None,
        ))
    return VisitStatus(code=visit.code, event_id=event.id, event_title=event.title, priority=visit.priority,
                       queue_version=event.queue_version, steps=steps)
