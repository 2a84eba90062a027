"""The coordinator's live view in Chromium (issue 24): the forecast appears, one press extends the desk it names,
and a projector board open in another page shows the new hours without a reload. Screenshots at laptop
(1366x768) and tablet (1024x768) size of an event with 1 desk and one with 20 desks and 30 services; axe finds
no serious or critical violation, and the pages log no console error (the fixtures fail the test on one).

The forecast runs on the real clock, so the scene is set relative to now: the demo day (its desks and the event)
opened an hour ago and closes in about 30 minutes, and six people wait for the health check, which only desk 5
offers. At its target pace that is more than it can serve before closing, and less than two hours of extra time.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from .axe import describe, violations
from .conftest import demo_ids, login, run_forked, screenshot

WIB = timezone(timedelta(hours=7))

_SCENE = """
import json, sys
from datetime import datetime, time, timedelta, timezone
import sqlalchemy as sa
from botram import create_app
from botram.domain import queue
from botram.domain.events import set_desk_hours
from botram.extensions import db
from botram.models import Agency, Desk, DeskState, Event, EventStatus, Service, User

WIB = timezone(timedelta(hours=7))
app = create_app()
with app.app_context():
    demo = db.session.scalar(sa.select(Event).where(Event.title == "BOTRAM Pasar Bersih Jababeka"))
    by = db.session.scalar(sa.select(User.id).where(User.username == "resepsionis"))
    now = datetime.now(WIB)
    # the day (every desk, and the event: people come until it closes) began an hour ago and ends in half an
    # hour (five-minute steps); six wait for desk 5, the only desk for the health check
    opens = (now - timedelta(hours=1)).replace(second=0, microsecond=0)
    closes = (now + timedelta(minutes=35)).replace(minute=(now.minute + 35) % 60 // 5 * 5, second=0, microsecond=0)
    demo.opens_at, demo.closes_at = opens.astimezone(timezone.utc), closes.astimezone(timezone.utc)
    db.session.commit()  # before the units of work below, which end an open transaction first on SQLite
    for desk in db.session.scalars(sa.select(Desk).where(Desk.event_id == demo.id)):
        set_desk_hours(desk, opens.time(), closes.time(), by_user_id=None)
    check = db.session.scalar(sa.select(Service.id).where(Service.code == "CEK-KESEHATAN"))
    for _ in range(6):
        queue.issue_visit(demo.id, [check], by_user_id=by)
    db.session.commit()

    # two more open events today: one desk, and 20 desks over 30 services
    agencies = list(db.session.scalars(sa.select(Agency).order_by(Agency.id)))
    services = list(db.session.scalars(sa.select(Service).where(Service.active).order_by(Service.id)))
    for n in range(len(services), 30):
        agency = agencies[n % len(agencies)]
        extra = Service(agency=agency, code=f"UJI-{n}", name=f"Layanan uji nomor {n}", ticket_letter="U",
                        target_minutes=8)
        db.session.add(extra)
        services.append(extra)
    db.session.flush()
    ids = {"demo": demo.id}
    for title, desks in (("BOTRAM Satu Loket", 1), ("BOTRAM Dua Puluh Loket", 20)):
        event = Event(title=title, date=demo.date, venue="Pasar Tambun", kecamatan_code=demo.kecamatan_code,
                      desa_code=demo.desa_code, opens_at=demo.opens_at, closes_at=demo.closes_at,
                      status=EventStatus.OPEN)
        offered = services if desks > 1 else services[:2]
        for number in range(1, desks + 1):
            mine = [s for i, s in enumerate(offered) if i % desks == number - 1 or (desks > 1 and i % 7 == number % 7)]
            event.desks.append(Desk(agency=mine[0].agency if mine else agencies[0], number=number,
                                    label=f"Loket {number}", opens_at=demo.opens_at, closes_at=demo.closes_at,
                                    state=DeskState.PAUSED if number % 6 == 0 else DeskState.OPEN, services=mine))
        db.session.add(event)
        db.session.commit()
        for i in range(desks * 9 + 3):
            queue.issue_visit(event.id, [offered[i % len(offered)].id], by_user_id=by)
        db.session.commit()
        ids[str(desks)] = event.id
    print(json.dumps(ids))
"""


def _scene(server) -> dict:
    printed = run_forked("python", [_SCENE], server.databases.env(server.database_url))
    return json.loads(printed.strip().splitlines()[-1])


def _no_serious_violation(page) -> None:
    found = violations(page)
    assert not found, describe(found)


def test_the_forecast_appears_one_press_extends_and_the_board_shows_it(live_server, new_page):
    hour = datetime.now(WIB).hour
    if not 1 <= hour < 21:
        pytest.skip("too close to midnight WIB: the scene needs an hour before the desk's opening and room for an extension before midnight "
                    "WIB (01.00-21.00)")
    event_ids = _scene(live_server)
    event_id, desks = demo_ids(live_server)
    assert event_id == event_ids["demo"]
    desk5 = desks[5]

    board = new_page(1920, 1080)
    board.goto(f"{live_server.url}/board/{event_id}")
    board.wait_for_selector("#board")
    board.evaluate("window.__notReloaded = true")
    tile_hours = board.locator(f"#desk-tile-{desk5['id']} .desk-hours")

    page = new_page(1366, 768)
    login(page, live_server.url, "koordinator")
    page.goto(f"{live_server.url}/events/{event_id}/live")
    row = page.locator(".live-services tr", has_text="Pemeriksaan kesehatan dasar")
    expect(row.locator(".live-forecast-text")).to_contain_text(re.compile("tidak terlayani sebelum \\d\\d\\.\\d\\d"))
    expect(page.locator(".live-alert-unserved")).to_contain_text("Pemeriksaan kesehatan dasar")
    press = row.get_by_role("button", name=re.compile(r"^Perpanjang loket 5 sampai \d\d\.\d\d$"))
    new_close = press.inner_text().rsplit(" ", 1)[-1]
    expect(tile_hours).not_to_contain_text(new_close)
    screenshot(page, "live-demo-forecast-1366")
    _no_serious_violation(page)
    page.evaluate("window.__notReloaded = true")

    press.click()
    # the answer may take seconds on a loaded two-core machine; the toast then stays 5.2 s
    expect(page.locator(".toast")).to_contain_text(f"Loket 5 kini buka sampai {new_close} WIB", timeout=15000)
    expect(page.locator(f"#live-desk-{desk5['id']}")).to_contain_text(f"–{new_close}")
    # the board, another page, learns of it through the version, with no reload
    expect(tile_hours).to_contain_text(f"–{new_close}", timeout=5000)
    assert board.evaluate("window.__notReloaded") is True
    assert page.evaluate("window.__notReloaded") is True
    screenshot(page, "live-demo-extended-1366")


@pytest.mark.drawing
@pytest.mark.parametrize("width", [1366, 1024])
def test_one_desk_and_twenty_desks_with_thirty_services_fit_laptop_and_tablet(live_server, new_page, width):
    event_ids = _scene(live_server)
    page = new_page(width, 768)
    login(page, live_server.url, "koordinator")
    for desks in ("1", "20"):
        page.goto(f"{live_server.url}/events/{event_ids[desks]}/live")
        expect(page.locator(".live-desks tbody tr")).to_have_count(int(desks))
        if desks == "20":
            expect(page.locator(".live-services tbody tr")).to_have_count(30)
            # however many services are at risk, the alerts stay a few lines: four of a kind and a count
            assert page.locator(".live-alert").count() <= 9
        screenshot(page, f"live-{desks}-desks-{width}")
        _no_serious_violation(page)
