"""The queue's order is defined once (botram/domain/queue/order.py): "people ahead" on the status page and the
desk's waiting list agree with the order call_next actually takes, with priority groups, the fairness cap and
transfers mixed (hypothesis)."""
from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st

from botram.domain import queue as q
from botram.domain.queue import order
from botram.domain.queue_rules import EXTENSION, QueueRules
from botram.extensions import db
from botram.models import Step, User

from .conftest import reset_database
from .factories import make_desk, make_event, service

SERVICES = ("KTP-REKAM", "KK")
PRIORITIES = ("none", "none", "none", "lansia", "hamil", "disabilitas")


@pytest.mark.db_independent
def test_call_sequence_takes_a_regular_visitor_after_the_cap():
    rows = [order.Waiting(i, i, 1, rank) for i, rank in enumerate([0, 0, 0, 0, 1, 1], start=1)]
    assert [r.step_id for r in order.call_sequence(rows, streak=0, cap=2)] == [1, 2, 5, 3, 4, 6]
    assert [r.step_id for r in order.call_sequence(rows, streak=2, cap=2)] == [5, 1, 2, 6, 3, 4]
    assert [r.step_id for r in order.call_sequence(rows[:4], streak=5, cap=2)] == [1, 2, 3, 4]


def _world():
    db.session.rollback()
    reset_database()
    event = make_event()
    desk = make_desk(event, 1, "DISDUKCAPIL", list(SERVICES))
    user = User(username="petugas", name="Petugas", password_hash="-", role="petugas")
    db.session.add(user)
    db.session.commit()
    return event.id, desk.id, user.id, [service(code).id for code in SERVICES]


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_people_ahead_and_the_desk_list_are_the_order_call_next_takes(app, data):
    cap = data.draw(st.integers(1, 3), label="priority cap")
    app.extensions[EXTENSION] = dataclasses.replace(QueueRules.from_config(app.config), priority_cap=cap)
    event_id, desk_id, user_id, service_ids = _world()
    visits = data.draw(st.lists(st.tuples(st.sets(st.sampled_from(range(len(SERVICES))), min_size=1),
                                          st.sampled_from(PRIORITIES)), min_size=1, max_size=10), label="visits")
    for picks, priority in visits:
        q.issue_visit(event_id, [service_ids[i] for i in sorted(picks)], priority=priority, by_user_id=user_id)
    # Some calls before the snapshot: each finished or transferred to the other service (keeping its arrival),
    # so the desk has a run of priority calls and some steps came back with their old place.
    for transfer in data.draw(st.lists(st.booleans(), max_size=6), label="calls before"):
        step = q.call_next(desk_id, by_user_id=user_id)
        if step is None:
            break
        other = next(sid for sid in service_ids if sid != step.service_id)
        taken = db.session.scalars(sa.select(Step.service_id).where(
            Step.visit_id == step.visit_id, Step.status == "waiting")).all()
        if transfer and other not in taken:
            q.transfer(step.id, other, by_user_id=user_id)
        else:
            q.finish(step.id, outcome="incomplete", by_user_id=user_id)

    waiting = db.session.execute(sa.select(Step.id, Step.visit_id).where(Step.status == "waiting")).all()
    said_ahead = {step_id: q.people_ahead(step_id) for step_id, _ in waiting}
    listed = [row.step.id for row in q.waiting_for_desk(desk_id)]
    visit_of = dict(waiting)

    called: list[int] = []
    while (step := q.call_next(desk_id, by_user_id=user_id)) is not None:
        called.append(step.id)
        q.finish(step.id, outcome="incomplete", by_user_id=user_id)
    assert set(called) == set(visit_of)
    assert listed == called, "the desk's list is not the order call_next took"
    for step_id, visit_id in visit_of.items():
        before = called[:called.index(step_id)]
        assert said_ahead[step_id] == sum(1 for s in before if visit_of[s] != visit_id), (step_id, cap)


def test_a_visits_steps_of_equal_rank_and_arrival_are_called_in_step_order(app):
    """The step id is the last tie-break: a visit's steps are issued together (one arrival), and PostgreSQL
    promises no order for ties. Here the later step is stored first (both rows written again, in reverse),
    so a scan meets it first on either database: without the tie-break it would be called first."""
    event_id, desk_id, user_id, service_ids = _world()
    # the first step of the higher service id: the queue's index (event, service, status, ...) meets it last
    visit = q.issue_visit(event_id, sorted(service_ids, reverse=True), by_user_id=user_id).visit
    first, second = sorted(visit.steps, key=lambda s: s.id)
    assert first.service_id > second.service_id
    assert first.arrived_at == second.arrived_at
    table = Step.__table__
    rows = {row.id: dict(row._mapping) for row in db.session.execute(sa.select(table).where(
        table.c.id.in_([first.id, second.id])))}
    db.session.execute(table.delete().where(table.c.id.in_(list(rows))))
    db.session.execute(table.insert(), [rows[second.id], rows[first.id]])
    db.session.commit()
    db.session.expire_all()
    assert [row.step_id for row in order.waiting_rows(event_id, service_ids)] == [first.id, second.id]
    called = q.call_next(desk_id, by_user_id=user_id)
    assert called.id == first.id
