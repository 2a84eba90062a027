"""How long a visitor waits: people ahead in call_next's order and THE wait estimate that the status page,
the ticket and the board all use, from each service's measured time today and the open desks."""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import Desk, DeskState, Service, Step, StepStatus, desk_service
from .. import NotFound
from ..queue_rules import current_rules
from . import order
from .shared import WAITING


@dataclass
class QueueShape:
    """Which desks offer which services at one event, which are open, and how long each service takes
    today: what every wait figure is computed from. Loaded once per page or board state."""

    desks: dict[int, set[int]]  # desk id -> service ids
    open_desks: set[int]
    per_person: dict[int, float]  # service id -> minutes one visitor takes (measured, else the target)
    streaks: dict[int, int] = field(default_factory=dict)  # desk id -> its run of priority calls
    booked_streaks: dict[int, int] = field(default_factory=dict)  # desk id -> its run of due booked calls

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

    def booked_streak_for(self, service_id: int) -> int:
        """The run of due booked calls the order plays forward from: the lowest among the service's open desks
        (else all its desks), as for `streak_for`."""
        desks = self.desks_offering(service_id)
        open_ones = [d for d in desks if d in self.open_desks] or desks
        return min((self.booked_streaks.get(d, 0) for d in open_ones), default=0)

    def streak_for(self, service_id: int) -> int:
        """The run of priority calls the order plays forward from for this service: the lowest among its open
        desks (else among all its desks), which never understates how many priority visitors come first."""
        desks = self.desks_offering(service_id)
        open_ones = [d for d in desks if d in self.open_desks] or desks
        return min((self.streaks.get(d, 0) for d in open_ones), default=0)


def queue_shape(event_id: int) -> QueueShape:
    desks: dict[int, set[int]] = {}
    open_desks: set[int] = set()
    streaks: dict[int, int] = {}
    booked_streaks: dict[int, int] = {}
    for desk_id, state, streak, booked_streak, service_id in db.session.execute(
        sa.select(Desk.id, Desk.state, Desk.priority_streak, Desk.booked_streak, desk_service.c.service_id)
        .join(desk_service, desk_service.c.desk_id == Desk.id).where(Desk.event_id == event_id)
    ):
        desks.setdefault(desk_id, set()).add(service_id)
        streaks[desk_id] = streak
        booked_streaks[desk_id] = booked_streak
        if state == DeskState.OPEN:
            open_desks.add(desk_id)
    offered = set().union(*desks.values()) if desks else set()
    targets = dict(db.session.execute(
        sa.select(Service.id, Service.target_minutes).where(Service.id.in_(offered))).all()) if offered else {}
    measured = service_times_today(event_id)
    # A desk that closes tickets in seconds still takes a citizen about a minute to reach it.
    per_person = {sid: max(1.0, measured.get(sid) or float(targets.get(sid) or 1)) for sid in offered}
    return QueueShape(desks=desks, open_desks=open_desks, per_person=per_person, streaks=streaks,
                      booked_streaks=booked_streaks)


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


def ahead_by_service(step: Step, shape: QueueShape) -> dict[int, int]:
    """Waiting steps of other visits that call_next will take before this one, per service: the queue's order
    (order.py, the fairness cap included) played forward over every service of the desks offering this step's
    service. The visitor's own other steps are not people ahead of them."""
    if step.status != WAITING:
        return {}
    waiting = order.waiting_rows(step.event_id, shape.shared_services(step.service_id))
    rules = current_rules()
    ahead = order.ahead_of(step.id, step.visit_id, waiting, streak=shape.streak_for(step.service_id),
                           cap=rules.priority_cap, booked_streak=shape.booked_streak_for(step.service_id),
                           booking_cap=rules.booking_cap)
    return dict(Counter(row.service_id for row in ahead))


def _people_ahead(step: Step) -> int:
    return sum(ahead_by_service(step, queue_shape(step.event_id)).values())


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
        .where(Step.event_id == event_id, Step.status == StepStatus.DONE,
               Step.called_at.is_not(None), Step.finished_at.is_not(None))
        .group_by(Step.service_id)
    )
    if service_id is not None:
        query = query.where(Step.service_id == service_id)
    return {sid: float(mean) for sid, mean in db.session.execute(query) if mean is not None}


def open_desks_offering(event_id: int, service_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Desk.id))).join(desk_service, desk_service.c.desk_id == Desk.id)
        .where(Desk.event_id == event_id, Desk.state == DeskState.OPEN,
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
    return wait_minutes(ahead_by_service(step, shape), step.service_id, shape)


def service_wait_estimates(event_id: int, waiting_by_service: dict[int, int],
                           shape: QueueShape | None = None) -> dict[int, int | None]:
    """What the board shows per service: the wait of a visitor registering now without priority, who
    queues behind everyone waiting at the desks offering that service. Same rule as a ticket's estimate."""
    shape = shape or queue_shape(event_id)
    offered = set().union(*shape.desks.values()) if shape.desks else set()
    return {sid: wait_minutes({s: waiting_by_service.get(s, 0) for s in shape.shared_services(sid)}, sid, shape)
            for sid in offered}
