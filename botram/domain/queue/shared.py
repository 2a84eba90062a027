"""What every module of the queue shares: the live step states, the limits of what a desk enters, the row
locks taken in the one fixed order (desk → visit → step → event, docs/unit-of-work.md) and the cleaning of
ids and notes. Internal to the package: callers use the names `botram.domain.queue` exports."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import ACTIVE_STEP_STATES, Desk, Step, StepStatus, Visit, desk_service
from .. import Conflict, DomainError, NotFound, money
from ..field import ensure_queue_writable
from ..ids import parse_id

WAITING = StepStatus.WAITING
CALLED = StepStatus.CALLED
SERVING = StepStatus.SERVING
LIVE_STEP_STATES = (WAITING, CALLED, SERVING)
OUTCOMES = ("done", "incomplete", "referred")
MAX_AMOUNT = money.MAX_RUPIAH  # the one upper bound of every amount (botram/domain/money.py)
MAX_NOTE = 1000
MAX_NAME = 120
STATUS_LABEL = {
    "waiting": _l("menunggu"), "called": _l("dipanggil"), "serving": _l("sedang dilayani"), "done": _l("selesai"),
    "no_show": _l("tidak hadir"), "transferred": _l("dialihkan"), "cancelled": _l("dibatalkan"),
}


def lock_visit(visit_id: int) -> Visit:
    visit = db.session.scalar(
        sa.select(Visit).where(Visit.id == visit_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if visit is None:
        raise NotFound(_l("Tiket tidak ditemukan."))
    ensure_queue_writable(visit.event_id)  # every step write passes here (docs/field-sync.md)
    return visit


def lock_step(step_id: int) -> Step:
    """The step and its visit, locked visit first (the order call_next uses)."""
    visit_id = db.session.scalar(sa.select(Step.visit_id).where(Step.id == step_id))
    if visit_id is None:
        raise NotFound(_l("Antrean tidak ditemukan."))
    lock_visit(visit_id)
    return db.session.scalar(
        sa.select(Step).where(Step.id == step_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def release_visit(step: Step) -> None:
    """Clear the visit's busy mark if this step's desk holds it."""
    db.session.execute(
        sa.update(Visit).where(Visit.id == step.visit_id, Visit.busy_desk_id == step.desk_id)
        .values(busy_desk_id=None),
        execution_options={"synchronize_session": False},
    )


def back_to_waiting(step: Step) -> None:
    """A closed step waits again as if never called (reception's restore, a reopen): no desk, no times,
    no recalls; its arrival time is the caller's decision."""
    step.status = WAITING
    step.desk_id = None
    step.served_by_id = None
    step.called_at = None
    step.started_at = None
    step.finished_at = None
    step.recall_count = 0


def require_status(step: Step, allowed: tuple[str, ...], action: str) -> None:
    if step.status not in allowed:
        raise Conflict(_l("Antrean ini tidak dapat %(action)s: statusnya %(status)s.", action=action,
                           status=STATUS_LABEL.get(step.status, step.status)))


def services_offered(event_id: int) -> set[int]:
    return set(db.session.scalars(
        sa.select(desk_service.c.service_id).join(Desk, Desk.id == desk_service.c.desk_id)
        .where(Desk.event_id == event_id).distinct()
    ))


def clean_ids(raw, field_name: str, message: str) -> list[int]:
    ids: list[int] = []
    for value in raw or []:
        # ids a row could have, from ints or ASCII digits: 2**70 or "٣" never reaches SQL, 1.5 is not read as 1
        number = parse_id(value)
        if number is None:
            raise DomainError(message, field=field_name)
        if number not in ids:
            ids.append(number)
    return ids


def clean_note(note: str | None) -> str | None:
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise DomainError(_l("Catatan paling banyak %(n)d karakter.", n=MAX_NOTE), field="note")
    return note


def current_step_id(desk_id: int) -> int | None:
    return db.session.scalar(
        sa.select(Step.id).where(Step.desk_id == desk_id, Step.status.in_(ACTIVE_STEP_STATES))
        .order_by(Step.called_at.desc()).limit(1))
