"""Worlds several test modules build the same way: the authorization matrix's rows (one user per role, an
open event with a called visitor, funding rows, a device token) and the fuzzers' world on top of it. Plain
functions, not fixtures: each test decides when to build one."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta

import sqlalchemy as sa
from flask import current_app

from botram.domain import booking, events, funding, printing, queue
from botram.domain.clock import today_wib
from botram.domain.tokens import issue_token
from botram.extensions import db
from botram.models import Event, EventStatus, LifeEventPackage, Requirement, Step, Visit

from .factories import make_desk, make_event, make_user, service

ROLES = ("admin", "koordinator", "resepsionis", "petugas", "keuangan", "kiosk")


@dataclass
class World:
    event: object
    desk: object
    visit: object
    step_id: int
    users: dict
    params: dict


def build_world() -> World:
    """Demo-like rows: an open event today with a Disdukcapil desk, a registered visit with a name, NIK and
    phone, one user per role (the officer works for Disdukcapil), funding rows and a device token."""
    users = {role: make_user(role) for role in ROLES}
    event = make_event()
    desk = make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM", "KK"])
    issued = queue.issue_visit(event.id, [service("KTP-REKAM").id], name="Siti Aminah", nik="3216014512900003",
                               phone="081234567890", by_user_id=users["resepsionis"].id)
    db.session.commit()
    queue.call_next(desk.id, by_user_id=users["petugas"].id)  # the step is at the desk: per-object checks pass
    db.session.commit()
    visit = issued.visit
    line = funding.add_budget_line(event, funding.BudgetLineInput("tents", "Sewa tenda", "10 jt", ""))
    sponsor = funding.create_sponsor(funding.SponsorInput(name="Perumda Tirta Bhagasasi", kind="bumd",
                                                          sector="Air minum"))
    db.session.flush()
    contribution = funding.record_contribution(funding.ContributionInput(
        sponsor_id=sponsor.id, event_id=event.id, form="cash", value_text="1 jt", status="pledged"))
    token, _raw = issue_token(users["petugas"], "tombol panggil")
    db.session.commit()
    printer = printing.create_printer(printing.PrinterInput(name="Printer uji", connection="network",
                                                            target="127.0.0.1:9", station="Meja 1"))
    db.session.commit()
    requirement = db.session.scalar(sa.select(Requirement).order_by(Requirement.id))
    package_id = db.session.scalar(sa.select(LifeEventPackage.id).order_by(LifeEventPackage.id))
    params = {
        "event_id": event.id, "desk_id": desk.id, "step_id": visit.steps[0].id, "visit_id": visit.id,
        "token": visit.public_token, "user_id": users["petugas"].id, "token_id": token.id,
        "agency_id": desk.agency_id, "service_id": requirement.service_id, "requirement_id": requirement.id,
        "package_id": package_id, "sponsor_id": sponsor.id, "contribution_id": contribution.id,
        "line_id": line.id, "bundle_id": "0" * 32, "upload_id": "0" * 32, "code": "en",
        "filename": "css/botram.css", "key": "chime", "printer_id": printer.id, "press": "p" * 24,
    }
    return World(event, desk, visit, visit.steps[0].id, users, params)


def url_for_rule(app, rule, method: str, params: dict) -> str:
    values = {argument: params[argument] for argument in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=method)


@dataclass
class FuzzWorld:
    ids: dict
    served: list = field(default_factory=list)


def build_fuzz_world() -> FuzzWorld:
    """build_world() (an open event today, a Disdukcapil desk holding a called visitor, funding rows) plus a
    Bapenda desk whose service records an amount (so the desk form shows its amount field), a desk to serve
    visitors on, and a visitor already served there (so the survey can be answered)."""
    world = build_world()
    users = world.users
    pbb = make_desk(world.event, 2, "BAPENDA", ["PBB-BAYAR"])
    queue.issue_visit(world.event.id, [service("PBB-BAYAR").id], by_user_id=users["resepsionis"].id)
    db.session.commit()
    queue.call_next(pbb.id, by_user_id=users["admin"].id)
    db.session.commit()
    serving = make_desk(world.event, 3, "DISDUKCAPIL", ["KK"])
    ids = dict(world.params, event=world.event.id, pbb_desk=pbb.id, serving_desk=serving.id,
               users={role: user.id for role, user in users.items()})
    ids.update(open_booking_today(world.event, users["koordinator"].id))
    ids.update(bookable_event(users["koordinator"].id))
    fuzz = FuzzWorld(ids=ids)
    fuzz.served.append(serve_one(fuzz))
    return fuzz


def open_booking_today(event: Event, by_user_id: int) -> dict:
    """Booking opened on today's open event through the domain (the default windows, one KTP place each, closing
    at the day's end), so reception's page shows the booking check-in field. Its windows may have begun by the
    time the test runs: reception.check_in's baseline brings a booking of its own (booking_to_check_in)."""
    ktp = service("KTP-REKAM").id
    booking.open_booking(event, booking.PlanInput(
        closes_on=event.date, closes_at=time(23, 59), grace_minutes=15,
        windows=[booking.WindowInput(a, b, {ktp: 1}) for a, b in booking.DEFAULT_WINDOWS]), by_user_id=by_user_id)
    db.session.commit()
    return {}


