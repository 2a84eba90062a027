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

    claims = []  # (visit id, step id, desk id, claimed after, released before)
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
                    claimed_after = time.perf_counter()  # after the claim committed
                    step_id, visit_id = step.id, step.visit_id
                    assert step.desk_id == desk_id and step.status == "called"
                    db.session.rollback()
                    time.sleep(random.uniform(0, 0.003))
                    released_before = time.perf_counter()  # before the release starts
                    q.finish(step_id, outcome="done", by_user_id=officer_id)
                    with lock:
                        claims.append((visit_id, step_id, desk_id, claimed_after, released_before))
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
    by_visit = defaultdict(list)
    for visit_id, _step, desk_id, begin, end in claims:
        by_visit[visit_id].append((begin, end, desk_id))
    for visit_id, intervals in by_visit.items():
        intervals.sort()
        for (b1, e1, d1), (b2, e2, d2) in zip(intervals, intervals[1:]):
            assert e1 <= b2, f"visit {visit_id} busy at desks {d1} and {d2} at once"
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
