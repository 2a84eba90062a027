"""A closed step opened again: a finish, a no-show or a transfer that was a mistake, found after the
seconds the undo allows. The desk that closed it may reopen it for the rest of the day, reception and the
coordinator at any time while the event is open; always with a reason, audited.

Where it goes: back to `waiting` with its original arrival time and priority, so it stands where it stood
before it was called (normally at the front of its service's queue) and the next call of any desk offering
the service takes it. Not "called again at the same desk": that desk may be serving someone else by now,
and reception reopening a step has no desk to call it to. The entries the officer made (requirements
presented, amount, note) stay, so whoever calls it next sees and corrects them.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import Event, EventStatus, Step, StepStatus
from .. import Conflict, DomainError, audit
from ..clock import now, to_wib
from ..privacy import redact
from ..uow import bump_version, unit_of_work
from .shared import LIVE_STEP_STATES, STATUS_LABEL, WAITING, back_to_waiting, lock_step

REOPENABLE = (StepStatus.DONE, StepStatus.NO_SHOW, StepStatus.TRANSFERRED)
MIN_REASON = 3
MAX_REASON = 500


def _clean_reason(reason: str | None) -> str:
    """One line of the officer's words; a NIK or phone number typed into it never reaches the audit log."""
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON:
        raise DomainError(_l("Tulis alasan membuka kembali (paling sedikit %(n)d karakter).", n=MIN_REASON),
                          field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(_l("Alasan paling banyak %(n)d karakter.", n=MAX_REASON), field="reason")
    return redact(reason)


def closed_today(desk_id: int, *, at: datetime | None = None, limit: int = 30) -> list[Step]:
    """The steps this desk closed today (WIB) that it may still reopen, the latest first."""
    day_start = to_wib(at or now()).replace(hour=0, minute=0, second=0, microsecond=0)
    return list(db.session.scalars(
        sa.select(Step).where(Step.desk_id == desk_id, Step.status.in_(REOPENABLE), Step.finished_at >= day_start)
        .order_by(Step.finished_at.desc(), Step.id.desc()).limit(limit)))


@unit_of_work
def reopen_step(step_id: int, *, reason: str, by_user_id: int, desk_id: int | None = None) -> Step:
    """Open a done, no-show or transferred step again: back to waiting at its original arrival time.

    `desk_id` is the desk asking (a desk console, or an officer through the API): it must be the desk that
    closed the step, on the same day (WIB). Without it the caller is reception or the coordinator (the
    blueprint checked the role). A transferred step takes back its transfer: the step it created is
    cancelled, refused (Conflict) once that one was called or served.
    """
    reason = _clean_reason(reason)
    step = lock_step(step_id)
    if step.status not in REOPENABLE:
        raise Conflict(_l("Antrean ini tidak dapat dibuka kembali: statusnya %(status)s.",
                          status=STATUS_LABEL.get(step.status, step.status)))
    event = db.session.get(Event, step.event_id)
    if event.status != EventStatus.OPEN:
        raise Conflict(_l("Kegiatan ini tidak sedang berlangsung; antrean tidak dapat dibuka kembali."))
    at = now()
    if desk_id is not None:
        if step.desk_id != desk_id:
            raise Conflict(_l("Hanya loket yang menutup antrean ini yang dapat membukanya kembali. "
                              "Minta bantuan meja pendaftaran."))
        if step.finished_at is None or to_wib(step.finished_at).date() != to_wib(at).date():
            raise Conflict(_l("Antrean dari hari sebelumnya hanya dapat dibuka kembali oleh meja pendaftaran "
                              "atau koordinator."))
    duplicate = db.session.scalar(
        sa.select(Step.id).where(Step.visit_id == step.visit_id, Step.service_id == step.service_id,
                                 Step.id != step.id, Step.status.in_(LIVE_STEP_STATES)))
    if duplicate is not None:
        raise Conflict(_l("Pengunjung ini sudah ada lagi dalam antrean layanan ini."))
    cancelled = None
    if step.status == StepStatus.TRANSFERRED:
        # The step this transfer created (the latest, should it have been reopened and transferred before).
        created = db.session.scalar(
            sa.select(Step).where(Step.transferred_from_id == step.id).order_by(Step.id.desc()).limit(1)
            .with_for_update(key_share=True).execution_options(populate_existing=True))
        if created is not None and created.status not in (WAITING, StepStatus.CANCELLED):
            raise Conflict(_l("Tidak dapat dibuka kembali: layanan tujuan pengalihan sudah %(status)s.",
                              status=STATUS_LABEL.get(created.status, created.status)))
        if created is not None and created.status == WAITING:
            created.status = StepStatus.CANCELLED
            created.finished_at = at
            cancelled = created.id
    before = {"status": step.status, "outcome": step.outcome, "desk_id": step.desk_id,
              "finished_at": step.finished_at.isoformat() if step.finished_at else None}
    closed_by_desk = step.desk_id
    back_to_waiting(step)
    step.outcome = None
    db.session.flush()
    audit.record("step.reopen", "step", step.id, user_id=by_user_id, event_id=step.event_id,
                 desk_id=closed_by_desk, visit_id=step.visit_id, reason=reason, before=before,
                 by_desk=desk_id, cancelled_step=cancelled)
    bump_version(step.event_id)
    return step

