"""`botram backup` and `botram restore` round trip: what was backed up comes back, later changes go.

Runs on a database of its own: a temporary SQLite file, or `<test database>_bak` on PostgreSQL
(pg_dump/pg_restore) when BOTRAM_TEST_DATABASE_URL points there.
"""
from __future__ import annotations

import os
import shutil

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from botram import create_app
from botram.domain import queue
from botram.domain.reference import seed_reference
from botram.extensions import db
from botram.models import AuditLog, Step, User, Visit

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
