"""Migrations: one head; a database created by the first migration, with data in it, upgrades to head and
keeps its data; downgrade and upgrade again; the migrated schema matches the models.

Runs on its own database next to the suite's: a temporary SQLite file, or `<test database>_mig` on
PostgreSQL when BOTRAM_TEST_DATABASE_URL points there.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy.engine import make_url

from botram import create_app
from botram.domain import queue
from botram.domain.reference import seed_reference
from botram.domain.users import create_user
from botram.extensions import db
from botram.models import Desk, Event, Service, Step, User, Visit

FIRST = "335a80308fab"


@pytest.fixture
def scratch_url(tmp_path):
    base = os.environ.get("BOTRAM_TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    import psycopg

    url = make_url(base)
    name = f"{url.database}_mig"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def scratch_app(scratch_url, tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": scratch_url, "INSTANCE_PATH": str(tmp_path),
                      "SECRET_KEY": "test", "BOTRAM_PASSWORD_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.mark.db_independent
def test_one_head():
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", os.path.join(os.path.dirname(__file__), "..", "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def _make_rows() -> dict:
    """Reference data, users, an event, a desk and a served ticket, made through the domain."""
    seed_reference()
    officer = create_user("petugas1", "Petugas Satu", "loket-2026", "petugas",
                          agency_id=db.session.scalar(sa.select(Service.agency_id).where(Service.code == "KTP-REKAM")))
    clerk = create_user("resepsionis", "Resepsionis", "loket-2026", "resepsionis")
    db.session.commit()
    from tests.factories import make_desk, make_event, service

    event = make_event()
    desk = make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM"])
    visit = queue.issue_visit(event.id, [service("KTP-REKAM").id], name="Siti", nik="3216014512900003",
                              by_user_id=clerk.id).visit
    db.session.commit()
    step = queue.call_next(desk.id, by_user_id=officer.id)
    queue.finish(step.id, outcome="done", by_user_id=officer.id)
    db.session.commit()
    return {"event": event.id, "visit": visit.id, "code": visit.code, "token": visit.public_token}


def _fill_first_schema(tmp_path) -> dict:
    """Rows in the tables the first migration made (those of `_make_rows`).

    Today's models carry columns the first schema lacks (the field sync's `uuid`, docs/field-sync.md), so the
    rows are made through the domain on a head-schema SQLite file and copied here, column by column as far as
    the first schema has them, keeping their ids."""
    source = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'source.sqlite'}",
                         "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test",
                         "BOTRAM_PASSWORD_METHOD": "pbkdf2:sha256:1000"})
    with source.app_context():
        upgrade()
        rows = _make_rows()
        with db.engine.connect() as conn:
            data = {table.name: [dict(row._mapping) for row in conn.execute(sa.select(table))]
                    for table in db.metadata.sorted_tables}
        db.session.remove()
        db.engine.dispose()

    def naive(value):
        return value.astimezone(timezone.utc).replace(tzinfo=None) if isinstance(value, datetime) else value

    old = sa.MetaData()
    old.reflect(db.engine)
    with db.engine.connect() as conn:
        for table in old.sorted_tables:
            if not data.get(table.name):
                continue
            conn.execute(table.insert(), [{key: naive(value) for key, value in row.items() if key in table.c}
                                          for row in data[table.name]])
            if conn.dialect.name == "postgresql" and "id" in table.c:
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                                     f"(SELECT MAX(id) FROM \"{table.name}\"))")
        conn.commit()
    return rows


def _counts() -> dict:
    return {model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (User, Event, Desk, Visit, Step, Service)}


def test_a_database_from_the_first_migration_upgrades_with_its_data(scratch_app, tmp_path):
    upgrade(revision=FIRST)
    rows = _fill_first_schema(tmp_path)
    before = _counts()
    db.session.remove()

    upgrade()
    assert _counts() == before
    visit = db.session.get(Visit, rows["visit"])
    assert visit.code == rows["code"] and visit.nik == "3216014512900003"
    assert [s.status for s in visit.steps] == ["done"]
    # the newer tables work with the old rows: a survey answer, a sign-in (login_session), funding
    from botram.domain import funding, skm

    skm.submit_survey(rows["token"], {k: 4 for k in ("persyaratan", "prosedur", "waktu", "biaya", "produk",
                                                     "kompetensi", "perilaku", "sarana", "pengaduan")})
    funding.add_budget_line(db.session.get(Event, rows["event"]), funding.BudgetLineInput("tents", "Tenda", "1 jt"))
    db.session.commit()
    scratch_app.config["WTF_CSRF_ENABLED"] = False
    client = scratch_app.test_client()
    assert client.post("/login", data={"username": "petugas1", "password": "loket-2026"}).status_code == 303
    db.session.remove()

    downgrade(revision=FIRST)
    assert _counts() == before
    db.session.remove()
    upgrade()
    assert _counts() == before


def test_the_migrated_schema_matches_the_models(scratch_app):
    upgrade()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []
