"""In a real browser: the citizen's status page when called (390x844), reception's outcome,
reprint and loopback warning, the desk's undo and hours offer (1366x768), and no console errors on any
of these pages."""
import re
import subprocess
import sys

from playwright.sync_api import expect

from .conftest import login, open_desk, screenshot, seed_visits
from .refusals import expect_refusal

# Chromium logs every 4xx answer as "Failed to load resource". A 409/422 is a deliberate refusal whose
# message htmx swaps into the page (the form, the console alert): that line is the browser's network log,
# not a fault of the page. Everything else, a 404 or 500 included, fails the test.
DELIBERATE_REFUSAL = re.compile(r"^Failed to load resource: the server responded with a status of (409|422)\b")


def watch_console(page) -> list[str]:
    """Console errors of the page, less the answers the app refuses on purpose and a desk stream's end (htmx
    logs an EventSource that closed as "[object Event]": a replaced console's stream; see the conftest)."""
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and not DELIBERATE_REFUSAL.search(m.text)
            and m.text != "[object Event]" and errors.append(f"{m.text} @ {m.location.get('url')}"))
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    return errors


def call(page) -> None:
    """Press N; outside the desk's hours the button itself extends them (what a call does here)."""
    page.keyboard.press("n")
    expect(page.locator(".visitor-card")).to_be_visible()
    page.wait_for_timeout(150)


def test_called_step_leads_the_phone_page_and_retitles_it(live_server, page, new_page):
    (code, token), = seed_visits(live_server, [[["KK", "PBB-BAYAR"], {}]])
    phone = new_page(390, 844)
    phone_errors = watch_console(phone)
    phone.goto(f"{live_server.url}/status/{token}")
    expect(phone).to_have_title(re.compile(rf"^Tiket {code}"))
    assert phone.locator(".call-banner").count() == 0
    screenshot(phone, "citizen-status-waiting-390")

    # Bapenda's desk 3 calls the second service of the ticket.
    errors = watch_console(page)
    login(page, live_server.url, "petugas3")
    open_desk(page, live_server, 3)
    call(page)
    # The phone polls every 10 s; the called step replaces the page title and leads the page.
    expect(phone).to_have_title(re.compile(rf"^Dipanggil ke Loket 3 — {code}"), timeout=15_000)
    banner = phone.locator(".call-banner")
    expect(banner).to_contain_text("Loket 3")
    first_card = phone.locator(".status-step").first
    expect(first_card).to_have_class(re.compile(r"\bstate-called\b"))
    assert banner.bounding_box()["y"] < 200  # above the fold, first thing on the screen
    assert phone.evaluate("document.documentElement.scrollWidth <= 390")
    screenshot(phone, "citizen-status-called-390", animations="disabled")  # the pulse at its end, not mid-beat
    assert phone_errors == [] and errors == []


def test_reception_outcome_reprint_and_loopback_warning(live_server, page, new_page):
    errors = watch_console(page)
    (code, _token), = seed_visits(live_server, [[["KK"], {}]])
    desk = new_page()
    desk_errors = watch_console(desk)
    login(desk, live_server.url, "petugas1")
    open_desk(desk, live_server, 1)
    call(desk)
    desk.get_by_role("button", name="Belum lengkap").click()
    expect(desk.locator(".undo-bar")).to_contain_text("Belum lengkap")

    login(page, live_server.url, "resepsionis")
    page.goto(live_server.url + "/reception/")
    page.wait_for_load_state("load")
    row = page.locator(".today-row", has_text=code)
    expect(row).to_contain_text("Perubahan Kartu Keluarga")
    expect(row.locator(".badge.warn")).to_have_text("Belum lengkap")
    assert row.locator(".status-done").count() == 0

    # A new ticket typed with a NIK: the live NIK check and the ticket cause no console error, and the
    # ticket (the server answers on 127.0.0.1) warns that phones cannot open its QR code.
    page.locator("#visit-form input[name='services']").first.focus()
    page.keyboard.press("Space")
    page.locator("#nik").press_sequentially("3216014501900001")
    expect(page.locator("#nik-feedback")).to_contain_text("Struktur NIK benar", timeout=5000)
    page.get_by_role("button", name="Buat tiket").click()
    expect(page.locator(".ticket-preview .ticket-code")).to_be_visible()
    expect(page.locator(".loopback-warning")).to_contain_text("tidak bisa dibuka dari ponsel warga")
    page.wait_for_timeout(300)
    screenshot(page, "citizen-reception-loopback-1366")

    # Reprint the first ticket from the list: the print page opens with the print dialog requested.
    page.locator("#today-q").fill(code)
    expect(page.locator("#today-list .today-row")).to_have_count(1)
    with page.expect_popup() as popup:
        page.locator("#today-list .today-row", has_text=code).get_by_role("link", name="Cetak ulang").click()
    ticket = popup.value
    ticket.wait_for_load_state("load")
    assert ticket.locator("body[data-autoprint]").count() == 1
    expect(ticket.locator(".ticket-code")).to_have_text(code)
    expect(ticket.locator(".ticket-url")).to_contain_text(f"{live_server.url}/status/")  # the address in words
    expect(ticket.locator(".loopback-warning")).to_be_visible()
    screenshot(ticket, "citizen-ticket-reprint")
    assert errors == [] and desk_errors == []


