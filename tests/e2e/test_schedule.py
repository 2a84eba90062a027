"""In a real browser: a citizen finds the next BOTRAM from the login page, filters the schedule by kecamatan
(a plain GET form, no script on the page), opens the event and reads what to bring; the A4 poster. On a phone
(390x844) and the desk laptop (1366x768): no console errors (the new_page fixture), axe 0 serious/critical,
screenshots kept under artifacts/screenshots/."""
import re

import pytest
from playwright.sync_api import expect

from .axe import describe, violations
from .conftest import screenshot


def no_blocking_violations(page) -> None:
    found = violations(page)
    assert not found, describe(found)


@pytest.mark.parametrize("width,height,name", [(390, 844, "390"), (1366, 768, "1366")])
def test_citizen_finds_an_event_by_kecamatan_and_reads_what_to_bring(live_server, new_page, width, height, name):
    page = new_page(width, height)
    page.goto(live_server.url + "/login")
    screenshot(page, f"schedule-login-{name}")
    page.get_by_role("link", name="Jadwal BOTRAM").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jadwal BOTRAM")
    # the page works without script: none is loaded at all
    assert page.locator("script").count() == 0
    no_blocking_violations(page)
    screenshot(page, f"schedule-index-{name}")

    # the demo's coming event is a draft (never public); today's open one is in Cikarang Timur
    page.get_by_label("Kecamatan").select_option(label="Setu")
    page.get_by_role("button", name="Tampilkan").click()
    expect(page.locator(".schedule-empty")).to_contain_text("Belum ada BOTRAM terjadwal di Kecamatan Setu.")
    page.get_by_label("Kecamatan").select_option(label="Cikarang Timur")
    page.get_by_role("button", name="Tampilkan").click()
    assert "kecamatan=32.16." in page.url
    items = page.locator(".schedule-item")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("BOTRAM Pasar Bersih Jababeka")
    expect(items.first.locator(".badge")).to_have_text("Hari ini")
    screenshot(page, f"schedule-filtered-{name}")

    items.first.get_by_role("link", name="Layanan dan apa yang perlu dibawa").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("BOTRAM Pasar Bersih Jababeka")
    death = page.locator(".service-card").filter(has=page.get_by_role("heading", name="Akta kematian", exact=True))
    # fourteen services: each checklist opens on a tap (<details>, no script)
    expect(death.locator(".bring-list")).to_be_hidden()
    death.locator("summary").click()
    expect(death.locator(".bring-list li")).to_have_count(5)
    expect(death).to_contain_text("Surat keterangan kematian")
    expect(death.locator(".service-meta")).to_contain_text("08.00–16.00 WIB")
    assert page.evaluate(f"document.documentElement.scrollWidth <= {width}")
    no_blocking_violations(page)
    screenshot(page, f"schedule-event-{name}")

    page.get_by_role("link", name="Poster A4 untuk dicetak").click()
    expect(page.locator(".poster-title")).to_have_text("BOTRAM Pasar Bersih Jababeka")
    expect(page.locator(".poster-qr svg")).to_be_visible()
    no_blocking_violations(page)
    screenshot(page, f"schedule-poster-{name}")


def test_poster_prints_on_one_a4_page(live_server, new_page):
    """The demo event offers every service of the catalogue (fourteen): still one sheet for the notice board."""
    page = new_page(1366, 768)
    page.goto(live_server.url + "/jadwal")
    page.locator(".schedule-item h2 a").first.click()
    page.get_by_role("link", name="Poster A4 untuk dicetak").click()
    expect(page.locator(".poster-service")).to_have_count(14)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi, for the screenshot
    screenshot(page, "schedule-poster-print")
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
