"""The ticket kiosk in Debian's Chromium at 1080x1920 (portrait) and 1920x1080, against `botram serve` with
thermal printers that are TCP servers in this test: a lansia takes a ticket for two services, a family takes
the death package, the screen goes back to the start after 30 s untouched; and 20 presses at once on three
kiosks make 20 tickets and 20 print jobs, none twice."""
from __future__ import annotations

import json
import re
import threading

import requests
from playwright.sync_api import expect

from ..escpos_stream import read
from ..printer_endpoint import FakePrinter
from .axe import describe, violations
from .conftest import demo_ids, login, run_forked, screenshot

SETUP = """
import json, sys
from botram import create_app
from botram.domain import printing
from botram.domain.tokens import issue_token
from botram.domain.users import create_user
from botram.extensions import db

app = create_app()
with app.app_context():
    out = []
    for n, target in enumerate(json.loads(sys.argv[1]), 1):
        user = create_user(f"kios{n}", f"Kios {n}", "rahasia-kios-123", "kiosk")
        token, raw = issue_token(user, f"kios pintu {n}")
        printing.create_printer(printing.PrinterInput(name=f"Printer kios {n}", connection="network",
                                                      target=target, token_id=token.id))
        db.session.commit()
        out.append(raw)
    print(json.dumps(out))
"""


def kiosks(server, printers) -> list[str]:
    """Kiosk accounts with a device token each, each token attached to one of `printers`; the raw tokens."""
    printed = run_forked("python", [SETUP, json.dumps([p.target for p in printers])],
                         server.databases.env(server.database_url))
    return json.loads(printed.strip().splitlines()[-1])


def enrol(page, server, token: str, event_id: int) -> None:
    page.goto(server.url + "/kiosk/masuk")
    page.fill("#token", token)
    page.select_option("#event", str(event_id))
    page.get_by_role("button", name="Pasang").click()
    page.wait_for_url(f"**/kiosk/{event_id}")


def no_blocking_axe(page) -> None:
    found = violations(page)
    assert not found, describe(found)


def no_scrolling(page) -> None:
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1"), "the kiosk scrolls"


def test_a_lansia_takes_a_ticket_for_two_services_on_a_portrait_kiosk(live_server, new_page):
    printer = FakePrinter()
    try:
        token, = kiosks(live_server, [printer])
        event_id, _desks = demo_ids(live_server)
        page = new_page(1080, 1920)
        enrol(page, live_server, token, event_id)
        screenshot(page, "kiosk-start-1080x1920")
        no_scrolling(page)
        no_blocking_axe(page)
        page.get_by_text("Konsultasi pajak daerah").click()
        page.get_by_text("Pemeriksaan kesehatan dasar").click()
        page.get_by_role("button", name="Lanjut").click()
        page.wait_for_url("**/prioritas?**")
        no_blocking_axe(page)
        screenshot(page, "kiosk-priority-1080x1920")
        page.get_by_role("button", name=re.compile("^Lansia")).click()
        page.wait_for_url(re.compile(r".*/kiosk/\d+/tiket/.+"))
        code = page.inner_text(".kiosk-ticket-code").strip()
        assert re.fullmatch(r"[A-Z]-\d{3}", code)
        # the outbox worker prints just after the commit; the page looks again while it is on its way
        expect(page.locator(".kiosk-print-state")).to_contain_text("sudah dicetak", timeout=8000)
        assert page.locator(".kiosk-ticket-services li").count() == 2
        no_scrolling(page)
        no_blocking_axe(page)
        screenshot(page, "kiosk-ticket-1080x1920")
        job, = printer.wait_for(1)
        printed = read(job)
        assert printed.magnification(code) >= 3 and printed.cuts == 1
        assert printed.qr[0].startswith(live_server.url + "/status/")
        assert "Prioritas: Lansia" in printed.text()
    finally:
        printer.close()