def test_desk_undo_and_hours_offer_without_console_errors(live_server, page):
    codes = [c for c, _ in seed_visits(live_server, [[["KK"], {}], [["KK"], {}]])]
    # Desk 1's hours end a minute ago, whatever the time the test runs: the console offers the extension.
    live_server.cli("--help")  # the CLI works against this database (sanity)
    subprocess.run([sys.executable, "-c", """
import sqlalchemy as sa
from datetime import datetime, time, timedelta
from botram import create_app
from botram.domain.clock import WIB, now
from botram.extensions import db
from botram.models import Desk, Event
app = create_app()
with app.app_context():
    event = db.session.scalar(sa.select(Event).where(Event.title == "BOTRAM Pasar Bersih Jababeka"))
    desk = db.session.scalar(sa.select(Desk).where(Desk.event_id == event.id, Desk.number == 1))
    start = datetime.combine(event.date, time(0, 0), tzinfo=WIB)
    desk.opens_at, desk.closes_at = start, max(start + timedelta(minutes=1), now() - timedelta(minutes=1))
    db.session.commit()
"""], check=True, env=live_server.databases.env(live_server.database_url))
    errors = watch_console(page)
    expect_refusal(page, 422, r"/desk/\d+/steps/\d+/transfer")  # the transfer with no service chosen
    login(page, live_server.url, "petugas1")
    open_desk(page, live_server, 1)
    offer = page.locator(".hours-offer")
    expect(offer).to_contain_text("Di luar jam loket")
    expect(page.locator("button.call-next")).to_contain_text("dan perpanjang jam loket menjadi")
    screenshot(page, "citizen-desk-hours-offer-1366")
    call(page)
    expect(page.locator("#visitor-code")).to_have_text(codes[0])
    expect(page.locator(".hours-offer")).to_have_count(0)  # the hours now cover the call

    # M marks no-show at once; U takes it back within seconds.
    page.keyboard.press("m")
    expect(page.locator(".undo-bar")).to_contain_text(f"{codes[0]} ditandai tidak hadir")
    screenshot(page, "citizen-desk-undo-1366")
    page.keyboard.press("u")
    expect(page.locator("#visitor-code")).to_have_text(codes[0])
    expect(page.locator("#toasts")).to_contain_text("kembali ke loket ini")
    # S with required documents unticked asks first; Enter records "belum lengkap"; the undo brings the
    # visitor back.
    page.keyboard.press("s")
    expect(page.locator("#incomplete-dialog")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator(".undo-bar")).to_be_visible()
    page.keyboard.press("u")
    expect(page.locator("#visitor-code")).to_have_text(codes[0])
    # The undo offer goes away by itself after a few seconds.
    page.keyboard.press("m")
    expect(page.locator(".undo-bar")).to_be_visible()
    expect(page.locator(".undo-bar")).to_have_count(0, timeout=12_000)

    # A refused transfer (no service chosen) is said on the dialog, quietly. (A push for a console an action
    # already replaced is dropped by the SSE extension: tests/e2e/test_desk_console.py.)
    call(page)
    page.keyboard.press("t")
    page.locator("#transfer-dialog button[type=submit]").click()
    expect(page.locator("#transfer-service-error")).to_be_visible()
    page.keyboard.press("Escape")
    page.wait_for_timeout(1500)
    assert errors == [], errors
