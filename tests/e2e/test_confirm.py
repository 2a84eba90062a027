"""Destructive actions ask first, through one mechanism (htmx's hx-confirm): dismissing changes nothing,
accepting acts."""
from __future__ import annotations

import pytest

from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.drawing


def _answer(page, accept: bool) -> list[str]:
    asked: list[str] = []

    def handle(dialog):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", handle)
    return asked


def test_revoking_a_token_asks_and_a_dismissal_keeps_it(live_server, page):
    login(page, live_server.url, "admin")
    page.goto(live_server.url + "/admin/users")
    page.get_by_role("row", name="petugas3").get_by_role("link", name="Token").click()
    page.get_by_label("Nama perangkat").fill("Tombol panggil loket 3")
    page.get_by_role("button", name="Buat token").click()
    page.goto(page.url)
    asked = _answer(page, accept=False)
    page.get_by_role("button", name="Cabut").click()
    page.wait_for_timeout(300)
    assert asked and "Cabut token Tombol panggil loket 3?" in asked[0]
    expect(page.get_by_role("button", name="Cabut")).to_be_visible()  # still active
    asked = _answer(page, accept=True)
    page.get_by_role("button", name="Cabut").click()
    page.get_by_text("dicabut").first.wait_for()
    assert asked


def test_closing_an_event_asks_first(live_server, page):
    login(page, live_server.url, "koordinator")
    page.goto(live_server.url + "/events/1")
    asked = _answer(page, accept=False)
    page.get_by_role("button", name="Tutup kegiatan").click()
    page.wait_for_timeout(300)
    assert asked and "Tutup kegiatan ini?" in asked[0]
    expect(page.get_by_role("button", name="Tutup kegiatan")).to_be_visible()
    asked = _answer(page, accept=True)
    page.get_by_role("button", name="Tutup kegiatan").click()
    expect(page.get_by_text("Kegiatan ditutup.")).to_be_visible()
    assert asked
