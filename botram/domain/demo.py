"""The demo: an open event for today with five desks, the demo users, and a few past events.

Its queue starts empty so the first ticket of a demo is A-001.
"""
from __future__ import annotations

from datetime import date, time, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import Agency, Desk, DeskState, Event, EventStatus, Region, Service, User
from . import login_guard
from .clock import today_wib, wib_to_utc
from .reference import kecamatan_code, seed_reference
from .users import create_user
from .uow import unit_of_work

DEMO_TITLE = "BOTRAM Pasar Bersih Jababeka"

# (number, agency, label, service codes)
DEMO_DESKS = [
    (1, "DISDUKCAPIL", "Disdukcapil — KTP-el & KIA", ["KTP-REKAM", "KTP-CETAK", "KIA", "KK"]),
    (2, "DISDUKCAPIL", "Disdukcapil — Akta & KK", ["AKTA-LAHIR", "AKTA-MATI", "KK"]),
    (3, "BAPENDA", "Bapenda — PBB-P2", ["PBB-BAYAR", "PBB-MUTASI", "PAJAK-KONSUL"]),
    (4, "DINSOS", "Dinas Sosial", ["DTKS", "BANSOS-KONSUL", "RUJUKAN-SOSIAL"]),
    (5, "DINKES", "Dinas Kesehatan", ["CEK-KESEHATAN", "RUJUKAN-KESEHATAN"]),
]

PAST_EVENTS = [
    ("BOTRAM Balai Desa Sukadami", "Cikarang Selatan", "Balai Desa Sukadami", 35),
    ("BOTRAM Lapangan Tambun", "Tambun Selatan", "Lapangan Sepak Bola Desa Tambun", 21),
    ("BOTRAM Kantor Kecamatan Muaragembong", "Muaragembong", "Pendopo Kecamatan Muaragembong", 7),
]


def _first_desa(kecamatan: str) -> str | None:
    return db.session.scalar(sa.select(Region.code).where(Region.parent_code == kecamatan).order_by(Region.code))


def _make_event(title: str, day: date, kecamatan_name: str, venue: str, status: str) -> Event:
    kecamatan = kecamatan_code(kecamatan_name)
    event = Event(title=title, date=day, venue=venue, kecamatan_code=kecamatan, desa_code=_first_desa(kecamatan),
                  opens_at=wib_to_utc(day, time(8, 0)), closes_at=wib_to_utc(day, time(16, 0)), status=status,
                  running_text="Selamat datang di BOTRAM. Siapkan KK dan KTP-el Anda. "
                               "Layanan buka pukul 08.00–16.00 WIB.")
    agencies = {a.code: a for a in db.session.scalars(sa.select(Agency))}
    services = {s.code: s for s in db.session.scalars(sa.select(Service))}
    for number, agency, label, codes in DEMO_DESKS:
        event.desks.append(Desk(
            agency=agencies[agency], number=number, label=label, opens_at=event.opens_at,
            closes_at=event.closes_at,
            state=DeskState.OPEN if status == EventStatus.OPEN else DeskState.CLOSED,
            services=[services[c] for c in codes]))
    db.session.add(event)
    return event


@unit_of_work(audited=False)  # reference and demo data: no person's action
def seed_demo(password: str) -> list[tuple[str, str]]:
    """Seed (or refresh the passwords of) the demo. Returns [(username, role description)]."""
    seed_reference()
    if db.session.scalar(sa.select(Event.id).where(Event.title == DEMO_TITLE)) is None:
        today = today_wib()
        _make_event(DEMO_TITLE, today, "Cikarang Timur", "Pasar Bersih Jababeka, Jl. Niaga Raya, Cikarang Timur",
                    EventStatus.OPEN)
        for title, kecamatan, venue, days_ago in PAST_EVENTS:
            _make_event(title, today - timedelta(days=days_ago), kecamatan, venue, EventStatus.CLOSED)
        _make_event("BOTRAM Alun-alun Cikarang Pusat", today + timedelta(days=14), "Cikarang Pusat",
                    "Alun-alun Pemda Kabupaten Bekasi", EventStatus.DRAFT)

    agencies = {a.code: a for a in db.session.scalars(sa.select(Agency))}
    wanted = [("admin", "Administrator BOTRAM", "admin", None),
              ("koordinator", "Koordinator BOTRAM", "koordinator", None),
              ("resepsionis", "Petugas Pendaftaran", "resepsionis", None),
              ("keuangan", "Petugas Keuangan", "keuangan", None)]
    for number, agency, label, _codes in DEMO_DESKS:
        wanted.append((f"petugas{number}", f"Petugas Loket {number} ({agencies[agency].short_name})", "petugas",
                       agencies[agency].id))

    logins = []
    for username, name, role, agency_id in wanted:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            create_user(username, name, password, role, agency_id=agency_id, enforce_policy=False)
        else:
            user.set_password(password)
            user.active = True
            # a new password ends the sessions signed in with the old one, as every password reset does
            login_guard.end_user_sessions(user.id, "password")
        logins.append((username, name))
    from .funding.demo import seed_demo_funding

    seed_demo_funding()
    from .reports_demo import seed_demo_reports

    seed_demo_reports()
    from .summaries import refresh_closed_events

    refresh_closed_events(only_missing=True)  # the demo's past days were written as history, not closed here
    return logins
