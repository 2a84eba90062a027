"""The mixing rule (queue/order.py rules 1-3, docs/queue-domain.md): bookings, walk-ins, late arrivals,
no-shows and priority groups at one desk, with the documented bounds checked after every call (hypothesis):

- a due booked visitor (checked in by their window's start, the window begun) is never passed by a walk-in of
  the same rank unless the desk owed walk-ins a call (`booking_cap` due booked calls in a row);
- walk-ins are never starved: while a walk-in waits, a desk calls at most `booking_cap` due booked visitors in
  a row;
- the priority cap still holds; a late booker (no `booked_from`) and an early one (window not begun) are
  walk-ins by their queue time;
- the desk's list and "people ahead" are the order call_next then takes.
"""
from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings, strategies as st

from botram.domain import queue as q
from botram.domain.clock import now
from botram.domain.queue import order
from botram.domain.queue_rules import EXTENSION, QueueRules
from botram.extensions import db
from botram.models import Step, Visit

from .test_queue_order import PRIORITIES, _world

KINDS = ("walk-in", "walk-in", "due", "due", "early", "late")


def _issue(event_id, service_ids, user_id, kind, priority, offset):
    issued = q.issue_visit(event_id, service_ids, priority=priority, by_user_id=user_id).visit
    if kind != "walk-in":
        visit = db.session.get(Visit, issued.id)
        visit.booked = True
        if kind in ("due", "early"):
            # due: the window began `offset` minutes ago; early: it begins in an hour
            start = now() - timedelta(minutes=offset) if kind == "due" else now() + timedelta(hours=1)
            for step in visit.steps:
                step.booked_from = start
        db.session.commit()  # test setup: what checkin.check_in writes, without a booking plan
    return issued.id


def test_unit_pick_rules():
    W = order.Waiting
    rows = [W(1, 1, 1, 1, due=True), W(2, 2, 1, 1, due=True), W(3, 3, 1, 1, due=True), W(4, 4, 1, 1)]
    assert [r.step_id for r in order.call_sequence(rows, streak=0, cap=3, booking_cap=2)] == [1, 2, 4, 3]
    assert [r.step_id for r in order.call_sequence(rows, streak=0, cap=3, booked_streak=2, booking_cap=2)] == [
        4, 1, 2, 3]
    assert [r.step_id for r in order.call_sequence(rows, streak=0, cap=3, booking_cap=5)] == [1, 2, 3, 4]


# A call-and-check loop of up to 65 calls an example: minutes on PostgreSQL, not the default 120 s.
@pytest.mark.timeout(600)
@settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_bookings_and_walk_ins_keep_the_documented_bounds(app, data):
    cap = data.draw(st.integers(1, 3), label="priority cap")
    booking_cap = data.draw(st.integers(1, 3), label="booking cap")
    app.extensions[EXTENSION] = dataclasses.replace(QueueRules.from_config(app.config), priority_cap=cap,
                                                    booking_cap=booking_cap)
    event_id, desk_id, user_id, service_ids = _world()
    ops = data.draw(st.lists(st.one_of(
        st.tuples(st.just("issue"), st.sampled_from(KINDS), st.sampled_from(PRIORITIES), st.integers(0, 90),
                  st.sets(st.sampled_from(range(len(service_ids))), min_size=1)),
        st.tuples(st.just("call"), st.sampled_from(("finish", "finish", "no_show")))), min_size=1, max_size=25),
        label="operations")
    booked_run = 0   # due booked calls in a row while a walk-in waited
    priority_run = 0
    for op in ops + [("call", "finish")] * 40:
        if op[0] == "issue":
            _, kind, priority, offset, picks = op
            _issue(event_id, [service_ids[i] for i in sorted(picks)], user_id, kind, priority, offset)
            continue
        at = now()
        waiting = db.session.execute(sa.select(Step.id, Step.priority_rank, Step.booked_from, Step.arrived_at,
                                               Visit.busy_desk_id)
                                     .join(Visit, Visit.id == Step.visit_id).where(Step.status == "waiting")).all()
        free = [w for w in waiting if w.busy_desk_id is None]
        listed = [row.step.id for row in q.waiting_for_desk(desk_id)]
        owed, priority_owed = db.session.execute(sa.text("SELECT booked_streak, priority_streak FROM desk WHERE id = :d"),
                                                 {"d": desk_id}).one()
        step = q.call_next(desk_id, by_user_id=user_id)
        if step is None:
            assert not free
            continue
        assert listed and listed[0] == step.id, "the desk's list does not start with the step call_next takes"
        due = step.booked_from is not None and step.booked_from <= at
        walk_in_waited = any(not (w.booked_from is not None and w.booked_from <= at) and w.id != step.id
                             for w in free)
        booked_run = booked_run + 1 if (due and walk_in_waited) else 0
        if booked_run > booking_cap:
            # Both caps owed and every walk-in waiting is a priority visitor: the priority cap takes a regular
            # (this due booker) first, and the walk-in is the next call (docs/queue-domain.md, "Bounds").
            only_priority_walk_ins = all(w.priority_rank != order.REGULAR for w in free if w.id != step.id
                                         and not (w.booked_from is not None and w.booked_from <= at))
            assert booked_run == booking_cap + 1 and priority_owed >= cap and only_priority_walk_ins, (
                "walk-ins starved: more due booked calls in a row than the cap")
        priority_run = priority_run + 1 if step.priority_rank != order.REGULAR else 0
        regular_waited = any(w.priority_rank == order.REGULAR for w in free if w.id != step.id)
        if regular_waited:
            assert priority_run <= cap
        if not due:
            passed = [w for w in free if w.priority_rank == step.priority_rank and w.booked_from is not None
                      and w.booked_from <= at]
            if passed:  # a due booker passed by a walk-in of their rank: only when walk-ins were owed a call
                assert owed >= booking_cap, "a walk-in was called before a due booked visitor of the same rank"
        if op[1] == "no_show":
            q.cancel_visit(step.visit_id, by_user_id=user_id)  # a no-show leaves: its other steps go too
        else:
            q.finish(step.id, outcome="incomplete", by_user_id=user_id)
    assert db.session.scalar(sa.select(sa.func.count(Step.id)).where(Step.status == "waiting")) == 0
