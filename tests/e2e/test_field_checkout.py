"""Field sync without IT on site, in Chromium: the coordinator checks an event out to a laptop from the
Lapangan page (the file downloads), reception sees at once that the event is on the laptop, and the event is
taken back only with a reason; what goes wrong is said in a coordinator's words, the setting folded away."""
from __future__ import annotations

import json
import urllib.request

from playwright.sync_api import expect

from .axe import describe, violations
from .conftest import login, screenshot
from .refusals import expect_refusal



def _open_event(server) -> int:
    with urllib.request.urlopen(server.url + "/api/v1/events?status=open") as response:
        return json.loads(response.read())[0]["id"]


def _no_serious_violations(page) -> None:
    found = violations(page)
    assert not found, describe(found)


def _accept_next_dialog(page) -> None:
    page.once("dialog", lambda dialog: dialog.accept())


def test_the_coordinator_checks_an_event_out_from_the_page_and_takes_it_back_with_a_reason(field_server, page):
    event_id = _open_event(field_server)
    login(page, field_server.url, "koordinator")
    page.get_by_role("link", name="Lapangan").click()
    row = page.locator(f"#event-{event_id}")
    row.get_by_label("Nama laptop").fill("laptop-cikarang-1")
    with page.expect_download() as download:
        row.get_by_role("button", name="Bawa ke laptop").click()
    assert download.value.suggested_filename.endswith("laptop-cikarang-1.botram")
    assert download.value.path().stat().st_size > 0
    page.reload()
    expect(row).to_contain_text("Di laptop laptop-cikarang-1")
    _no_serious_violations(page)
    screenshot(page, "field-checked-out-1366")

    # an empty reason is refused by the server, next to the field, and the event stays on the laptop
    expect_refusal(page, 422, r"/lapangan/kegiatan/\d+/ambil-kembali")
    _accept_next_dialog(page)
    row.get_by_role("button", name="Ambil kembali").click()
    expect(row.locator(".field-error")).to_have_text(
        "Tuliskan alasan mengambil kembali kegiatan dari laptop (mis. laptop hilang atau rusak).")
    expect(row).to_contain_text("Di laptop laptop-cikarang-1")
    expect(row.get_by_label("Alasan")).to_have_attribute("aria-invalid", "true")
    _no_serious_violations(page)
    screenshot(page, "field-release-needs-reason-1366")

    row.get_by_label("Alasan").fill("laptop rusak kena hujan")
    _accept_next_dialog(page)
    row.get_by_role("button", name="Ambil kembali").click()
    expect(page.get_by_text("kembali ke server: antrean dapat diubah lagi di sini.")).to_be_visible()
    expect(row).to_contain_text("Di server")


def test_without_the_servers_key_the_page_speaks_to_the_coordinator_and_keeps_the_setting_for_it(live_server,
                                                                                                 page):
    event_id = _open_event(live_server)
    login(page, live_server.url, "koordinator")
    expect_refusal(page, 422, r"/lapangan/kegiatan/\d+/pinjam")  # no key on this server: refused, in words
    page.goto(live_server.url + "/lapangan/")
    row = page.locator(f"#event-{event_id}")
    row.get_by_label("Nama laptop").fill("laptop-cikarang-1")
    row.get_by_role("button", name="Bawa ke laptop").click()
    row = page.locator(f"#event-{event_id}")
    expect(row.locator(".field-error")).to_contain_text("Server ini belum disiapkan untuk membawa kegiatan ke laptop")
    hint = row.get_by_text("BOTRAM_FIELD_KEY")
    expect(hint).to_be_hidden()  # folded away until IT opens it
    row.get_by_text("Keterangan teknis untuk petugas TI").click()
    expect(hint).to_be_visible()
    _no_serious_violations(page)
    screenshot(page, "field-no-key-1366")


def test_reception_sees_the_event_is_on_a_laptop_before_filling_the_form(field_server, page, tmp_path):
    event_id = _open_event(field_server)
    field_server.cli("field", "export", str(event_id), "--output", str(tmp_path / "out.botram"),
                     "--device", "laptop-cikarang-1")
    login(page, field_server.url, "resepsionis")
    page.goto(f"{field_server.url}/reception/{event_id}")
    banner = page.locator("#on-laptop")
    expect(banner).to_contain_text("Kegiatan ini sedang dijalankan di laptop laptop-cikarang-1")
    expect(banner).to_contain_text("Daftarkan pengunjung di laptop itu.")
    expect(page.get_by_role("button", name="Buat tiket")).to_be_disabled()
    expect(page.locator("#visit-form input[name='services']").first).to_be_disabled()
    expect(page.get_by_label("NIK")).to_be_disabled()
    _no_serious_violations(page)
    screenshot(page, "reception-on-laptop-1366")
