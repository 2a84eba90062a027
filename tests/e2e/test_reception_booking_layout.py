"""Reception with booking on, at 1366x768 and 390x844: the check-in field's placeholder is read whole, and after a
booking is checked in (the ticket preview open) today's list still shows several tickets without scrolling the
page. Screenshots kept; no console errors; axe 0 serious/critical."""
import json

import pytest
from playwright.sync_api import expect

from .axe import describe, violations
from .conftest import login, run_forked, screenshot, seed_visits

_BOOKING = """
import json, secrets
from datetime import timedelta
import sqlalchemy as sa
from botram import create_app
from botram.domain.booking.book import new_code
from botram.domain.clock import now
from botram.extensions import db
from botram.models import Booking, BookingPlan, BookingQuota, BookingWindow, Event, Service

app = create_app()
with app.app_context():
    event = db.session.scalar(sa.select(Event).where(Event.title == "BOTRAM Pasar Bersih Jababeka"))
    ktp = db.session.scalar(sa.select(Service).where(Service.code == "KTP-REKAM"))
    start = now() + timedelta(hours=1)  # rows, as the factories write them: a window ahead whatever the hour
    plan = BookingPlan(event_id=event.id, closes_at=start, grace_minutes=15)
    db.session.add(plan)
    db.session.flush()
    window = BookingWindow(plan_id=plan.id, event_id=event.id, starts_at=start, ends_at=start + timedelta(hours=2))
    db.session.add(window)
    db.session.flush()
    db.session.add(BookingQuota(window_id=window.id, service_id=ktp.id, quota=1, taken=1))
    made = Booking(event_id=event.id, window_id=window.id, code=new_code(), token=secrets.token_urlsafe(32),
                   phone="+6281277711100", status="booked", origin="")
    made.services = [ktp]
    db.session.add(made)
    db.session.commit()
    print(json.dumps({"event": event.id, "code": made.code}))
"""

PLACEHOLDER_FITS = """() => {
    const input = document.querySelector("#booking-code");
    const style = getComputedStyle(input);
    const canvas = document.createElement("canvas").getContext("2d");
    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return {text: canvas.measureText(input.placeholder).width, room};
}"""


# as on the event's laptop (docs/operations.md): the address phones use; without it every ticket carries a warning
@pytest.mark.serve(BOTRAM_PUBLIC_URL="http://192.168.1.10:5000")
@pytest.mark.parametrize("width,height,name", [(1366, 768, "1366"), (390, 844, "390")])
def test_check_in_field_and_todays_list_fit_with_booking_on(live_server, new_page, width, height, name):
    seed_visits(live_server, [[["KTP-REKAM"], {}], [["KK"], {"priority": "lansia"}], [["PBB-BAYAR"], {}],
                              [["KTP-CETAK", "KK"], {}], [["CEK-KESEHATAN"], {}], [["KIA"], {"priority": "hamil"}]])
    printed = run_forked("python", [_BOOKING], live_server.databases.env(live_server.database_url))
    booked = json.loads(printed.strip().splitlines()[-1])
    page = new_page(width, height)
    login(page, live_server.url, "resepsionis")
    page.goto(live_server.url + f"/reception/{booked['event']}")
    fits = page.evaluate(PLACEHOLDER_FITS)
    assert fits["text"] <= fits["room"], f"the check-in placeholder is clipped: {fits}"

    page.locator("#booking-code").fill(booked["code"])
    page.keyboard.press("Enter")
    page.wait_for_selector(".ticket-preview .ticket-code")
    expect(page.locator("#today-list .today-row")).to_have_count(7)
    page.wait_for_timeout(300)  # the toast's entrance
    found = violations(page)
    assert not found, describe(found)
    screenshot(page, f"reception-booking-on-{name}")
    if width >= 1024:
        # one screen: the list's rows that are drawn inside the window without scrolling the page
        shown = page.evaluate("""() => {
            const list = document.querySelector("#today-list .today").getBoundingClientRect();
            return [...document.querySelectorAll("#today-list .today-row")].filter(row => {
                const box = row.getBoundingClientRect();
                return box.top >= list.top - 1 && box.bottom <= Math.min(list.bottom, innerHeight) + 1;
            }).length;
        }""")
        assert shown >= 3, f"today's list shows {shown} whole rows at {width}x{height}"
        # and the ticket preview still shows the ticket's code
        code = page.locator(".ticket-preview .ticket-code").bounding_box()
        preview = page.locator(".ticket-preview").bounding_box()
        assert code["y"] >= preview["y"] and code["y"] + code["height"] <= preview["y"] + preview["height"] + 1
        assert page.evaluate("document.documentElement.scrollHeight <= innerHeight + 1"), "the page scrolls"
