"""A random sequence of queue operations keeps the queue's invariants (hypothesis stateful test).

The app fixture empties the database per test function, not per hypothesis example, so every example
starts by resetting the database itself.
"""
from __future__ import annotations

from collections import Counter

import dataclasses
import sqlalchemy as sa
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test,
)

from botram.domain import DomainError
from botram.domain import queue as q
from botram.extensions import db
from botram.models import Desk, Event, Step, User, Visit
from botram.domain.queue_rules import QueueRules, current_rules

from .conftest import reset_database
from .factories import make_desk, make_event, service

NO_WAIT = QueueRules.defaults(no_show_min_seconds=0)  # these tests mark a no-show straight after the call
SERVICES = ["KTP-REKAM", "KK", "PBB-BAYAR", "DTKS"]
PRIORITIES = ["none", "none", "lansia", "hamil"]


class QueueMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        db.session.rollback()
        reset_database()
        event = make_event()
        desks = [make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM", "KK"]),
                 make_desk(event, 2, "DISDUKCAPIL", ["KTP-REKAM"]),
                 make_desk(event, 3, "BAPENDA", ["PBB-BAYAR"]),
                 make_desk(event, 4, "DINSOS", ["DTKS", "KK"])]
        user = User(username="petugas", name="Petugas", password_hash="-", role="petugas")
        db.session.add(user)
        db.session.commit()
        self.event_id, self.user_id = event.id, user.id
        self.desk_ids = [d.id for d in desks]
        self.service_ids = [service(c).id for c in SERVICES]
        self.arrived = {}  # waiting step id -> arrived_at it must keep
        self.steps_per_visit = Counter()
        self.visit_ids = []
        self.writes = 0

    # ------------------------------------------------------------------ helpers

    def _current(self, desk_index):
        step = q.desk_current(self.desk_ids[desk_index % len(self.desk_ids)])
        return step

    def _wrote(self):
        self.writes += 1

    # -------------------------------------------------------------------- rules

    @initialize(visits=st.lists(st.tuples(st.lists(st.integers(0, len(SERVICES) - 1), min_size=1, max_size=3),
                                          st.sampled_from(PRIORITIES)), min_size=3, max_size=8))
    def crowd(self, visits):
        """Start with people already waiting, most of them for more than one service."""
        for picks, priority in visits:
            self.issue(picks, priority)

    @rule(picks=st.lists(st.integers(0, len(SERVICES) - 1), min_size=1, max_size=3),
          priority=st.sampled_from(PRIORITIES))
    def issue(self, picks, priority):
        visit = q.issue_visit(self.event_id, [self.service_ids[i] for i in picks], priority=priority,
                              by_user_id=self.user_id).visit
        self._wrote()
        self.visit_ids.append(visit.id)
        for step in visit.steps:
            self.arrived[step.id] = step.arrived_at
            self.steps_per_visit[visit.id] += 1
        assert len(visit.steps) == len(set(picks))

    @rule(desk=st.integers(0, 3), cap=st.integers(1, 3))
    def call(self, desk, cap):
        desk_id = self.desk_ids[desk]
        had = q.desk_current(desk_id)
        try:
            step = q.call_next(desk_id, by_user_id=self.user_id, rules=dataclasses.replace(current_rules(), priority_cap=cap))
        except DomainError:
            assert had is not None or db.session.get(Desk, desk_id).state != "open"
            return
        assert had is None
        if step is not None:
            self._wrote()
            assert step.desk_id == desk_id and step.status == "called"
            self.arrived.pop(step.id)

    @rule(desk=st.integers(0, 3))
    def start(self, desk):
        step = self._current(desk)
        if step is not None and step.status == "called":
            q.start(step.id, by_user_id=self.user_id)
            self._wrote()

    @rule(desk=st.integers(0, 3), outcome=st.sampled_from(["done", "incomplete", "referred"]))
    def finish(self, desk, outcome):
        step = self._current(desk)
        if step is not None:
            q.finish(step.id, outcome=outcome, by_user_id=self.user_id)
            self._wrote()

    @rule(desk=st.integers(0, 3))
    def recall(self, desk):
        step = self._current(desk)
        if step is not None and step.status == "called":
            try:
                q.recall(step.id, by_user_id=self.user_id)
                self._wrote()
            except DomainError as exc:
                assert "tandai tidak hadir" in exc.message

    @rule(desk=st.integers(0, 3))
    def no_show(self, desk):
        step = self._current(desk)
        if step is not None and step.status == "called":
            q.no_show(step.id, by_user_id=self.user_id, rules=NO_WAIT)
            self._wrote()

    @rule(desk=st.integers(0, 3), to=st.integers(0, len(SERVICES) - 1))
    def transfer(self, desk, to):
        step = self._current(desk)
        if step is None:
            return
        try:
            new = q.transfer(step.id, self.service_ids[to], by_user_id=self.user_id)
        except DomainError as exc:
            assert exc.field == "service"
            return
        self._wrote()
        old = db.session.get(Step, new.transferred_from_id)
        assert new.arrived_at == old.arrived_at and new.priority_rank == old.priority_rank
        self.arrived[new.id] = new.arrived_at
        self.steps_per_visit[new.visit_id] += 1

    @rule(pick=st.integers(0, 1000))
    def restore(self, pick):
        absent = db.session.scalars(sa.select(Step).where(Step.status == "no_show").order_by(Step.id)).all()
        if not absent:
            return
        step = absent[pick % len(absent)]
        expired, arrived = q.is_expired(step), step.arrived_at
        back = q.restore_step(step.id, by_user_id=self.user_id)
        self._wrote()
        assert back.status == "waiting"
        assert (back.arrived_at > arrived) if expired else (back.arrived_at == arrived)
        self.arrived[back.id] = back.arrived_at

    @rule(pick=st.integers(0, 1000))
    def cancel(self, pick):
        if not self.visit_ids:
            return
        visit_id = self.visit_ids[pick % len(self.visit_ids)]
        live = [s.id for s in db.session.get(Visit, visit_id).steps if s.status in ("waiting", "called", "serving")]
        try:
            q.cancel_visit(visit_id, by_user_id=self.user_id)
        except DomainError:
            assert not live
            return
        self._wrote()
        for step_id in live:
            self.arrived.pop(step_id, None)

    @rule(desk=st.integers(0, 3), state=st.sampled_from(["open", "open", "paused", "closed"]))
    def desk_state(self, desk, state):
        desk_id = self.desk_ids[desk]
        try:
            q.set_desk_state(desk_id, state, by_user_id=self.user_id)
        except DomainError:
            assert state == "closed" and q.desk_current(desk_id) is not None
            return
        self._wrote()

    # --------------------------------------------------------------- invariants

    @invariant()
    def queue_is_consistent(self):
        db.session.rollback()  # read what is committed
        steps = db.session.scalars(sa.select(Step)).all()
        visits = {v.id: v for v in db.session.scalars(sa.select(Visit))}
        active_by_visit, active_by_desk = Counter(), Counter()
        for step in steps:
            if step.status in ("called", "serving"):
                active_by_visit[step.visit_id] += 1
                active_by_desk[step.desk_id] += 1
                assert step.desk_id is not None
                assert visits[step.visit_id].busy_desk_id == step.desk_id
        assert all(n == 1 for n in active_by_visit.values()), "a visit is at two desks"
        assert all(n == 1 for n in active_by_desk.values()), "a desk has two current visitors"
        for visit in visits.values():
            if visit.id not in active_by_visit:
                assert visit.busy_desk_id is None
        waiting = {s.id: s.arrived_at for s in steps if s.status == "waiting"}
        assert waiting == self.arrived
        assert Counter(s.visit_id for s in steps) == self.steps_per_visit
        assert len(steps) == sum(self.steps_per_visit.values())
        version = db.session.scalar(sa.select(Event.queue_version).where(Event.id == self.event_id))
        assert version == self.writes


def test_random_operations_keep_the_queue_invariants(app):
    run_state_machine_as_test(QueueMachine, settings=settings(
        max_examples=8, stateful_step_count=25, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))
