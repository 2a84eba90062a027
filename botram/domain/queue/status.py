"""What a citizen's status page (`/status/<token>`) shows of a visit: per step where it stands, most urgent
first. No name, NIK or phone."""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from ...extensions import db
from ...models import ACTIVE_STEP_STATES, Event, Visit
from .shared import CALLED, LIVE_STEP_STATES, SERVING, WAITING
from .wait import ahead_by_service, queue_shape, wait_minutes


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
            by_service = ahead_by_service(step, shape)
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
