"""Reading a desk's queue: the step it is calling or serving, the steps waiting for its services, and a
step loaded whole after a unit of work."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import orm

from ...extensions import db
from ...models import ACTIVE_STEP_STATES, Desk, Service, Step, Visit, desk_service
from .. import NotFound
from ..clock import now
from ..queue_rules import current_rules
from . import order
from .shared import LIVE_STEP_STATES, WAITING


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


def loaded_step(step_id: int) -> Step | None:
    """The step with its visit, service and desk, fresh from the database in one query: what a caller needs
    to answer after a unit of work, whose commit expired everything it had loaded."""
    return db.session.scalar(
        sa.select(Step).where(Step.id == step_id)
        .options(orm.joinedload(Step.visit), orm.joinedload(Step.service), orm.joinedload(Step.desk))
        .execution_options(populate_existing=True))


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
    """Waiting steps for the desk's services in the order call_next takes them (order.py, the fairness cap
    included); steps of visits busy at another desk are included and flagged."""
    desk = db.session.get(Desk, desk_id)
    if desk is None:
        raise NotFound(_l("Loket tidak ditemukan."))
    service_ids = list(db.session.scalars(
        sa.select(desk_service.c.service_id).where(desk_service.c.desk_id == desk_id)))
    if not service_ids:
        return []
    at = now()
    query = (
        sa.select(Step, Visit.code, Service.code, Visit.priority, Visit.busy_desk_id, Service.name)
        .join(Visit, Visit.id == Step.visit_id).join(Service, Service.id == Step.service_id)
        .where(Step.event_id == desk.event_id, Step.service_id.in_(service_ids), Step.status == WAITING)
        .order_by(*order.key_columns(at=at)).limit(limit))
    # The first `limit` calls take only the first `limit` steps by KEY, the first `limit` regular ones and the
    # first `limit` walk-ins (the caps' picks).
    found = {row[0].id: row for row in db.session.execute(query).all()}
    found |= {row[0].id: row for row in db.session.execute(query.where(Step.priority_rank == order.REGULAR)).all()}
    found |= {row[0].id: row for row in db.session.execute(
        query.where(order.band(Step, at) == order.NOT_DUE)).all()}

    def key(row):
        return order.python_key(row[0].priority_rank, row[0].booked_from, row[0].arrived_at, row[0].id, at)

    by_key = sorted(found.values(), key=key)
    rules = current_rules()
    sequence = order.call_sequence(
        [order.Waiting(r[0].id, r[0].visit_id, r[0].service_id, r[0].priority_rank, due=key(r)[1] == order.DUE)
         for r in by_key], streak=desk.priority_streak, cap=rules.priority_cap,
        booked_streak=desk.booked_streak, booking_cap=rules.booking_cap)
    rows = [found[w.step_id] for w in sequence[:limit]]
    visit_ids = {step.visit_id for step, *_ in rows}
    others: dict[int, list[tuple[int, str, int, str]]] = {}
    if visit_ids:
        for visit_id, step_id, code, position, name in db.session.execute(
            sa.select(Step.visit_id, Step.id, Service.code, Step.position, Service.name)
            .join(Service, Service.id == Step.service_id)
            .where(Step.visit_id.in_(visit_ids), Step.status.in_(LIVE_STEP_STATES))
        ):
            others.setdefault(visit_id, []).append((step_id, code, position, name))
    result = []
    for step, visit_code, service_code, priority, busy_desk, service_name in rows:
        other = [(code, name) for sid, code, pos, name in sorted(others.get(step.visit_id, []), key=lambda r: r[2])
                 if sid != step.id]
        result.append(WaitingRow(step=step, visit_code=visit_code, service_code=service_code, priority=priority,
                                 waited_minutes=_minutes_since(step.arrived_at, at), busy=busy_desk is not None,
                                 other_services=[code for code, _ in other], service_name=service_name,
                                 other_service_names=[name for _, name in other]))
    return result
