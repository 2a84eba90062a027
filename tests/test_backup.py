"""`botram backup` and `botram restore` round trip: what was backed up comes back, later changes go.

Runs on a database of its own: a temporary SQLite file, or `<test database>_bak` on PostgreSQL
(pg_dump/pg_restore) when BOTRAM_TEST_DATABASE_URL points there.
"""
from __future__ import annotations

import os
import shutil
import threading
import time

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from botram import create_app
from botram.domain import queue
from botram.domain.reference import seed_reference
from botram.extensions import db
from botram.models import AuditLog, Step, User, Visit

from .conftest import count
from .factories import make_desk, make_event, make_user, service


@pytest.fixture
def scratch_app(tmp_path):
    base = os.environ.get("BOTRAM_TEST_DATABASE_URL")
    admin = None
    if base and base.startswith("postgresql"):
        if not shutil.which("pg_dump") or not shutil.which("pg_restore"):
            pytest.skip("PostgreSQL client tools are not installed")
        import psycopg

        url = make_url(base)
        name = f"{url.database}_bak"
        admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        database_url = url.set(database=name).render_as_string(hide_password=False)
    else:
        database_url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path),
                      "SECRET_KEY": "test", "BOTRAM_PASSWORD_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        upgrade()
        seed_reference()
        yield app
        db.session.remove()
        db.engine.dispose()
    if admin:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _state() -> dict:
    return {
        "users": sorted(db.session.scalars(sa.select(User.username))),
        "visits": sorted(db.session.execute(sa.select(Visit.code, Visit.nik, Visit.public_token)).all()),
        "steps": sorted(db.session.execute(sa.select(Step.id, Step.status, Step.finished_at)).all()),
        "audit": db.session.scalar(sa.select(sa.func.count(AuditLog.id))),
    }


def test_backup_and_restore_round_trip(scratch_app, tmp_path):
    clerk, officer = make_user("resepsionis"), make_user("petugas")
    event = make_event()
    desk = make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM"])
    for nik in ("3216014512900003", None):
        queue.issue_visit(event.id, [service("KTP-REKAM").id], nik=nik, by_user_id=clerk.id)
        db.session.commit()
    step = queue.call_next(desk.id, by_user_id=officer.id)
    queue.finish(step.id, outcome="done", by_user_id=officer.id)
    db.session.commit()
    saved = _state()
    runner = scratch_app.test_cli_runner()

    target = tmp_path / "backups" / "botram.bak"
    result = runner.invoke(args=["backup", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.exists() and target.stat().st_size > 0 and "Restore" in result.output

    # the day goes on after the backup: another ticket, a new user
    queue.issue_visit(event.id, [service("KTP-REKAM").id], by_user_id=clerk.id)
    make_user("keuangan")
    db.session.commit()
    assert _state() != saved

    refused = runner.invoke(args=["restore", str(target)])
    assert refused.exit_code != 0 and "--yes" in refused.output
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert _state() == saved
    # the restored database serves: a sign-in works
    scratch_app.config["WTF_CSRF_ENABLED"] = False
    response = scratch_app.test_client().post("/login", data={"username": "petugas", "password": "rahasia-123"})
    assert response.status_code == 303


def test_restore_refuses_a_file_that_is_not_a_backup(scratch_app, tmp_path):
    junk = tmp_path / "junk.bak"
    junk.write_bytes(b"not a database" * 100)
    make_user("admin")
    result = scratch_app.test_cli_runner().invoke(args=["restore", str(junk), "--yes"])
    assert result.exit_code != 0, result.output
    assert "failed" in result.output or "not a BOTRAM" in result.output, result.output
    db.session.remove()
    assert db.session.scalars(sa.select(User.username)).all() == ["admin"]


# --- while the desks write: the backup holds every ticket committed before it started, no half of a ticket (a
# visit without its step or its audit entry), and restores into a database that serves.

def test_a_backup_taken_while_desks_write_is_whole_and_restores(scratch_app, tmp_path):
    clerk = make_user("resepsionis").id
    event = make_event()
    event_id = event.id
    make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM"])
    service_id = service("KTP-REKAM").id
    db.session.commit()
    issued, stop, failures = [0], threading.Event(), []

    def reception_desk():
        with scratch_app.app_context():
            try:
                while not stop.is_set():
                    queue.issue_visit(event_id, [service_id], by_user_id=clerk)
                    issued[0] += 1  # counted once committed
            except Exception as exc:  # noqa: BLE001 - reported by the test below
                failures.append(exc)
            finally:
                db.session.remove()

    writer = threading.Thread(target=reception_desk)
    writer.start()
    try:
        _wait_for(lambda: issued[0] >= 5)
        committed_before = issued[0]
        target = tmp_path / "siang.bak"
        result = scratch_app.test_cli_runner().invoke(args=["backup", "--output", str(target)])
        committed_after = issued[0]
        _wait_for(lambda: issued[0] >= committed_after + 5)  # the desks kept writing after it
    finally:
        stop.set()
        writer.join(30)
    assert not failures, failures
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert count(Visit) > committed_after + 1

    restored = scratch_app.test_cli_runner().invoke(args=["restore", str(target), "--yes"])
    assert restored.exit_code == 0, restored.output
    db.session.remove()
    visits = count(Visit)
    assert committed_before <= visits <= committed_after + 1, (committed_before, visits, committed_after)
    assert count(Step) == visits, "every ticket in the backup has its step"
    assert count(AuditLog, AuditLog.action == "visit.issue") == visits, "and its audit entry"
    # the restored database serves: the next ticket follows on
    queue.issue_visit(event_id, [service_id], by_user_id=clerk)
    db.session.commit()
    assert count(Visit) == visits + 1


def _wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the desk stopped writing"
        time.sleep(0.01)


def test_a_restore_computes_every_closed_events_summary_again(scratch_app, tmp_path):
    """A backup from before the summaries (or older than its rows) comes back with each closed event's summary
    equal to a fresh computation of the restored rows."""
    from botram.domain import events
    from botram.models import EventSummary

    from .summary_helpers import assert_summary_is_fresh

    officer, boss = make_user("petugas"), make_user("koordinator")
    event = make_event()
    desk = make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM"])
    for _ in range(3):
        queue.issue_visit(event.id, [service("KTP-REKAM").id], by_user_id=boss.id)
    db.session.commit()
    step = queue.call_next(desk.id, by_user_id=officer.id)
    queue.finish(step.id, outcome="done", by_user_id=officer.id)
    events.change_status(event, "closed", by_user_id=boss.id)
    event_id = event.id
    # as if the backup predates the summaries: the closed event has no row
    db.session.execute(sa.delete(EventSummary))
    db.session.commit()
    target = tmp_path / "backups" / "botram.bak"
    runner = scratch_app.test_cli_runner()
    assert runner.invoke(args=["backup", "--output", str(target)]).exit_code == 0
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    row = assert_summary_is_fresh(event_id)
    assert (row.visits, row.done_steps) == (3, 1)
