"""Two installs in one process for the field-sync tests: the regency server and a field laptop on SQLite, each
its own Flask app and database (Flask-SQLAlchemy 3 binds the session to the app context).

The server uses BOTRAM_TEST_DATABASE_URL when that is PostgreSQL (a database of its own beside it), else a
second SQLite file (`server_url`); the tests never skip.
"""
from __future__ import annotations

import contextlib
import os
import random
from datetime import datetime, time, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from botram import create_app
from botram.domain import events, queue, skm
from botram.domain.clock import today_wib
from botram.domain.queue_rules import QueueRules
from botram.domain.reference import kecamatan_code, seed_reference
from botram.domain.users import create_user
from botram.extensions import db
from botram.models import Agency, Event, Region, Service, User, UNSUR_KEYS

KEY = "kunci-lapangan-kabupaten-bekasi-2026"
DEVICE = "LAPTOP-CIKARANG-01"


def server_url(worker: str, directory) -> str:
    """The server's database: on PostgreSQL (a database of its own, created on first use) when
    BOTRAM_TEST_DATABASE_URL is PostgreSQL, as in CI's PostgreSQL pass; else a second SQLite file in
    `directory`, so the field-sync story runs everywhere and never skips. A PostgreSQL asked for but not
    answering fails the test: a missing service is an error, not a reason to skip."""
    import psycopg

    base = os.environ.get("BOTRAM_TEST_DATABASE_URL") or ""
    if not base.startswith("postgresql"):
        return f"sqlite:///{os.path.join(str(directory), 'server.sqlite')}"
    url = make_url(base)
    name = f"{url.database}_fsrv_{worker}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def make_install(url: str, instance: str):
    """A migrated, empty install with its own reference catalogue (its own UUIDs)."""
    from flask_migrate import upgrade

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance,
                      "SECRET_KEY": "test-secret", "BOTRAM_PASSWORD_METHOD": "pbkdf2:sha256:1000",
                      "BOTRAM_FIELD_KEY": KEY})
    with app.app_context():
        with db.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
                conn.commit()
        upgrade()
        seed_reference()
        db.session.remove()
    return app


@contextlib.contextmanager
def on(app):
    with app.app_context():
        try:
            yield
        finally:
            db.session.remove()


def agency_id(code: str) -> int:
    return db.session.scalar(sa.select(Agency.id).where(Agency.code == code))


def service_ids(*codes: str) -> list[int]:
    found = dict(db.session.execute(sa.select(Service.code, Service.id).where(Service.code.in_(codes))).all())
    return [found[c] for c in codes]


DESKS = [  # number, agency, services
    (1, "DISDUKCAPIL", ["KTP-REKAM", "KTP-CETAK", "AKTA-LAHIR"]),
    (2, "DISDUKCAPIL", ["KTP-REKAM", "AKTA-MATI", "AKTA-LAHIR"]),
    (3, "BAPENDA", ["PBB-BAYAR", "PBB-MUTASI"]),
    (4, "DINSOS", ["BANSOS-KONSUL", "RUJUKAN-SOSIAL"]),
    (5, "DINKES", ["CEK-KESEHATAN", "RUJUKAN-KESEHATAN"]),
]


def prepare_event(title: str = "BOTRAM Lapangan Sukatani", *, day=None, announce_only: bool = False) -> int:
    """The coordinator prepares an event on the server: users, the event (today, or `day`), five desks, opened;
    `announce_only`: a draft announced on the schedule (what booking needs), not opened yet."""
    for username, role, agency in [("admin", "admin", None), ("koordinator", "koordinator", None),
                                   ("resepsionis", "resepsionis", None), ("keuangan", "keuangan", None),
                                   ("petugas1", "petugas", "DISDUKCAPIL"), ("petugas2", "petugas", "DISDUKCAPIL"),
                                   ("petugas3", "petugas", "BAPENDA"), ("petugas4", "petugas", "DINSOS"),
                                   ("petugas5", "petugas", "DINKES")]:
        if db.session.scalar(sa.select(User.id).where(User.username == username)) is None:
            create_user(username, f"Pengguna {username}", "rahasia-123", role,
                        agency_id=agency_id(agency) if agency else None)
    coordinator = db.session.scalar(sa.select(User.id).where(User.username == "koordinator"))
    kec = kecamatan_code("Sukatani")
    desa = db.session.scalar(sa.select(Region.code).where(Region.parent_code == kec).order_by(Region.code))
    event = events.create_event(events.EventInput(title, day or today_wib(), "Lapangan Desa", kec, desa, time(8),
                                                  time(16)), by_user_id=coordinator)
    for number, agency, codes in DESKS:
        events.add_desk(event, events.DeskInput(number, f"Loket {number}", agency_id(agency), service_ids(*codes),
                                                time(8), time(16)), by_user_id=coordinator)
    if announce_only:
        events.set_announced(db.session.get(Event, event.id), True, by_user_id=coordinator)
    else:
        events.change_status(db.session.get(Event, event.id), "open", by_user_id=coordinator)
    return event.id