def test_a_family_takes_the_death_package_on_a_landscape_kiosk_and_it_resets_when_left(live_server, new_page):
    printer = FakePrinter()
    try:
        token, = kiosks(live_server, [printer])
        event_id, _desks = demo_ids(live_server)
        page = new_page(1920, 1080)
        enrol(page, live_server, token, event_id)
        no_scrolling(page)
        screenshot(page, "kiosk-start-1920x1080")
        page.get_by_role("button", name=re.compile("Kematian anggota keluarga")).click()
        page.wait_for_url("**/prioritas?**")
        no_scrolling(page)
        screenshot(page, "kiosk-priority-1920x1080")
        page.get_by_role("button", name=re.compile("^Tidak")).click()
        page.wait_for_url(re.compile(r".*/kiosk/\d+/tiket/.+"))
        assert page.locator(".kiosk-ticket-services li").count() == 4
        # the page looks again while the print is on its way: axe runs once it has settled
        expect(page.locator(".kiosk-print-state")).to_contain_text("sudah dicetak", timeout=8000)
        no_scrolling(page)
        no_blocking_axe(page)
        screenshot(page, "kiosk-ticket-1920x1080")
        assert len(printer.wait_for(1)) == 1

        # Left untouched: back to the start after 30 s, and a tick left on the start screen is cleared.
        page.clock.install()
        page.goto(live_server.url + f"/kiosk/{event_id}")
        page.get_by_text("Konsultasi pajak daerah").click()
        assert page.locator(".kiosk-pick input:checked").count() == 1
        page.clock.fast_forward(20_000)
        assert page.locator(".kiosk-pick input:checked").count() == 1  # not yet
        page.get_by_text("Pemeriksaan kesehatan dasar").click()  # a touch starts the 30 s again
        page.clock.fast_forward(25_000)
        assert page.locator(".kiosk-pick input:checked").count() == 2
        page.clock.fast_forward(6_000)
        assert page.locator(".kiosk-pick input:checked").count() == 0
        page.get_by_text("Konsultasi pajak daerah").click()
        page.get_by_role("button", name="Lanjut").click()
        page.wait_for_url("**/prioritas?**")
        page.clock.fast_forward(31_000)
        page.wait_for_url(f"**/kiosk/{event_id}")
    finally:
        printer.close()


def test_twenty_presses_at_once_on_three_kiosks_make_twenty_tickets_and_prints(live_server):
    printers = [FakePrinter() for _ in range(3)]
    try:
        tokens = kiosks(live_server, printers)
        event_id, _desks = demo_ids(live_server)
        tax = None
        presses = []
        for n in range(20):  # each press on its screen: the priority form with its own press key
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {tokens[n % 3]}"
            start = session.get(f"{live_server.url}/kiosk/{event_id}", timeout=30).text
            tax = tax or re.search(r'name="layanan" value="(\d+)"', start).group(1)
            screen = session.get(f"{live_server.url}/kiosk/{event_id}/prioritas", params={"layanan": tax},
                                 timeout=30).text
            form = dict(re.findall(r'name="(csrf_token|press)" value="([^"]+)"', screen))
            presses.append((session, {**form, "layanan": tax, "priority": "none"}))
        barrier = threading.Barrier(len(presses))
        answers = [None] * len(presses)

        def press(i, session, form):
            barrier.wait()
            answers[i] = session.post(f"{live_server.url}/kiosk/{event_id}/tiket", data=form, timeout=60,
                                      allow_redirects=False)

        threads = [threading.Thread(target=press, args=(i, s, f)) for i, (s, f) in enumerate(presses)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        assert [a.status_code for a in answers] == [303] * 20
        jobs = [job for p in printers for job in p.wait_for(0, timeout=0)]
        deadline_jobs = sum(len(p.wait_for(7, timeout=5)) for p in printers)
        assert deadline_jobs == 20, deadline_jobs
        codes = [read(job).lines for p in printers for job in p.jobs]
        big = [next(text for text, size in lines if size >= 3) for lines in codes]
        assert len(set(big)) == 20, sorted(big)  # 20 different tickets, none printed twice
        assert len(set(a.headers["Location"] for a in answers)) == 20
        del jobs
    finally:
        for p in printers:
            p.close()


def test_admin_adds_a_printer_and_prints_its_test_page(live_server, page):
    printer = FakePrinter()
    try:
        login(page, live_server.url, "admin")
        page.goto(live_server.url + "/admin/printers")
        page.fill("#name", "Printer meja 1")
        page.select_option("#connection", "network")
        page.fill("#target", printer.target)
        page.fill("#station", "Resepsionis 1")
        page.get_by_role("button", name="Simpan").click()
        expect(page.locator(".alert.ok")).to_contain_text("Printer meja 1")
        page.get_by_role("button", name="Cetak halaman uji").click()
        expect(page.locator(".alert.ok")).to_contain_text("Halaman uji terkirim")
        assert "Halaman uji" in read(printer.wait_for(1)[0]).text()
        no_blocking_axe(page)
        screenshot(page, "admin-printers-1366")
    finally:
        printer.close()
