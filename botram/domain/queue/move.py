"""A step that leaves its desk unserved: transferred to another service, or marked absent (no-show) and
later put back in the queue by reception, at its old place or, once expired, at the end."""
from __future__ import annotations

import math

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import ACTIVE_STEP_STATES, Step, StepStatus
from .. import Conflict, DomainError, audit
from ..clock import now
from ..queue_rules import QueueRules, current_rules
from ..uow import bump_version, unit_of_work
from .shared import (
    CALLED, LIVE_STEP_STATES, WAITING, back_to_waiting, clean_note, lock_step, release_visit, require_status,
    services_offered,
)


@unit_of_work
def transfer(step_id: int, to_service_id: int, *, by_user_id: int, note: str | None = None) -> Step:
    """Move the need to another service; the new waiting step keeps the original arrival and priority."""
    step = lock_step(step_id)
    require_status(step, ACTIVE_STEP_STATES, _l("dialihkan"))
    try:
        to_service_id = int(to_service_id)
    except (TypeError, ValueError):
        raise DomainError(_l("Layanan tujuan tidak dikenal."), field="service") from None
    if to_service_id == step.service_id:
        raise DomainError(_l("Pilih layanan tujuan yang berbeda dari layanan sekarang."), field="service")
    if to_service_id not in services_offered(step.event_id):
        raise DomainError(_l("Layanan tujuan tidak tersedia di acara ini."), field="service")
    duplicate = db.session.scalar(
        sa.select(Step.id).where(Step.visit_id == step.visit_id, Step.service_id == to_service_id,
                                 Step.status.in_(LIVE_STEP_STATES)))
    if duplicate is not None:
        raise DomainError(_l("Pengunjung ini sudah ada dalam antrean layanan tujuan."), field="service")
    note = clean_note(note)

    step.status = StepStatus.TRANSFERRED
    step.finished_at = now()
    if note:
        step.note = note
    position = db.session.scalar(sa.select(sa.func.max(Step.position)).where(Step.visit_id == step.visit_id))
    new = Step(visit_id=step.visit_id, event_id=step.event_id, service_id=to_service_id,
               position=(position or 0) + 1, status=WAITING, priority_rank=step.priority_rank,
               arrived_at=step.arrived_at, transferred_from_id=step.id)
    db.session.add(new)
    db.session.flush()
    release_visit(step)
    audit.record("step.transfer", "step", step.id, user_id=by_user_id, event_id=step.event_id,
                 desk_id=step.desk_id, to_service=to_service_id, new_step=new.id)
    bump_version(step.event_id)
    return new


def no_show_wait(step: Step, *, rules: QueueRules | None = None, at=None) -> tuple[int, int]:
    """What still stands between a called step and "tidak hadir": (recalls left, seconds left). Absence
    is accepted once either is zero: the visitor was called as often as the rules ask, or had the
    minimum time to reach the desk since the call."""
    rules = rules or current_rules()
    recalls_left = max(0, rules.max_recalls - step.recall_count)
    if step.called_at is None or recalls_left == 0:
        return recalls_left, 0
    waited = ((at or now()) - step.called_at).total_seconds()
    return recalls_left, max(0, math.ceil(rules.no_show_min_seconds - waited))


@unit_of_work
def no_show(step_id: int, *, by_user_id: int, rules: QueueRules | None = None) -> Step:
    """The called citizen did not come: called → no_show; reception can put them back. Refused (Conflict)
    until the visitor was recalled `rules.max_recalls` times or `rules.no_show_min_seconds` passed since
    the call, saying what remains."""
    step = lock_step(step_id)
    require_status(step, (CALLED,), _l("ditandai tidak hadir"))
    recalls_left, seconds_left = no_show_wait(step, rules=rules)
    if recalls_left and seconds_left:
        raise Conflict(_l("Belum dapat ditandai tidak hadir: panggil ulang %(recalls)d kali lagi, atau tunggu "
                          "%(seconds)d detik lagi.", recalls=recalls_left, seconds=seconds_left))
    step.status = StepStatus.NO_SHOW
    step.finished_at = now()
    db.session.flush()
    release_visit(step)
    audit.record("step.no_show", "step", step.id, user_id=by_user_id, event_id=step.event_id,
                 desk_id=step.desk_id, recall_count=step.recall_count)
    bump_version(step.event_id)
    return step


def is_expired(step: Step, *, rules: QueueRules | None = None) -> bool:
    """A no-show ticket expires once it was recalled `rules.max_recalls` times, or `rules.no_show_after`
    later numbers of the same service were called after it was marked absent."""
    rules = rules or current_rules()
    if step.status != StepStatus.NO_SHOW:
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


@unit_of_work
def restore_step(step_id: int, *, by_user_id: int, rules: QueueRules | None = None) -> Step:
    """Reception puts a no-show step back in its queue: original place, or at the end once expired."""
    step = lock_step(step_id)
    require_status(step, (StepStatus.NO_SHOW,), _l("dikembalikan ke antrean"))
    expired = is_expired(step, rules=rules)
    back_to_waiting(step)
    if expired:
        step.arrived_at = now()
    db.session.flush()
    audit.record("step.restore", "step", step.id, user_id=by_user_id, event_id=step.event_id,
                 visit_id=step.visit_id, expired=expired)
    bump_version(step.event_id)
    return step
