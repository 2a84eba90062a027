"""In a real browser: the coordinator announces the coming demo day and opens booking for 14-16; a citizen (on a
phone at 390x844 and on a laptop at 1366x768) finds it by kecamatan, reads what to bring, books 14-16 for two
services, changes it, books and cancels another; on the day reception types the code and Enter, as a barcode
scanner does, and gets the ticket to print. No console errors, axe 0 serious/critical, screenshots kept."""
import re

import pytest
from playwright.sync_api import expect

from .axe import describe, violations
from .conftest import login, screenshot

TITLE = "BOTRAM Alun-alun Cikarang Pusat"


def clean(page) -> None:
    found = violations(page)
    assert not found, describe(found)


def _coordinator_opens_booking(page, base: str) -> str:
    login(page, base, "koordinator")
    page.goto(base + "/events/")
    page.get_by_role("link", name=TITLE).first.click()
    event_url = page.url
    page.get_by_role("button", name="Umumkan di jadwal").click()
    expect(page.locator("body")).to_contain_text("Kegiatan diumumkan di jadwal publik.")
    page.get_by_role("link", name="Pemesanan daring").click()
    page.fill("#windows-3-quotas-0", "2")
    page.fill("#windows-3-quotas-1", "2")
    page.get_by_role("button", name="Simpan pemesanan").click()
    expect(page.locator("body")).to_contain_text("Pemesanan disimpan.")
    clean(page)
    screenshot(page, "booking-coordinator-1366")
    return event_url


@pytest.mark.parametrize("width,height,name", [(390, 844, "390"), (1366, 768, "1366")])
def test_book_change_cancel_and_check_in_by_scanner(live_server, new_page, width, height, name):
    staff = new_page(1366, 768)
    event_url = _coordinator_opens_booking(staff, live_server.url)

    page = new_page(width, height)
    page.goto(live_server.url + "/jadwal")
    page.get_by_label("Kecamatan").select_option(label="Cikarang Pusat")
    page.get_by_role("button", name="Tampilkan").click()
    page.get_by_role("link", name="Layanan dan apa yang perlu dibawa").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    page.locator(".service-card summary").first.click()
    expect(page.locator(".service-card .bring-list").first).to_be_visible()
    page.get_by_role("link", name="Pesan tempat").click()
    assert page.locator("script").count() == 0  # a plain form
    chips = page.locator(".book-chip input")
    expect(chips).to_have_count(2)
    chips.nth(0).check()
    chips.nth(1).check()
    page.locator(".book-window", has_text="14.00–16.00").locator("input").check()
    expect(page.locator(".book-window", has_text="14.00–16.00")).to_contain_text("tersisa 2 tempat")
    page.get_by_label("Nomor HP").fill("0812 3456 7890")
    clean(page)
    screenshot(page, f"booking-form-{name}")
    page.get_by_role("button", name="Pesan tempat").click()
    code = page.locator(".book-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{6}", code)
    expect(page.locator(".book-qr svg")).to_be_visible()
    clean(page)
    screenshot(page, f"booking-code-{name}")
    mine = page.url

    # change: keep one service only
    page.locator(".book-form .book-chip input").nth(1).uncheck()
    page.get_by_role("button", name="Simpan perubahan").click()
    expect(page.locator("body")).to_contain_text("Pemesanan diubah.")
    expect(page.locator(".book-services li")).to_have_count(1)

    # another booking, cancelled
    page.goto(mine)
    page.get_by_role("link", name="Apa yang perlu dibawa").click()
    page.get_by_role("link", name="Pesan tempat").click()
    page.locator(".book-chip input").nth(0).check()
    page.locator(".book-window", has_text="14.00–16.00").locator("input").check()
    page.get_by_label("Nomor HP").fill("0813 1111 2222")
    page.get_by_role("button", name="Pesan tempat").click()
    page.get_by_role("button", name="Batalkan pemesanan").click()
    expect(page.locator(".book-card .badge")).to_have_text("Dibatalkan")
    screenshot(page, f"booking-cancelled-{name}")

    # the day: the coordinator opens the event, reception scans the first code (typed + Enter)
    staff.goto(event_url)
    staff.get_by_role("button", name="Buka kegiatan").click()
    desk = new_page(1366, 768)
    login(desk, live_server.url, "resepsionis")
    desk.goto(live_server.url + "/reception/" + event_url.rstrip("/").split("/")[-1])
    desk.locator("#booking-code").fill(code.lower())
    desk.keyboard.press("Enter")
    desk.wait_for_selector(".ticket-preview .ticket-code")
    expect(desk.locator(".result-head")).to_contain_text("Pemesanan daring")
    # the paper switch: toggle buttons once reception.js runs (aria-pressed belongs to a button)
    expect(desk.get_by_role("button", name="58 mm")).to_be_visible()
    clean(desk)
    screenshot(desk, f"booking-reception-{name}")
