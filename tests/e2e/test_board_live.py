"""A board left open on the projector for the whole test shows what changes outside the queue — a new running
text, an extended desk, a newly thanked sponsor — within a second of the save, with no reload: every such
write bumps the event's version through the one unit of work (docs/unit-of-work.md)."""
from __future__ import annotations

import re

import requests
import sqlalchemy as sa
from playwright.sync_api import expect

from botram import create_app
from botram.domain import funding
from botram.domain.clock import today_wib
from botram.extensions import db
from botram.models import User

from .conftest import DEMO_PASSWORD, demo_ids, screenshot

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
WITHIN = 1.0  # seconds from the answer to the save until the board shows it


def _signed_in(base: str, username: str) -> tuple[requests.Session, str]:
    http = requests.Session()
    token = TOKEN.search(http.get(base + "/login", timeout=30).text).group(1)
    answer = http.post(base + "/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token},
                       allow_redirects=False, timeout=30)
    assert answer.status_code == 303
    return http, token


def _shows_within(page, predicate_js: str, arg) -> None:
    """`predicate_js(arg)` holds on the page (which never reloads) within WITHIN seconds of now."""
    page.wait_for_function(predicate_js, arg=arg, timeout=WITHIN * 1000)


def test_an_open_board_shows_running_text_extended_hours_and_a_new_sponsor_without_reloading(live_server, new_page):
    event_id, desks = demo_ids(live_server)
    board = new_page(1920, 1080)
    board.goto(f"{live_server.url}/board/{event_id}")
    board.wait_for_selector("#board")
    board.evaluate("window.__notReloaded = true")
    coordinator, token = _signed_in(live_server.url, "koordinator")

    # a new running text
    text = "Loket Disdukcapil buka sampai pukul 18.00"
    saved = coordinator.post(f"{live_server.url}/events/{event_id}/running-text",
                             data={"csrf_token": token, "running_text": text}, allow_redirects=False, timeout=30)
    assert saved.status_code == 303
    _shows_within(board, "t => (document.getElementById('ticker-text') || {}).textContent.includes(t)", text)

    # a desk that stays open an hour longer
    desk = desks[2]
    extended = coordinator.post(f"{live_server.url}/events/{event_id}/desks/{desk['id']}/hours",
                                data={"csrf_token": token, "extend": "60"}, allow_redirects=False, timeout=30)
    assert extended.status_code == 303
    _shows_within(board, "() => (document.getElementById('ticker-text') || {}).textContent.includes('diperpanjang')",
                  None)

    # a sponsor thanked for the first time (saved by another process, as a second server worker would)
    app = create_app({"SQLALCHEMY_DATABASE_URI": live_server.database_url,
                      "INSTANCE_PATH": str(live_server.databases.workdir / "instance")})
    name = "PT Sinar Harapan Cikarang"
    with app.test_request_context():
        finance_id = db.session.scalar(sa.select(User.id).where(User.username == "keuangan"))
        sponsor = funding.create_sponsor(funding.SponsorInput(name=name, kind="csr", public_thanks=True),
                                         by_user_id=finance_id)
        funding.record_contribution(funding.ContributionInput(
            sponsor_id=sponsor.id, event_id=event_id, form="cash", value_text="7500000", status="received",
            description="Air minum untuk warga", pledged_on=today_wib(), received_on=today_wib(),
            receipt_number="KW/LIVE/001"), by_user_id=finance_id)
        db.session.remove()
        db.engine.dispose()
    _shows_within(board, "n => [...document.querySelectorAll('.sponsor-name')].some(e => e.textContent.includes(n))",
                  name)

    assert board.evaluate("window.__notReloaded") is True  # the same page all along
    expect(board.locator("#ticker-text")).to_contain_text(text)
    screenshot(board, "board-live-changes-1920")
