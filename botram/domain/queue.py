"""The queue: issuing tickets, calling, serving and moving steps, and reading the queue cheaply.

Every waiting step sits in its service's queue from registration, ordered by priority rank, then arrival
time, then id. A visit is never called at two desks at once: `Visit.busy_desk_id` is claimed with a
conditional UPDATE, and the visit's other steps keep their place while it is busy.

Writes are units of work (botram/domain/uow.py, docs/queue-domain.md): rows locked in a fixed order
(desk → visit → step → event) so PostgreSQL cannot deadlock on our own writes, an audit entry,
`bump_version` as the last statement. A broken rule rolls everything back.
"""
from __future__ import annotations

import math
import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as time_of_day

import lokal
import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy.exc import IntegrityError
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import (
    ACTIVE_STEP_STATES, Desk, DeskState, Event, EventStatus, Priority, Requirement, Service, Step, StepStatus,
    Visit, desk_service,
)
from . import Conflict, DomainError, NotFound, audit, money
from .clock import now, to_wib
from .field import ensure_queue_writable
from .ids import parse_id
from .nik import check_nik
from .queue_rules import DEFAULT as DEFAULT_RULES
from .queue_rules import QueueRules
from .uow import RETRIES, bump_version, unit_of_work

WAITING = StepStatus.WAITING.value
CALLED = StepStatus.CALLED.value
SERVING = StepStatus.SERVING.value
LIVE_STEP_STATES = (WAITING, CALLED, SERVING)
OUTCOMES = ("done", "incomplete", "referred")
MAX_AMOUNT = money.MAX_RUPIAH  # the one upper bound of every amount (botram/domain/money.py)
MAX_NOTE = 1000
MAX_NAME = 120
CANDIDATES = 8  # rows fetched per call_next round; more are fetched only under contention


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
    other_services: list[str] = field(default_factory=list)  # service codes, in the visit's order
    service_name: str = ""
    other_service_names: list[str] = field(default_factory=list)  # what a person reads


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

    @property
    def called(self) -> "StepView | None":
        """The step the citizen is being called for right now, if any (a visit is called at one desk)."""
        return next((s for s in self.steps if s.status == CALLED), None)


# ------------------------------------------------------------------------------------- transaction glue

# The queue's writes are units of work like every other write (botram/domain/uow.py); the old name stays
# for the modules that import it.
_unit_of_work = unit_of_work


