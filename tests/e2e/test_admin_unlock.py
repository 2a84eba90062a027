"""A locked-out officer back in without SQL: the admin sees the lock and when it ends, and unlocks it."""
from __future__ import annotations

from playwright.sync_api import expect

from .axe import describe, violations
from .conftest import DEMO_PASSWORD, login, screenshot
from .refusals import expect_refusal


def test_the_admin_unlocks_an_officer_who_mistyped_too_often(live_server, page, new_page):
    officer = new_page(1366, 768)
    expect_refusal(officer, 401, r"/login")  # each wrong password
    expect_refusal(officer, 429, r"/login")  # then the lock
    officer.goto(live_server.url + "/login")
    for password in ["salah-terus-123"] * 5 + [DEMO_PASSWORD]:  # the right one, too late: locked
        officer.get_by_label("Nama pengguna").fill("petugas1")
        officer.get_by_label("Kata sandi").fill(password)
        officer.get_by_role("button", name="Masuk").click()
    expect(officer.get_by_text("Terlalu banyak percobaan masuk yang gagal.")).to_be_visible()

    login(page, live_server.url, "admin")
    page.goto(live_server.url + "/admin/users")
    row = page.get_by_role("row", name="petugas1")
    expect(row).to_contain_text("Terkunci sampai")
    found = violations(page)
    assert not found, describe(found)
    screenshot(page, "admin-users-locked-1366")
    row.get_by_role("button", name="Buka kunci").click()
    expect(page.get_by_text("Kunci akun petugas1 dibuka")).to_be_visible()
    expect(page.get_by_role("row", name="petugas1")).not_to_contain_text("Terkunci")

    login(officer, live_server.url, "petugas1")
    expect(officer.get_by_role("button", name="Keluar")).to_be_visible()
