"""A booking's QR scanned at the kiosk in Debian's Chromium at 1080x1920, against `botram serve` with a thermal
printer that is a TCP server in this test. The USB scanner is a keyboard: it types the code and Enter, here
`keyboard.type(code)` and Enter, into the start screen's focused scan field."""
from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from ..escpos_stream import read
from ..printer_endpoint import FakePrinter
from .conftest import demo_ids, run_forked, screenshot
from .refusals import expect_refusal
from .test_kiosk import enrol, kiosks, no_blocking_axe, no_scrolling

BOOKINGS = """
import json, sys
from botram import create_app
from botram.extensions import db
from botram.models import Booking
from tests.booking_world import booking_to_check_in

app = create_app()
with app.app_context():
    event_id = int(sys.argv[1])
    good, cancelled = booking_to_check_in(event_id, 1), booking_to_check_in(event_id, 2)
    db.session.query(Booking).filter_by(code=cancelled).update({"status": "cancelled"})
    db.session.commit()
    print(json.dumps([good, cancelled]))
"""

SCAN_LABEL = re.compile("Pindaikan kode QR pemesanan")


def bookings(server, event_id: int) -> tuple[str, str]:
    """A booking of the event waiting to be checked in, and a cancelled one: their codes."""
    printed = run_forked("python", [BOOKINGS, str(event_id)], server.databases.env(server.database_url))
    good, cancelled = json.loads(printed.strip().splitlines()[-1])
    return good, cancelled


def scan(page, code: str) -> None:
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_a_booking_scanned_on_a_portrait_kiosk_prints_one_ticket_and_a_used_one_is_said(live_server, new_page):
    printer = FakePrinter()
    try:
        token, = kiosks(live_server, [printer])
        event_id, _desks = demo_ids(live_server)
        code, cancelled = bookings(live_server, event_id)
        page = new_page(1080, 1920)
        enrol(page, live_server, token, event_id)
        field = page.get_by_label(SCAN_LABEL)
        expect(field).to_be_focused()
        no_scrolling(page)
        no_blocking_axe(page)
        screenshot(page, "kiosk-scan-start-1080x1920")
        # A touch on a tile takes the focus; the scanner's keys still land in the scan field.
        page.get_by_text("Konsultasi pajak daerah").click()
        expect(field).to_be_focused()
        # The QR read twice in a row: one check-in, one ticket, one print.
        scan(page, code)
        scan(page, code)
        page.wait_for_url(re.compile(r".*/kiosk/\d+/tiket/.+"))
        ticket_code = page.inner_text(".kiosk-ticket-code").strip()
        assert re.fullmatch(r"[A-Z]-\d{3}", ticket_code)
        expect(page.locator(".kiosk-print-state")).to_contain_text("sudah dicetak", timeout=8000)
        no_scrolling(page)
        no_blocking_axe(page)
        screenshot(page, "kiosk-scan-ticket-1080x1920")
        jobs = printer.wait_for(2, timeout=2)
        assert len(jobs) == 1
        printed = read(jobs[0])
        assert printed.magnification(ticket_code) >= 3 and printed.cuts == 1
        assert printed.qr[0].startswith(live_server.url + "/status/")

        # Back at the start, the same QR again: used, said in words; a cancelled one likewise.
        expect_refusal(page, 409, rf"/kiosk/{event_id}/booking")
        page.get_by_role("link", name="Selesai").click()
        page.wait_for_url(f"**/kiosk/{event_id}")
        expect(field).to_be_focused()
        scan(page, code)
        expect(page.get_by_role("alert")).to_contain_text(f"Pemesanan {code} sudah didaftarkan")
        expect(page.get_by_role("heading", level=1)).to_have_text("Pemesanan tidak dapat didaftarkan")
        no_scrolling(page)
        no_blocking_axe(page)
        screenshot(page, "kiosk-scan-used-1080x1920")
        expect(field).to_be_focused()  # the scanner is ready for the right QR at once
        scan(page, cancelled)
        expect(page.get_by_role("alert")).to_contain_text(f"Pemesanan {cancelled} sudah dibatalkan")
        assert len(printer.wait_for(2, timeout=1)) == 1
    finally:
        printer.close()