def _lock_visit(visit_id: int) -> Visit:
    visit = db.session.scalar(
        sa.select(Visit).where(Visit.id == visit_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if visit is None:
        raise NotFound(_l("Tiket tidak ditemukan."))
    ensure_queue_writable(visit.event_id)  # every step write passes here (docs/field-sync.md)
    return visit


def _lock_step(step_id: int) -> Step:
    """The step and its visit, locked visit first (the order call_next uses)."""
    visit_id = db.session.scalar(sa.select(Step.visit_id).where(Step.id == step_id))
    if visit_id is None:
        raise NotFound(_l("Antrean tidak ditemukan."))
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
        raise Conflict(_l("Antrean ini tidak dapat %(action)s: statusnya %(status)s.", action=action,
                           status=_STATUS_LABEL.get(step.status, step.status)))


_STATUS_LABEL = {
    "waiting": _l("menunggu"), "called": _l("dipanggil"), "serving": _l("sedang dilayani"), "done": _l("selesai"),
    "no_show": _l("tidak hadir"), "transferred": _l("dialihkan"), "cancelled": _l("dibatalkan"),
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
                rules: QueueRules = DEFAULT_RULES) -> IssuedVisit:
    """Register a citizen: one visit with one waiting step per service, and a ticket code like `A-001`.

    The code is the first service's ticket letter and a per-(event, letter) sequence. Reception desks are
    serialised per event (BEGIN IMMEDIATE / row lock); a clash on the unique code is retried anyway.
    """
    for attempt in range(RETRIES):
        try:
            return _issue_visit(event_id, service_ids, priority=priority, name=name, nik=nik, phone=phone,
                                by_user_id=by_user_id, max_per_nik=rules.max_tickets_per_nik)
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
        raise NotFound(_l("Acara tidak ditemukan."))
    ensure_queue_writable(event_id)
    if event.status != EventStatus.OPEN.value:
        raise DomainError(_l("Acara belum dibuka atau sudah ditutup; tiket tidak dapat diterbitkan."))

    ids = _clean_ids(service_ids, "services", _l("Pilihan layanan tidak dikenal."))
    if not ids:
        raise DomainError(_l("Pilih minimal satu layanan."), field="services")
    offered = _services_offered(event_id)
    missing = [i for i in ids if i not in offered]
    if missing:
        raise DomainError(_l("Layanan yang dipilih tidak tersedia di acara ini."), field="services")
    services = {s.id: s for s in db.session.scalars(sa.select(Service).where(Service.id.in_(ids)))}

    try:
        group = Priority(priority or "none")
    except ValueError:
        raise DomainError(_l("Kelompok prioritas tidak dikenal."), field="priority") from None

    name = (name or "").strip() or None
    if name is not None and len(name) > MAX_NAME:
        raise DomainError(_l("Nama paling banyak %(n)d karakter.", n=MAX_NAME), field="name")

    warnings: list[str] = []
    phone = (phone or "").strip() or None
    if phone is not None:
        parsed = lokal.parse_phone(phone)
        if not parsed.valid:
            reason = " ".join(issue.message for issue in parsed.errors)
            raise DomainError(_l("Nomor telepon tidak valid. %(reason)s", reason=reason), field="phone")
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
            raise DomainError(_l("NIK ini sudah memiliki %(active)d tiket aktif di acara ini (paling banyak %(max)d).",
                                 active=active, max=max_per_nik), field="nik")

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
        raise Conflict(_l("Tiket ini sudah selesai atau dibatalkan."))
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


def is_expired(step: Step, *, rules: QueueRules = DEFAULT_RULES) -> bool:
    """A no-show ticket expires once it was recalled `rules.max_recalls` times, or `rules.no_show_after`
    later numbers of the same service were called after it was marked absent."""
    if step.status != StepStatus.NO_SHOW.value:
        return False
    if step.recall_count >= rules.max_recalls:
        return True
    since = step.finished_at or step.called_at
    if since is None:
        return False
    later = db.session.scalar(
        sa.select(sa.func.count()).select_from(Step)
        .where(Step.event_id == step.event_id, Step.service_id == step.service_id, Step.id != step.id,
               Step.called_at.is_not(None), Step.called_at >= since)
    )
    return later >= rules.no_show_after


@_unit_of_work
def restore_step(step_id: int, *, by_user_id: int, rules: QueueRules = DEFAULT_RULES) -> Step:
    """Reception puts a no-show step back in its queue: original place, or at the end once expired."""
    step = _lock_step(step_id)
    _require_status(step, (StepStatus.NO_SHOW.value,), _l("dikembalikan ke antrean"))
    expired = is_expired(step, rules=rules)
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


def call_next(desk_id: int, *, by_user_id: int, rules: QueueRules = DEFAULT_RULES) -> Step | None:
    """Claim the next eligible step for the desk, atomically; None when no one eligible waits.

    The step comes back with its visit, service and desk, loaded after the commit: the writer lock is
    held no longer than the claim itself, and the caller needs no lazy loads to answer.
    """
    step_id = _claim_next(desk_id, by_user_id=by_user_id, priority_cap=rules.priority_cap)
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


@_unit_of_work
def recall(step_id: int, *, by_user_id: int, rules: QueueRules = DEFAULT_RULES) -> Step:
    """Announce a called step again; refused once it was recalled `rules.max_recalls` times."""
    step = _lock_step(step_id)
    _require_status(step, (CALLED,), _l("dipanggil ulang"))
    if step.recall_count >= rules.max_recalls:
        raise DomainError(_l("Pengunjung ini sudah dipanggil %(n)d kali; tandai tidak hadir.", n=step.recall_count))
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
    _require_status(step, (CALLED,), _l("mulai dilayani"))
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
        raise DomainError(_l("Catatan paling banyak %(n)d karakter.", n=MAX_NOTE), field="note")
    return note


@_unit_of_work
def finish(step_id: int, *, outcome: str, by_user_id: int, requirements_presented: list[int] | None = None,
           amount: int | None = None, note: str | None = None) -> Step:
    """Close a called or serving step with its outcome, the documents shown, an amount, a note."""
    step = _lock_step(step_id)
    _require_status(step, ACTIVE_STEP_STATES, _l("diselesaikan"))
    if outcome not in OUTCOMES:
        raise DomainError(_l("Pilih hasil layanan: selesai, belum lengkap, atau dirujuk."), field="outcome")
    req_ids = _clean_ids(requirements_presented, "requirements", _l("Persyaratan yang dipilih tidak dikenal."))
    if req_ids:
        known = set(db.session.scalars(
            sa.select(Requirement.id).where(Requirement.service_id == step.service_id, Requirement.id.in_(req_ids))))
        if set(req_ids) - known:
            raise DomainError(_l("Persyaratan yang dipilih bukan milik layanan ini."), field="requirements")
    service = db.session.get(Service, step.service_id)
    if amount is not None and amount != "":
        if not service.records_amount:
            raise DomainError(_l("Layanan ini tidak mencatat nominal."), field="amount")
        if isinstance(amount, bool) or not isinstance(amount, (int, str)):
            raise DomainError(_l("Nominal harus bilangan bulat rupiah."), field="amount")
        try:
            amount = int(amount)
        except ValueError:
            raise DomainError(_l("Nominal harus bilangan bulat rupiah."), field="amount") from None
        if not 0 <= amount <= MAX_AMOUNT:
            raise DomainError(_l("Nominal harus antara Rp 0 dan %(maximum)s.", maximum=money.format_plain(MAX_AMOUNT)),
                              field="amount")
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
    _require_status(step, (CALLED,), _l("ditandai tidak hadir"))
    step.status = StepStatus.NO_SHOW.value
    step.finished_at = now()
    db.session.flush()
    _release_visit(step)
    audit.record("step.no_show", "step", step.id, user_id=by_user_id, event_id=step.event_id,
                 desk_id=step.desk_id, recall_count=step.recall_count)
    bump_version(step.event_id)
    return step


UNDO_SECONDS = 15  # the desk's toast offers undo for 8 s; the rest is grace for a slow Wi-Fi


def _desk_name(desk_id: int | None) -> str:
    number = db.session.scalar(sa.select(Desk.number).where(Desk.id == desk_id)) if desk_id else None
    return str(_l("Loket %(n)s", n=number)) if number is not None else str(_l("loket lain"))


def _undo(step_id: int, *, desk_id: int, by_user_id: int, status: str, action: str, within_seconds: int) -> Step:
    """Put a step this desk just closed back to where it was (called, or serving when it had started),
    keeping its call and start times, and claim its visit for the desk again. Refused after the window,
    from another desk, when the desk has already called someone else, or when the visitor has since been
    called elsewhere or put back in the queue by reception."""
    desk = db.session.scalar(
        sa.select(Desk).where(Desk.id == desk_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True))
    if desk is None:
        raise NotFound(_l("Loket tidak ditemukan."))
    step = _lock_step(step_id)
    if step.desk_id != desk_id:
        raise Conflict(_l("Hanya loket yang menutup antrean ini yang dapat membatalkannya."))
    if step.status != status:
        raise Conflict(_l("Tidak dapat dibatalkan: antrean ini sekarang %(status)s.",
                          status=_STATUS_LABEL.get(step.status, step.status)))
    at = now()
    if step.finished_at is None or (at - step.finished_at).total_seconds() > within_seconds:
        raise Conflict(_l("Waktu untuk membatalkan sudah lewat (%(n)d detik).", n=within_seconds))
    visit = _lock_visit(step.visit_id)
    if visit.busy_desk_id not in (None, desk_id):
        raise Conflict(_l("Tidak dapat dibatalkan: pengunjung %(code)s sudah dipanggil di %(desk)s.",
                          code=visit.code, desk=_desk_name(visit.busy_desk_id)))
    other = _current_step_id(desk_id)
    if other is not None and other != step.id:
        code = db.session.scalar(sa.select(Visit.code).join(Step, Step.visit_id == Visit.id)
                                 .where(Step.id == other))
        raise Conflict(_l("Tidak dapat dibatalkan: loket ini sudah memanggil %(code)s. Selesaikan dulu.", code=code))
    before = {"status": step.status, "outcome": step.outcome, "finished_at": step.finished_at.isoformat()}
    step.status = SERVING if step.started_at is not None else CALLED
    step.finished_at = None
    step.outcome = None
    visit.busy_desk_id = desk_id
    db.session.flush()
    audit.record(f"step.{action}", "step", step.id, user_id=by_user_id, event_id=step.event_id, desk_id=desk_id,
                 visit_id=visit.id, before=before, after=step.status)
    bump_version(step.event_id)
    return step


@_unit_of_work
def undo_no_show(step_id: int, *, desk_id: int, by_user_id: int, within_seconds: int = UNDO_SECONDS) -> Step:
    """A hasty "Tidak hadir" taken back within seconds by the same desk: the visitor is called again,
    with the original call time and recall count."""
    return _undo(step_id, desk_id=desk_id, by_user_id=by_user_id, status=StepStatus.NO_SHOW.value,
                 action="undo_no_show", within_seconds=within_seconds)


@_unit_of_work
def undo_finish(step_id: int, *, desk_id: int, by_user_id: int, within_seconds: int = UNDO_SECONDS) -> Step:
    """A hasty "Selesai" taken back within seconds by the same desk: the step is open again (called, or
    serving when it had started); the requirements, amount and note entered stay, to correct and finish."""
    return _undo(step_id, desk_id=desk_id, by_user_id=by_user_id, status=StepStatus.DONE.value,
                 action="undo_finish", within_seconds=within_seconds)


# ------------------------------------------------------------------------------------------ desk hours


@dataclass
class HoursExtension:
    """The desk's hours (WIB) and the hours that would cover now; what the console offers before a call."""

    opens: time_of_day
    closes: time_of_day
    new_opens: time_of_day
    new_closes: time_of_day
    now: time_of_day

    @property
    def early(self) -> bool:
        return self.new_opens != self.opens


def _half_hour_floor(moment: datetime) -> datetime:
    return moment.replace(minute=0 if moment.minute < 30 else 30, second=0, microsecond=0)


def hours_extension(desk: Desk, at: datetime | None = None) -> HoursExtension | None:
    """None when the desk's hours cover `at` (now); else the hours stretched to cover it: the opening back
    to the half hour before, or the closing on to the next half hour. Raises DomainError when that cannot
    be on the event's day (an event of another day, or past midnight)."""
    at = at or now()
    if desk.opens_at <= at < desk.closes_at:
        return None
    event = desk.event
    local = to_wib(at)
    if local.date() != event.date:
        raise DomainError(_l("Loket di luar jam layanan, dan kegiatan ini bukan hari ini: jamnya tidak dapat "
                             "diperpanjang dari konsol."), status=409)
    opens, closes = to_wib(desk.opens_at), to_wib(desk.closes_at)
    if at < desk.opens_at:
        opens = _half_hour_floor(local)
    else:
        closes = _half_hour_floor(local) + timedelta(minutes=30)
        if closes.date() != event.date:
            closes = datetime.combine(event.date, time_of_day(23, 59), tzinfo=local.tzinfo)
    return HoursExtension(opens=to_wib(desk.opens_at).time(), closes=to_wib(desk.closes_at).time(),
                          new_opens=opens.time(), new_closes=closes.time(), now=local.time())


@_unit_of_work
def extend_hours_to_now(desk_id: int, *, by_user_id: int) -> Desk:
    """The officer accepted calling outside the desk's hours: stretch the hours to cover now (see
    `hours_extension`), so the hours record and the hours report stay true. Audited as `desk.hours`."""
    desk = db.session.scalar(
        sa.select(Desk).where(Desk.id == desk_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True))
    if desk is None:
        raise NotFound(_l("Loket tidak ditemukan."))
    ensure_queue_writable(desk.event_id)
    event = db.session.get(Event, desk.event_id)
    if event.status != EventStatus.OPEN.value:
        raise DomainError(_l("Acara belum dibuka atau sudah ditutup."))
    plan = hours_extension(desk)
    if plan is None:
        return desk
    from .events import set_desk_hours  # events reads the queue's tables; imported here to avoid a cycle

    return set_desk_hours(desk, plan.new_opens, plan.new_closes, by_user_id=by_user_id,
                          reason="call_outside_hours")


@_unit_of_work
def transfer(step_id: int, to_service_id: int, *, by_user_id: int, note: str | None = None) -> Step:
    """Move the need to another service; the new waiting step keeps the original arrival and priority."""
    step = _lock_step(step_id)
    _require_status(step, ACTIVE_STEP_STATES, _l("dialihkan"))
    try:
        to_service_id = int(to_service_id)
    except (TypeError, ValueError):
        raise DomainError(_l("Layanan tujuan tidak dikenal."), field="service") from None
    if to_service_id == step.service_id:
        raise DomainError(_l("Pilih layanan tujuan yang berbeda dari layanan sekarang."), field="service")
    if to_service_id not in _services_offered(step.event_id):
        raise DomainError(_l("Layanan tujuan tidak tersedia di acara ini."), field="service")
    duplicate = db.session.scalar(
        sa.select(Step.id).where(Step.visit_id == step.visit_id, Step.service_id == to_service_id,
                                 Step.status.in_(LIVE_STEP_STATES)))
    if duplicate is not None:
        raise DomainError(_l("Pengunjung ini sudah ada dalam antrean layanan tujuan."), field="service")
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
        raise NotFound(_l("Loket tidak ditemukan."))
    ensure_queue_writable(desk.event_id)
    if state not in {s.value for s in DeskState}:
        raise DomainError(_l("Status loket tidak dikenal."), field="state")
    if state == DeskState.CLOSED.value and _current_step_id(desk.id) is not None:
        raise Conflict(_l("Loket masih memanggil atau melayani pengunjung; selesaikan dulu sebelum menutup."))
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
        raise NotFound(_l("Loket tidak ditemukan."))
    service_ids = list(db.session.scalars(
        sa.select(desk_service.c.service_id).where(desk_service.c.desk_id == desk_id)))
    if not service_ids:
        return []
    rows = db.session.execute(
        sa.select(Step, Visit.code, Service.code, Visit.priority, Visit.busy_desk_id, Service.name)
        .join(Visit, Visit.id == Step.visit_id).join(Service, Service.id == Step.service_id)
        .where(Step.event_id == desk.event_id, Step.service_id.in_(service_ids), Step.status == WAITING)
        .order_by(Step.priority_rank, Step.arrived_at, Step.id).limit(limit)
    ).all()
    visit_ids = {step.visit_id for step, *_ in rows}
    others: dict[int, list[tuple[int, str, int, str]]] = {}
    if visit_ids:
        for visit_id, step_id, code, position, name in db.session.execute(
            sa.select(Step.visit_id, Step.id, Service.code, Step.position, Service.name)
            .join(Service, Service.id == Step.service_id)
            .where(Step.visit_id.in_(visit_ids), Step.status.in_(LIVE_STEP_STATES))
        ):
            others.setdefault(visit_id, []).append((step_id, code, position, name))
    at = now()
    result = []
    for step, visit_code, service_code, priority, busy_desk, service_name in rows:
        other = [(code, name) for sid, code, pos, name in sorted(others.get(step.visit_id, []), key=lambda r: r[2])
                 if sid != step.id]
        result.append(WaitingRow(step=step, visit_code=visit_code, service_code=service_code, priority=priority,
                                 waited_minutes=_minutes_since(step.arrived_at, at), busy=busy_desk is not None,
                                 other_services=[code for code, _ in other], service_name=service_name,
                                 other_service_names=[name for _, name in other]))
    return result


def _ahead_clause(step: Step):
    return sa.or_(
        Step.priority_rank < step.priority_rank,
        sa.and_(Step.priority_rank == step.priority_rank, Step.arrived_at < step.arrived_at),
        sa.and_(Step.priority_rank == step.priority_rank, Step.arrived_at == step.arrived_at, Step.id < step.id),
    )


@dataclass
class QueueShape:
    """Which desks offer which services at one event, which are open, and how long each service takes
    today: what every wait figure is computed from. Loaded once per page or board state."""

    desks: dict[int, set[int]]  # desk id -> service ids
    open_desks: set[int]
    per_person: dict[int, float]  # service id -> minutes one visitor takes (measured, else the target)

    def desks_offering(self, service_id: int) -> list[int]:
        return [d for d, services in self.desks.items() if service_id in services]

    def shared_services(self, service_id: int) -> set[int]:
        """Every service called at the desks that offer `service_id`: call_next takes them all in one
        order (priority rank, arrival), so a visitor for any of them can be called first."""
        shared = {service_id}
        for desk_id in self.desks_offering(service_id):
            shared |= self.desks[desk_id]
        return shared

    def open_desks_offering(self, service_id: int) -> int:
        return sum(1 for d in self.desks_offering(service_id) if d in self.open_desks)


def queue_shape(event_id: int) -> QueueShape:
    desks: dict[int, set[int]] = {}
    open_desks: set[int] = set()
    for desk_id, state, service_id in db.session.execute(
        sa.select(Desk.id, Desk.state, desk_service.c.service_id)
        .join(desk_service, desk_service.c.desk_id == Desk.id).where(Desk.event_id == event_id)
    ):
        desks.setdefault(desk_id, set()).add(service_id)
        if state == DeskState.OPEN.value:
            open_desks.add(desk_id)
    offered = set().union(*desks.values()) if desks else set()
    targets = dict(db.session.execute(
        sa.select(Service.id, Service.target_minutes).where(Service.id.in_(offered))).all()) if offered else {}
    measured = service_times_today(event_id)
    # A desk that closes tickets in seconds still takes a citizen about a minute to reach it.
    per_person = {sid: max(1.0, measured.get(sid) or float(targets.get(sid) or 1)) for sid in offered}
    return QueueShape(desks=desks, open_desks=open_desks, per_person=per_person)


def wait_minutes(ahead_by_service: dict[int, int], service_id: int, shape: QueueShape) -> int | None:
    """THE wait estimate (status page, ticket and board use only this): the minutes the steps ahead take,
    each at its own service's time today, shared by the open desks offering `service_id`, to the nearest
    minute (half up) and at least 1.
    0 with nobody ahead; None when no open desk offers the service (nobody can say when it opens)."""
    desks = shape.open_desks_offering(service_id)
    if not desks:
        return None
    work = sum(count * shape.per_person.get(sid, 1.0) for sid, count in ahead_by_service.items() if count)
    if work <= 0:
        return 0
    return max(1, math.floor(work / desks + 0.5))


def _ahead_by_service(step: Step, shape: QueueShape) -> dict[int, int]:
    """Waiting steps of other visits that call_next will take before this one, per service: every
    service of the desks offering this step's service, priority rank first, then arrival, then id.
    The visitor's own other steps are not people ahead of them."""
    if step.status != WAITING:
        return {}
    shared = shape.shared_services(step.service_id)
    return dict(db.session.execute(
        sa.select(Step.service_id, sa.func.count()).select_from(Step)
        .where(Step.event_id == step.event_id, Step.service_id.in_(shared), Step.status == WAITING,
               Step.visit_id != step.visit_id, _ahead_clause(step))
        .group_by(Step.service_id)).all())


def _people_ahead(step: Step) -> int:
    return sum(_ahead_by_service(step, queue_shape(step.event_id)).values())


def people_ahead(step_id: int) -> int:
    """How many waiting steps of other visitors the queue will call before this one (0 unless waiting):
    at the desks offering its service, in call_next's order (priority rank, then arrival)."""
    step = db.session.get(Step, step_id)
    if step is None:
        raise NotFound(_l("Antrean tidak ditemukan."))
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


def estimated_wait_minutes(step_id: int) -> int | None:
    """The wait of a waiting step: `wait_minutes` over the steps `people_ahead` counts.
    None when the step is not waiting or no open desk offers the service."""
    step = db.session.get(Step, step_id)
    if step is None:
        raise NotFound(_l("Antrean tidak ditemukan."))
    if step.status != WAITING:
        return None
    shape = queue_shape(step.event_id)
    return wait_minutes(_ahead_by_service(step, shape), step.service_id, shape)


def service_wait_estimates(event_id: int, waiting_by_service: dict[int, int],
                           shape: QueueShape | None = None) -> dict[int, int | None]:
    """What the board shows per service: the wait of a visitor registering now without priority, who
    queues behind everyone waiting at the desks offering that service. Same rule as a ticket's estimate."""
    shape = shape or queue_shape(event_id)
    offered = set().union(*shape.desks.values()) if shape.desks else set()
    return {sid: wait_minutes({s: waiting_by_service.get(s, 0) for s in shape.shared_services(sid)}, sid, shape)
            for sid in offered}


# The status page's order: what the citizen must act on now first (go to the desk), then where they are
# being served, then what they wait for (the shortest wait first), then what is over.
_URGENCY = {CALLED: 0, SERVING: 1, WAITING: 2}


def visit_status(token: str) -> VisitStatus | None:
    """What `/status/<token>` shows: code, event and per step where it stands, most urgent first
    (called, serving, waiting by estimate, finished). No name, NIK or phone."""
    if not token or len(token) > 64:
        return None
    visit = db.session.scalar(sa.select(Visit).where(Visit.public_token == token))
    if visit is None:
        return None
    event = db.session.get(Event, visit.event_id)
    shape = queue_shape(event.id) if any(s.status == WAITING for s in visit.steps) else None
    steps = []
    for step in visit.steps:
        service = step.service
        ahead, estimate = 0, None
        if step.status == WAITING:
            by_service = _ahead_by_service(step, shape)
            ahead, estimate = sum(by_service.values()), wait_minutes(by_service, step.service_id, shape)
        desk = step.desk if step.status in ACTIVE_STEP_STATES else None
        steps.append(StepView(
            step_id=step.id, position=step.position, service_id=service.id, service_code=service.code,
            service_name=service.name, status=step.status, outcome=step.outcome, people_ahead=ahead,
            estimated_minutes=estimate,
            desk_number=desk.number if desk else None, desk_label=desk.label if desk else None,
        ))
    steps.sort(key=lambda v: (_URGENCY.get(v.status, 3), v.people_ahead if v.status == WAITING else 0,
                              v.position))
    return VisitStatus(code=visit.code, event_id=event.id, event_title=event.title, priority=visit.priority,
                       queue_version=event.queue_version, steps=steps)
