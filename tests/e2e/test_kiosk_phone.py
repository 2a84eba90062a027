"""The kiosk's optional phone for "your turn is near", in Debian's Chromium against `botram serve` whose
messages go to a real HTTP gateway on 127.0.0.1: typed on the on-screen number pad only (touch), a number
that cannot take a message refused in words, the right one kept as +62 and the message sent to it."""
from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from ..notify_gateway import Gateway
from ..printer_endpoint import FakePrinter
from .conftest import LiveServer, demo_ids, run_forked, screenshot
from .refusals import expect_refusal
from .test_kiosk import enrol, kiosks, no_blocking_axe, no_scrolling

PHONES = """
import json
from botram import create_app
from botram.extensions import db
from botram.models import Visit

app = create_app()
with app.app_context():
    print(json.dumps([[v.code, v.phone, v.notify] for v in db.session.query(Visit).order_by(Visit.id)]))
"""


def tap(page, digits: str) -> None:
    for digit in digits:
        page.locator(f".kiosk-pad-key[data-digit='{digit}']").click()


def to_phone_screen(page, event_id: int) -> None:
    page.get_by_text("Konsultasi pajak daerah").click()
    page.get_by_role("button", name="Lanjut").click()
    page.wait_for_url("**/prioritas?**")
    page.get_by_role("button", name=re.compile("^Lansia")).click()
    page.wait_for_url(f"**/kiosk/{event_id}/hp?**")


def test_a_citizen_types_a_phone_on_the_pad_and_gets_the_near_message(e2e_databases, new_page):
    gateway, printer = Gateway(), FakePrinter()
    server = LiveServer(e2e_databases)
    server.settings["BOTRAM_NOTIFY_URLS"] = gateway.url
    server.start()
    try:
        token, = kiosks(server, [printer])
        event_id, _desks = demo_ids(server)
        page = new_page(1080, 1920)
        enrol(page, server, token, event_id)
        to_phone_screen(page, event_id)
        number = page.get_by_label("Nomor HP")
        expect(number).to_have_attribute("readonly", "")
        no_scrolling(page)
        no_blocking_axe(page)
        screenshot(page, "kiosk-phone-1080x1920")

        tap(page, "0812")
        expect(number).to_have_value("0812")
        expect_refusal(page, 422, rf"/kiosk/{event_id}/tiket")
        page.get_by_role("button", name="Ambil tiket").click()
        expect(page.get_by_role("alert")).to_contain_text("Nomor HP tidak valid")
        expect(number).to_have_value("0812")  # kept, to be corrected
        no_scrolling(page)
        no_blocking_axe(page)
        screenshot(page, "kiosk-phone-refused-1080x1920")
        page.get_by_role("button", name="Hapus satu angka").click()
        expect(number).to_have_value("081")
        page.get_by_role("button", name="Hapus", exact=True).click()
        expect(number).to_have_value("")
        tap(page, "081234567890")
        page.get_by_role("button", name="Ambil tiket").click()
        page.wait_for_url(re.compile(r".*/kiosk/\d+/tiket/.+"))
        code = page.inner_text(".kiosk-ticket-code").strip()
        assert "81234567890" not in page.content()  # the number is not shown with the ticket
        rows = run_forked("python", [PHONES], server.databases.env(server.database_url))
        assert [code, "+6281234567890", True] in __import__("json").loads(rows.strip().splitlines()[-1])
        deadline = time.monotonic() + 20  # the server's outbox worker looks at the queue after each change
        while not gateway.messages() and time.monotonic() < deadline:
            time.sleep(0.2)
        message, = gateway.messages()
        assert message["to"] == "+6281234567890" and code in message["text"]

        landscape = new_page(1920, 1080)
        enrol(landscape, server, token, event_id)
        to_phone_screen(landscape, event_id)
        no_scrolling(landscape)
        no_blocking_axe(landscape)
        screenshot(landscape, "kiosk-phone-1920x1080")
        landscape.get_by_role("button", name="Lewati").click()
        landscape.wait_for_url(re.compile(r".*/kiosk/\d+/tiket/.+"))
        expect(landscape.locator(".kiosk-print-state")).to_contain_text("sudah dicetak", timeout=8000)
        for shown in (page, landscape):  # done loading before the server stops (this test's own server)
            shown.wait_for_load_state("networkidle")
            shown.context.close()
    finally:
        server.stop()
        gateway.down()
        printer.close()
