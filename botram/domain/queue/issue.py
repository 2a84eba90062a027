"""Reception issues a ticket: one visit with a waiting step per service and a code like `A-001`; and
cancels a whole visit."""
from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass, field

import lokal
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import Event, EventStatus, Priority, Service, Step, StepStatus, Visit
from .. import Conflict, DomainError, NotFound, Problems, audit
from .. import notify as notify_rules
from ..clock import now
from ..field import ensure_queue_writable
from ..nik import check_nik
from ..queue_rules import QueueRules, current_rules
from ..uow import RETRIES, bump_version, unit_of_work
from .shared import LIVE_STEP_STATES, MAX_NAME, WAITING, clean_ids, lock_visit, services_offered


@dataclass
class IssuedVisit:
    visit: Visit
    warnings: list[str] = field(default_factory=list)


def issue_visit(event_id: int, service_ids: list[int], *, priority: str = "none", name: str | None = None,
                nik: str | None = None, phone: str | None = None, by_user_id: int,
                rules: QueueRules | None = None, notify: bool = False, locale: str | None = None) -> IssuedVisit:
    """Register a citizen: one visit with one waiting step per service, and a ticket code like `A-001`.

    `notify`: the citizen ticked "kirimi saya pesan" (messages to `phone`, in `locale`; ignored while
    messages are off, see domain/notify).

    The code is the first service's ticket letter and a per-(event, letter) sequence. Reception desks are
    serialised per event (BEGIN IMMEDIATE / row lock); a clash on the unique code is retried anyway.
    """
    rules = rules or current_rules()
    for attempt in range(RETRIES):
        try:
            return _issue_visit(event_id, service_ids, priority=priority, name=name, nik=nik, phone=phone,
                                by_user_id=by_user_id, max_per_nik=rules.max_tickets_per_nik,
                                notify=notify, locale=locale)
        except IntegrityError:
            if attempt + 1 == RETRIES:
                raise
            time.sleep(random.uniform(0.002, 0.02))
    raise AssertionError("unreachable")  # pragma: no cover


@unit_of_work
def _issue_visit(event_id, service_ids, *, priority, name, nik, phone, by_user_id, max_per_nik, notify=False,
                 locale=None) -> IssuedVisit:
    # FOR NO KEY UPDATE on the event serialises reception desks of one event on PostgreSQL (sequence and
    # NIK cap stay exact) without blocking the FK checks of other writers.
    event = db.session.scalar(
        sa.select(Event).where(Event.id == event_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if event is None:
        raise NotFound(_l("Acara tidak ditemukan."))
    ensure_queue_writable(event_id)
    if event.status != EventStatus.OPEN:
        raise DomainError(_l("Acara belum dibuka atau sudah ditutup; tiket tidak dapat diterbitkan."))

    # Every field is checked before refusing, so reception sees all its mistakes at once.
    problems = Problems()
    ids: list[int] = []
    with problems:
        ids = clean_ids(service_ids, "services", _l("Pilihan layanan tidak dikenal."))
        if not ids:
            raise DomainError(_l("Pilih minimal satu layanan."), field="services")
        offered = services_offered(event_id)
        missing = [i for i in ids if i not in offered]
        if missing:
            raise DomainError(_l("Layanan yang dipilih tidak tersedia di acara ini."), field="services")

    group = Priority.NONE
    with problems:
        try:
            group = Priority(priority or "none")
        except ValueError:
            raise DomainError(_l("Kelompok prioritas tidak dikenal."), field="priority") from None

    name = (name or "").strip() or None
    with problems:
        if name is not None and len(name) > MAX_NAME:
            raise DomainError(_l("Nama paling banyak %(n)d karakter.", n=MAX_NAME), field="name")

    warnings: list[str] = []
    phone = (phone or "").strip() or None
    notify = bool(notify) and notify_rules.enabled()
    with problems:
        if notify:
            phone = notify_rules.message_phone(phone)
        elif phone is not None:
            parsed = lokal.parse_phone(phone)
            if not parsed.valid:
                reason = " ".join(issue.message for issue in parsed.errors)
                raise DomainError(_l("Nomor telepon tidak valid. %(reason)s", reason=reason), field="phone")
            phone = parsed.e164
            warnings.extend(issue.message for issue in parsed.warnings)

    nik = (nik or "").strip() or None
    with problems:
        if nik is not None:
            checked = check_nik(nik)
            nik = checked.nik
            warnings.extend(checked.warnings)
            active = db.session.scalar(
                sa.select(sa.func.count(sa.distinct(Visit.id))).join(Step, Step.visit_id == Visit.id)
                .where(Visit.event_id == event_id, Visit.nik == nik, Step.status.in_(LIVE_STEP_STATES))
            )
            if active >= max_per_nik:
                raise DomainError(_l("NIK ini sudah memiliki %(active)d tiket aktif di acara ini (paling banyak "
                                     "%(max)d).", active=active, max=max_per_nik), field="nik")
    problems.raise_any()
    services = {s.id: s for s in db.session.scalars(sa.select(Service).where(Service.id.in_(ids)))}

    letter = services[ids[0]].ticket_letter
    seq = (db.session.scalar(
        sa.select(sa.func.max(Visit.seq)).where(Visit.event_id == event_id, Visit.letter == letter)
    ) or 0) + 1
    at = now()
    visit = Visit(event_id=event_id, code=f"{letter}-{seq:03d}", letter=letter, seq=seq, name=name, nik=nik,
                  phone=phone, notify=notify, locale=notify_rules.clean_locale(locale) if notify else None,
                  priority=group.value, public_token=secrets.token_urlsafe(32),
                  created_at=at, created_by_id=by_user_id)
    visit.steps = [
        Step(event_id=event_id, service_id=sid, position=pos, status=WAITING, priority_rank=group.rank,
             arrived_at=at)
        for pos, sid in enumerate(ids)
    ]
    db.session.add(visit)
    db.session.flush()
    audit.record("visit.issue", "visit", visit.id, user_id=by_user_id, event_id=event_id, code=visit.code,
                 services=ids, priority=group.value, with_nik=nik is not None, notify=notify)
    bump_version(event_id)
    return IssuedVisit(visit=visit, warnings=warnings)


@unit_of_work
def cancel_visit(visit_id: int, *, by_user_id: int) -> Visit:
    """Cancel every waiting/called/serving step of the visit and clear its busy mark."""
    visit = lock_visit(visit_id)
    steps = db.session.scalars(
        sa.select(Step).where(Step.visit_id == visit.id, Step.status.in_(LIVE_STEP_STATES))
        .with_for_update(key_share=True).execution_options(populate_existing=True)
    ).all()
    if not steps:
        raise Conflict(_l("Tiket ini sudah selesai atau dibatalkan."))
    at = now()
    for step in steps:
        step.status = StepStatus.CANCELLED
        step.finished_at = at
    visit.busy_desk_id = None
    db.session.flush()
    audit.record("visit.cancel", "visit", visit.id, user_id=by_user_id, event_id=visit.event_id,
                 code=visit.code, steps=[s.id for s in steps])
    bump_version(visit.event_id)
    return visit
