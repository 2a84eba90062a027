"""16 desks pressing "call next" at the same time, on the file SQLite database or PostgreSQL: no step is
called twice, and no visit is ever busy at two desks."""
from __future__ import annotations

import random
import threading
import time
from collections import defaultdict

import sqlalchemy as sa

from botram.domain import queue as q
from botram.extensions import db
from botram.models import AuditLog, Service, Step, Visit, desk_service

from .conftest import count
from .factories import make_desk, make_event, make_user

DESKS = 16
VISITS = 220


def test_sixteen_desks_calling_at_once_never_share_a_step_or_a_visit(app):
    rng = random.Random(20261128)
    event = make_event()
    services = list(db.session.scalars(sa.select(Service).order_by(Service.code)))
    codes = [s.code for s in services]
    officer = make_user("petugas", "petugas1")
    desks = []
    for n in range(DESKS):
        offered = [codes[n % len(codes)], codes[(n * 5 + 3) % len(codes)]]
        desks.append(make_desk(event, n + 1, "DISDUKCAPIL", sorted(set(offered))))
    desk_ids = [d.id for d in desks]
    officer_id, event_id = officer.id, event.id
    ids = [s.id for s in services]
    multi = 0
    for _ in range(VISITS):
        wanted = rng.sample(ids, rng.choice([1, 1, 2, 2, 3]))
        multi += len(wanted) > 1
        q.issue_visit(event_id, wanted, priority=rng.choice(["none", "none", "none", "lansia", "hamil"]),
                      by_user_id=officer_id)
    total_steps = count(Step)
    assert multi > 50 and total_steps > VISITS

    claims = []  # (visit id, step id, desk id)
    errors = []
    lock = threading.Lock()
    start_gate = threading.Barrier(DESKS)

    def desk_worker(desk_id):
        with app.app_context():
            try:
                start_gate.wait()
                offered = sa.select(desk_service.c.service_id).where(desk_service.c.desk_id == desk_id)
                while True:
                    step = q.call_next(desk_id, by_user_id=officer_id)
                    if step is None:
                        # Nothing eligible: either all done, or the rest is busy at other desks for now.
                        left = count(Step, Step.status == "waiting", Step.service_id.in_(offered))
                        db.session.rollback()
                        if not left:
                            break
                        time.sleep(0.005)
                        continue
                    step_id, visit_id = step.id, step.visit_id
                    assert step.desk_id == desk_id and step.status == "called"
                    db.session.rollback()
                    time.sleep(random.uniform(0, 0.003))  # hold the visit a moment, as an officer would
                    q.finish(step_id, outcome="done", by_user_id=officer_id)
                    with lock:
                        claims.append((visit_id, step_id, desk_id))
            except Exception as exc:  # pragma: no cover - reported by the assertion below
                errors.append(f"desk {desk_id}: {exc!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=desk_worker, args=(d,)) for d in desk_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    db.session.rollback()
    assert errors == []

    step_ids = [c[1] for c in claims]
    assert len(step_ids) == len(set(step_ids)), "a step was called twice"
    assert len(step_ids) == total_steps
    # Never at two desks, by what the database recorded: per visit, each step's time at its desk ends before
    # the next one begins. The audit entries are written after the claim succeeded and before the release
    # committed, so their times order correctly on any database. The steps' own called_at is taken when the
    # claim starts, before a PostgreSQL row lock may make it wait for the previous desk's release; only where
    # writers are serialised (SQLite) must it follow the previous finished_at too.
    audit_at = defaultdict(dict)
    for step_id, action, at in db.session.execute(
            sa.select(AuditLog.entity_id, AuditLog.action, AuditLog.at)
            .where(AuditLog.action.in_(["step.call", "step.finish"]))):
        audit_at[step_id][action] = at
    recorded = {"audit log": defaultdict(list), "steps": defaultdict(list)}
    for step in db.session.scalars(sa.select(Step)):
        recorded["audit log"][step.visit_id].append(
            (audit_at[step.id]["step.call"], audit_at[step.id]["step.finish"], step.desk_id))
        recorded["steps"][step.visit_id].append((step.called_at, step.finished_at, step.desk_id))
    if db.engine.dialect.name != "sqlite":
        del recorded["steps"]
    for source, by_visit in recorded.items():
        overlaps = []
        for visit_id, intervals in by_visit.items():
            intervals.sort()
            overlaps += [(visit_id, d1, d2) for (b1, e1, d1), (b2, e2, d2) in zip(intervals, intervals[1:])
                         if not (b1 <= e1 <= b2 <= e2)]
        assert overlaps == [], f"{source}: visits busy at two desks at once (visit, desk, desk): {overlaps[:5]}"
    assert len({c[2] for c in claims}) > 1

    # The database agrees: every step done once, nobody busy, one call audited per step.
    assert count(Step, Step.status != "done") == 0
    assert count(Visit, Visit.busy_desk_id.is_not(None)) == 0
    assert count(AuditLog, AuditLog.action == "step.call") == total_steps
    assert count(AuditLog, AuditLog.action == "step.finish") == total_steps
    calls_per_step = db.session.execute(
        sa.select(AuditLog.entity_id, sa.func.count()).where(AuditLog.action == "step.call")
        .group_by(AuditLog.entity_id).having(sa.func.count() > 1)).all()
    assert calls_per_step == []


def test_desks_pressing_at_once_for_the_last_visitors_each_get_one(app):
    """Five desks of one service press together while five visitors wait: every desk calls one. On
    PostgreSQL a desk passes over the candidates others are claiming (SKIP LOCKED); were it to lock more
    than the one it takes, the others would find the queue empty while visitors still wait."""
    event = make_event()
    officer_id = make_user("petugas", "petugas1").id
    service_id = db.session.scalar(sa.select(Service.id).where(Service.code == "KK"))
    desk_ids = [make_desk(event, n, "DISDUKCAPIL", ["KK"]).id for n in range(1, 6)]
    for _ in desk_ids:
        q.issue_visit(event.id, [service_id], by_user_id=officer_id)
    called, errors = [], []
    gate = threading.Barrier(len(desk_ids))

    def press(desk_id):
        with app.app_context():
            try:
                gate.wait()
                step = q.call_next(desk_id, by_user_id=officer_id)
                called.append(step.visit_id if step is not None else None)
            except Exception as exc:  # pragma: no cover - reported by the assertion below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    for _round in range(3):  # a few rounds: the overlap of five threads is likely, not certain
        threads = [threading.Thread(target=press, args=(d,)) for d in desk_ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == [] and None not in called and len(set(called)) == len(desk_ids)
        db.session.rollback()
        for step_id in db.session.scalars(sa.select(Step.id).where(Step.status == "called")):
            q.finish(step_id, outcome="done", by_user_id=officer_id)
        for _ in desk_ids:
            q.issue_visit(event.id, [service_id], by_user_id=officer_id)
        called.clear()
