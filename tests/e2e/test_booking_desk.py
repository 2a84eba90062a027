"""In a real browser at 1366x768: the booked visitor is called within the window while walk-ins keep moving.

Three walk-ins wait at the demo's open event; a window opens in a few seconds and three bookers are checked in
before it starts (so each step carries the window's start, domain/booking/checkin.py). Once it has begun the
officer of desk 1 presses N six times: the bookers come first (the booked band of queue/order.py) but after
`BOTRAM_BOOKING_CAP` (2) of them in a row the oldest walk-in is called, so the order is B B W B W W; every booked
call falls inside the window. The desk marks a booked ticket as such. No console errors, axe 0 serious/critical."""
import json
import time
from datetime import datetime, timezone

from playwright.sync_api import expect

from .axe import describe, violations
from .conftest import login, open_desk, run_forked, screenshot, seed_visits

LEAD_SECONDS = 4  # the window begins this long after the bookers are checked in

_BOOKERS = """
import json, secrets, sys
from datetime import timedelta
import sqlalchemy as sa
from botram import create_app
from botram.domain import booking
from botram.domain.booking.book import new_code
from botram.domain.clock import now
from botram.extensions import db
from botram.models import Booking, BookingPlan, BookingQuota, BookingWindow, Event, Service, User

app = create_app()
with app.app_context():
    lead = int(sys.argv[1])
    event = db.session.scalar(sa.select(Event).where(Event.title == "BOTRAM Pasar Bersih Jababeka"))
    reception = db.session.scalar(sa.select(User.id).where(User.username == "resepsionis"))
    ktp = db.session.scalar(sa.select(Service).where(Service.code == "KTP-REKAM"))
    # the plan and a window beginning in a few seconds, written as rows (test setup, like the factories): the
    # coordinator's form sets windows on the hour, and the test cannot wait for one
    start = now() + timedelta(seconds=lead)
    plan = BookingPlan(event_id=event.id, closes_at=start, grace_minutes=15)
    db.session.add(plan)
    db.session.flush()
    window = BookingWindow(plan_id=plan.id, event_id=event.id, starts_at=start, ends_at=start + timedelta(hours=2))
    db.session.add(window)
    db.session.flush()
    db.session.add(BookingQuota(window_id=window.id, service_id=ktp.id, quota=3, taken=3))
    ids = []
    for n in range(3):
        made = Booking(event_id=event.id, window_id=window.id, code=new_code(), token=secrets.token_urlsafe(32),
                       phone=f"+6281277700{n:02d}", status="booked", origin="")
        made.services = [ktp]
        db.session.add(made)
        db.session.flush()
        ids.append(made.id)
    db.session.commit()
    codes = [booking.check_in(i, by_user_id=reception).visit.code for i in ids]
    db.session.commit()
    print(json.dumps({"codes": codes, "starts": window.starts_at.isoformat(), "ends": window.ends_at.isoformat()}))
"""


def answer_if_asked(page) -> None:
    """After S with nothing ticked the console asks about the required documents; Enter records it."""
    asked = page.locator("#incomplete-dialog[open]")
    for _ in range(40):
        if asked.count() or page.locator(".visitor-card").count() == 0:
            break
        page.wait_for_timeout(50)
    if asked.count():
        page.keyboard.press("Enter")


def test_the_booked_visitor_is_called_within_the_window_while_walk_ins_keep_moving(live_server, new_page):
    walk_ins = [code for code, _token in seed_visits(live_server, [[["KTP-REKAM"], {}]] * 3)]
    printed = run_forked("python", [_BOOKERS, str(LEAD_SECONDS)], live_server.databases.env(live_server.database_url))
    booked = json.loads(printed.strip().splitlines()[-1])
    starts, ends = datetime.fromisoformat(booked["starts"]), datetime.fromisoformat(booked["ends"])
    while datetime.now(timezone.utc) <= starts:  # the window begins: the bookers are due
        time.sleep(0.2)

    page = new_page(1366, 768)
    login(page, live_server.url, "petugas1")
    open_desk(page, live_server, 1)
    waiting = page.locator("#desk-waiting")
    for code in walk_ins + booked["codes"]:
        expect(waiting).to_contain_text(code)

    called = []
    card = page.locator(".visitor-card")
    for n in range(6):
        page.keyboard.press("n")
        expect(card.locator("#visitor-code")).not_to_have_text(called[-1] if called else "")
        code = card.locator("#visitor-code").inner_text().strip()
        called.append(code)
        when = datetime.now(timezone.utc)
        if code in booked["codes"]:
            assert starts <= when < ends, f"booked {code} called at {when}, outside its window"
            expect(card.locator(".booked-mark")).to_contain_text("Pemesanan daring")  # the desk marks it
            if n == 0:
                page.wait_for_timeout(300)
                found = violations(page)
                assert not found, describe(found)
                screenshot(page, "desk-booked-called-1366")
        else:
            expect(card.locator(".booked-mark")).to_have_count(0)
        page.keyboard.press("s")
        answer_if_asked(page)
        expect(card).to_have_count(0)

    kinds = "".join("B" if code in booked["codes"] else "W" for code in called)
    assert kinds == "BBWBWW", (called, kinds)
    assert [c for c in called if c in booked["codes"]] == booked["codes"]  # bookers in their check-in order
    assert [c for c in called if c in walk_ins] == walk_ins  # walk-ins by arrival