def user_id(username: str) -> int:
    return db.session.scalar(sa.select(User.id).where(User.username == username))


def desk_ids(event_id: int) -> list[tuple[int, int]]:
    """(desk id, officer id) for each desk of the event."""
    from botram.models import Desk

    desks = db.session.execute(sa.select(Desk.id, Desk.number).where(Desk.event_id == event_id)
                               .order_by(Desk.number)).all()
    return [(desk_id, user_id(f"petugas{number}")) for desk_id, number in desks]


SERVICE_SETS = [["KTP-REKAM"], ["KTP-REKAM", "KTP-CETAK"], ["AKTA-MATI", "PBB-MUTASI", "BANSOS-KONSUL"],
                ["PBB-BAYAR"], ["CEK-KESEHATAN"], ["AKTA-LAHIR", "CEK-KESEHATAN"], ["BANSOS-KONSUL"],
                ["RUJUKAN-SOSIAL", "RUJUKAN-KESEHATAN"], ["PBB-BAYAR", "CEK-KESEHATAN"]]
PRIORITIES = ["none"] * 6 + ["lansia", "disabilitas", "hamil"]


def serve(event_id: int, visits: int, rng: random.Random, *, first: int = 0) -> dict:
    """A stretch of the day on the laptop, all through the domain: `visits` registrations, then every desk calls
    until no one eligible waits, with finishes of each outcome, no-shows, recalls, transfers and surveys."""
    reception = user_id("resepsionis")
    tokens = []
    for number in range(first, first + visits):
        codes = rng.choice(SERVICE_SETS)
        issued = queue.issue_visit(event_id, service_ids(*codes), priority=rng.choice(PRIORITIES),
                                   name=f"Warga {number}", phone=f"0812{number:08d}", by_user_id=reception)
        tokens.append(issued.visit.public_token)
    counts = {"finish": 0, "no_show": 0, "recall": 0, "transfer": 0, "survey": 0}
    desks = desk_ids(event_id)
    idle = 0
    while idle < len(desks):
        idle = 0
        for desk_id, officer in desks:
            step = queue.call_next(desk_id, by_user_id=officer)
            if step is None:
                idle += 1
                continue
            roll = rng.random()
            if roll < 0.08:
                queue.no_show(step.id, by_user_id=officer, rules=QueueRules.defaults(no_show_min_seconds=0))
                counts["no_show"] += 1
                continue
            if roll < 0.18:
                queue.recall(step.id, by_user_id=officer)
                counts["recall"] += 1
            if roll > 0.95 and step.service.code == "KTP-REKAM":
                queue.transfer(step.id, service_ids("AKTA-LAHIR")[0], by_user_id=officer, note="ke akta")
                counts["transfer"] += 1
                continue
            queue.start(step.id, by_user_id=officer)
            outcome = rng.choice(["done", "done", "done", "incomplete", "referred"])
            shown = [r.id for r in step.service.requirements][:rng.randint(0, 2)]
            queue.finish(step.id, outcome=outcome, by_user_id=officer, requirements_presented=shown or None,
                         note=f"catatan {step.id}" if rng.random() < 0.2 else None,
                         amount=150000 if step.service.code == "PBB-BAYAR" else None)
            counts["finish"] += 1
    for token in tokens:
        if rng.random() < 0.4:
            try:
                skm.submit_survey(token, {k: rng.randint(2, 4) for k in UNSUR_KEYS},
                                  comment=rng.choice([None, "Pelayanan cepat", "Hubungi 0812 3456 7890"]))
                counts["survey"] += 1
            except Exception:  # a visit that was not served (every step a no-show) cannot answer
                pass
    return counts


def table_contents() -> dict[str, list[tuple]]:
    """Every row of every table, ordered: what `same bundle twice changes no row` compares."""
    out = {}
    for table in db.metadata.sorted_tables:
        columns = list(table.c)
        out[table.name] = [tuple(row) for row in db.session.execute(sa.select(*columns).order_by(*columns[:2]))]
    return out


def stats_without_ids(data):
    """Event statistics with the one thing that differs between installs: the event's own integer id."""
    data = dict(data)
    data["event"] = {k: v for k, v in data["event"].items() if k != "id"}
    data.pop("generated_at", None)
    return data


def regency_digest(view) -> dict:
    return {
        "kecamatan": [(k.code, k.name, k.events, k.visits, k.planned, k.requested, k.last_date,
                       [(d.code, d.events, d.visits, d.planned, d.requested) for d in k.desa]) for k in view.kecamatan],
        "events": [(r.event.uuid, r.visits, r.done, r.ikm.as_dict()) for r in view.events],
        "trend": [tuple(vars(m).values()) for m in view.trend],
        "requests": [(r.code, r.requests) for r in view.requests],
        "ikm": view.ikm.as_dict(),
    }


def at_end_of_day(event_id: int) -> datetime:
    event = db.session.get(Event, event_id)
    return datetime.combine(event.date, time(23, 59), tzinfo=timezone(timedelta(hours=7)))
