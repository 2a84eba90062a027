"""In Chromium: the ticket status page tells the phone (Notification API and vibration) once when N people or
fewer are ahead and once when called; it asks for permission once, from its button (issue 22)."""
import json

from playwright.sync_api import expect

from .axe import describe, violations
from .conftest import run_forked, screenshot, seed_visits

# Records what the page asks of the phone, keeping the real API behind it.
SPY = """
window.__told = []; window.__buzzed = 0;
const RealNotification = window.Notification;
class SpyNotification extends RealNotification {
  constructor(title, options) { super(title, options); window.__told.push(options.body); }
}
Object.defineProperty(window, 'Notification', {value: SpyNotification});
navigator.vibrate = () => { window.__buzzed += 1; return true; };
"""

_CALLS = """
import sys
import sqlalchemy as sa
from botram import create_app
from botram.domain import queue
from botram.extensions import db
from botram.models import Desk, Event, User

app = create_app()
with app.app_context():
    event = db.session.scalar(sa.select(Event).where(Event.title == "BOTRAM Pasar Bersih Jababeka"))
    desk = db.session.scalar(sa.select(Desk).where(Desk.event_id == event.id, Desk.number == 1))
    officer = db.session.scalar(sa.select(User.id).where(User.username == "petugas1"))
    desk_id = desk.id
    queue.set_desk_state(desk_id, "open", by_user_id=officer)
    for n in range(int(sys.argv[1])):
        step = queue.call_next(desk_id, by_user_id=officer)
        if n + 1 < int(sys.argv[1]) or sys.argv[2] == "finish":
            queue.finish(step.id, outcome="done", by_user_id=officer)
    print("ok")
"""


def desk_calls(server, times: int, last: str) -> None:
    run_forked("python", [_CALLS, str(times), last], server.databases.env(server.database_url))


def test_the_status_page_notifies_once_when_near_and_once_when_called(live_server, new_page):
    tickets = seed_visits(live_server, [[["KK"], {}]] * 5)
    code, token = tickets[-1]  # four people ahead: one more than BOTRAM_NOTIFY_NEAR_AHEAD (3)
    phone = new_page(390, 844)
    phone.context.grant_permissions(["notifications"], origin=live_server.url)
    phone.add_init_script(SPY)
    phone.goto(f"{live_server.url}/status/{token}")
    expect(phone.locator("#ticket-status")).to_have_attribute("data-ahead", "4")
    assert phone.evaluate("window.__told") == []
    assert phone.locator("#notify-offer").is_hidden()  # permission already given: nothing to ask
    phone.locator(".status-hero").click()  # a phone that was touched may vibrate (Chrome's rule)

    desk_calls(live_server, 1, "finish")  # now three ahead: near
    expect(phone.locator("#ticket-status")).to_have_attribute("data-ahead", "3", timeout=15_000)
    phone.wait_for_function("window.__told.length === 1")
    assert code in phone.evaluate("window.__told[0]") and "dekat" in phone.evaluate("window.__told[0]")

    desk_calls(live_server, 4, "keep")  # three served, then this ticket called to desk 1
    expect(phone.locator(".call-banner")).to_be_visible(timeout=15_000)
    phone.wait_for_function("window.__told.length === 2")
    told = phone.evaluate("window.__told")
    assert told[1] == f"Tiket {code} dipanggil ke Loket 1."
    assert phone.evaluate("window.__buzzed") == 2
    phone.reload()  # told once: a reload or another poll does not tell again
    phone.wait_for_timeout(1500)
    assert phone.evaluate("window.__told") == [] and phone.evaluate("window.__buzzed") == 0
    assert phone.evaluate("JSON.stringify(Object.keys(localStorage).sort())") == json.dumps(
        sorted([f"botram-near-{token}", f"botram-called-{token}-1"]), separators=(",", ":"))


def test_the_page_asks_for_permission_once_from_its_button(live_server, new_page):
    (code, token), = seed_visits(live_server, [[["KK"], {}]])
    phone = new_page(390, 844)
    phone.goto(f"{live_server.url}/status/{token}")
    offer = phone.locator("#notify-offer")
    expect(offer).to_be_visible()
    assert violations(phone) == [], describe(violations(phone))
    screenshot(phone, "citizen-status-notify-offer-390")
    phone.get_by_role("button", name="Beri tahu saya").click()
    expect(offer).to_be_hidden()
    phone.reload()
    phone.wait_for_load_state("load")
    phone.wait_for_timeout(500)
    assert offer.is_hidden()  # asked once, whatever the answer