def bookable_event(by_user_id: int) -> dict:
    """An event tomorrow announced on the schedule with booking open until 07.00 WIB on its day (whatever the hour
    the world is built at, none of its windows has begun), and one citizen's booking of its 14–16 window: the
    citizen's booking form (`/jadwal/<id>/pesan`, with a life-event package's chip) and the booking's own page
    (change, cancel) are walked there.

    The world's rule: booking's throttle per address counts every booking of the last hour, and the fuzz makes
    hundreds from one address, so the world allows that many (the throttle has its own tests)."""
    current_app.config["BOTRAM_BOOKING_THROTTLE_PER_HOUR"] = 100_000
    day = today_wib() + timedelta(days=1)
    event = make_event("BOTRAM Pesan Tempat Uji", day=day, status=EventStatus.DRAFT)
    for number in (1, 2):
        make_desk(event, number, "DISDUKCAPIL", ["KTP-REKAM", "KTP-CETAK", "KK"], state="closed")
    db.session.commit()
    events.set_announced(event, True, by_user_id=by_user_id)
    # KTP-REKAM and KTP-CETAK make the "Genap 17 tahun" package bookable: the form shows its chip
    places = {service(code).id: 4 for code in ("KTP-REKAM", "KTP-CETAK", "KK")}
    booking.open_booking(event, booking.PlanInput(
        closes_on=day, closes_at=time(7), grace_minutes=15,
        windows=[booking.WindowInput(a, b, dict(places)) for a, b in booking.DEFAULT_WINDOWS]), by_user_id=by_user_id)
    db.session.commit()
    window = booking.booking_view(event).windows[-1]
    made = booking.book(event.id, booking.BookingInput(window.id, [service("KTP-REKAM").id], phone="081299990001",
                                                       name="Warga Pemesan"))
    db.session.commit()
    return {"booking_event": event.id, "booking_window": window.id, "booking_token": made.token}


def release_new_bookings(world: FuzzWorld) -> None:
    """Cancel the bookings a successful booking form made (not the world's own): each gives its place back, so
    the next submission is judged against a window with room, not refused as full."""
    from botram.models import Booking

    for token in db.session.scalars(sa.select(Booking.token).where(
            Booking.event_id == world.ids["booking_event"], Booking.status == "booked",
            Booking.token != world.ids["booking_token"])):
        booking.cancel_booking(token)
    db.session.commit()


def serve_one(world: FuzzWorld) -> Visit:
    """A visitor registered, called and served: the survey may be answered for it."""
    admin = world.ids["users"]["admin"]
    issued = queue.issue_visit(world.ids["event"], [service("KK").id], by_user_id=admin)
    visit_id = issued.visit.id
    db.session.commit()
    while True:  # a reopened step waits with its old place: the desk serves it first
        step = queue.call_next(world.ids["serving_desk"], by_user_id=admin)
        db.session.commit()
        queue.finish(step.id, outcome="done", by_user_id=admin)
        db.session.commit()
        if step.visit_id == visit_id:
            return db.session.get(Visit, visit_id)


def called_step(desk_id: int, service_code: str, world: FuzzWorld) -> int:
    """The visitor the desk holds, or a fresh one called to it (the previous one was finished or moved on)."""
    held = db.session.scalar(sa.select(Step.id).where(Step.desk_id == desk_id,
                                                      Step.status.in_(("called", "serving"))))
    if held is not None:
        db.session.rollback()
        return held
    admin = world.ids["users"]["admin"]
    queue.issue_visit(world.ids["event"], [service(service_code).id], by_user_id=admin)
    db.session.commit()
    step = queue.call_next(desk_id, by_user_id=admin)
    db.session.commit()
    return step.id


def pledge(world: FuzzWorld) -> int:
    c = funding.record_contribution(funding.ContributionInput(
        sponsor_id=world.ids["sponsor_id"], event_id=world.ids["event"], form="cash", value_text="2 jt",
        status="pledged"))
    db.session.commit()
    return c.id


def budget_line(world: FuzzWorld) -> int:
    event = db.session.get(Event, world.ids["event"])
    line = funding.add_budget_line(event, funding.BudgetLineInput("chairs", "Sewa kursi", "3 jt", ""))
    db.session.commit()
    return line.id
