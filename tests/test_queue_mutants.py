"""Tests written to kill the mutants `make mutate` found alive in botram/domain/queue/ (docs/mutation-testing.md).

The candidate statement of call-next is built on first use, once per app, so that mutmut reaches it; these tests read it
directly, because the retry path that uses `exclude` and `limit` is taken only when another desk wins a race,
which a single-threaded test never sees."""
from __future__ import annotations

import sqlalchemy as sa

from botram.domain.queue import call
from botram.extensions import db
from botram.models import Step

from .test_queue import Setup, s  # noqa: F401  (the fixture)


def _steps(visits):
    return [db.session.scalar(sa.select(Step.id).where(Step.visit_id == v.id)) for v in visits]


def test_candidates_come_in_queue_order_without_the_excluded_and_up_to_the_limit(s):
    regular1 = s.issue("KTP-REKAM")
    elderly = s.issue("KTP-REKAM", priority="lansia")
    regular2 = s.issue("KK")
    pregnant = s.issue("KK", priority="hamil")
    elsewhere = s.issue("PBB-BAYAR")  # another desk's service
    r1, e, r2, p, _other = _steps([regular1, elderly, regular2, pregnant, elsewhere])

    def ids(**kwargs):
        kwargs.setdefault("exclude", set())
        kwargs.setdefault("limit", 10)
        kwargs.setdefault("regular_only", False)
        return [row[0] for row in call._candidates(s.event_id, s.d1, **kwargs)]

    assert ids() == [e, p, r1, r2]
    assert ids(limit=2) == [e, p]
    assert ids(exclude={e, r1}) == [p, r2]
    assert ids(regular_only=True) == [r1, r2]
    assert ids(regular_only=True, exclude={r1}, limit=1) == [r2]
    rows = call._candidates(s.event_id, s.d1, regular_only=False, exclude=set(), limit=1)
    assert rows == [(e, elderly.id, 0, False)]  # (step, visit, priority rank, due booked)
    assert [row[0] for row in call._candidates(s.event_id, s.d2, regular_only=False, exclude=set(),
                                               limit=10)] == [_other]


def test_a_busy_visit_and_a_called_step_are_no_candidates(s):
    both = s.issue("KTP-REKAM", "PBB-BAYAR")
    later = s.issue("KTP-REKAM")
    at_bapenda = s.call(s.d2)
    assert at_bapenda.visit_id == both.id
    rows = call._candidates(s.event_id, s.d1, regular_only=False, exclude=set(), limit=10)
    assert [row[1] for row in rows] == [later.id]  # `both` is busy at desk 2
    called = s.call(s.d1)
    assert call._candidates(s.event_id, s.d1, regular_only=False, exclude=set(), limit=10) == []
    s.done(called)  # finished, and its visit free again: still no candidate
    assert call._candidates(s.event_id, s.d1, regular_only=False, exclude=set(), limit=10) == []


def test_the_statements_are_built_once_each_per_app(app, s):
    s.issue("KK")
    call._candidates(s.event_id, s.d1, regular_only=False, exclude=set(), limit=1)
    call._candidates(s.event_id, s.d1, regular_only=True, exclude=set(), limit=1)
    first = dict(app.extensions["botram.call_candidates"])
    assert set(first) == {False, True} and first[False] is not first[True]
    call._candidates(s.event_id, s.d1, regular_only=False, exclude=set(), limit=1)
    assert app.extensions["botram.call_candidates"][False] is first[False]


def test_a_transferred_regular_visitor_keeps_their_arrival_ahead_of_a_later_one(s):
    """Arrival, not the step's id, orders regular visitors: a transfer makes a new step (a higher id) that
    keeps the visitor's arrival. (The transfer test of test_queue.py uses a priority visitor, whose rank
    alone puts them first.)"""
    from botram.domain import queue as q

    first = s.issue("KTP-REKAM")
    later = s.issue("KK")
    step = q.call_next(s.d3, by_user_id=s.oid)
    assert step.visit_id == first.id
    moved = q.transfer(step.id, s.ids["KK"], by_user_id=s.oid, note="Perlu KK dulu")
    assert moved.id > _steps([later])[0]
    assert s.call(s.d1).visit_id == first.id
