"""The events list of a regency year: 25 to a page, filtered by year and kecamatan, through htmx and as plain
links; read at the desk (1366×768) and on a phone (390×844)."""
from __future__ import annotations

from datetime import time, timedelta

from playwright.sync_api import expect

from botram import create_app
from botram.domain.clock import today_wib, wib_to_utc
from botram.domain.reference import kecamatan_code
from botram.extensions import db
from botram.models import Event

from .axe import describe, violations
from .conftest import LiveServer, login, screenshot


def _seed_year(server: LiveServer, n: int = 40) -> None:
    """`n` closed events over the past weeks in the server's database, written from this process."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": server.database_url, "SECRET_KEY": "seed",
                      "INSTANCE_PATH": str(server.databases.workdir / "seed-instance")})
    places = ["Cibarusah", "Cikarang Timur", "Tambun Selatan", "Setu"]
    with app.app_context():
        for i in range(n):
            day = today_wib() - timedelta(days=3 + i * 2)
            place = places[i % len(places)]
            db.session.add(Event(title=f"BOTRAM Riwayat {i + 1:02d} {place}", date=day, venue=f"Balai {place}",
                                 kecamatan_code=kecamatan_code(place), opens_at=wib_to_utc(day, time(8)),
                                 closes_at=wib_to_utc(day, time(15)), status="closed"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_the_events_list_pages_and_filters(live_server, new_page):
    _seed_year(live_server)
    for width, height in ((1366, 768), (390, 844)):
        page = new_page(width, height)
        login(page, live_server.url, "koordinator")
        page.goto(live_server.url + "/events/")
        expect(page.locator(".ev-title")).to_have_count(25)
        pager = page.get_by_role("navigation", name="Halaman daftar kegiatan")
        expect(pager.get_by_text("Halaman 1 dari")).to_be_visible()
        assert not violations(page), describe(violations(page))
        screenshot(page, f"events-list-paged-{width}")

        pager.get_by_role("link", name="Berikutnya ›").click()  # htmx: the list only, the URL follows
        expect(pager.get_by_text("Halaman 2 dari")).to_be_visible()
        assert "page=2" in page.url

        page.get_by_label("Kecamatan").select_option(label="Cibarusah")  # the form's change → htmx
        expect(page.locator(".ev-title").first).to_contain_text("Cibarusah")
        expect(page.locator(".ev-title", has_text="Setu")).to_have_count(0)
        assert "kecamatan=" in page.url and "page=" not in page.url
        # The loading indicator fades out over 0.15 s after the swap: check the page at rest.
        page.wait_for_function("() => !document.querySelector('.htmx-request') && [...document.querySelectorAll("
                               "'.htmx-indicator')].every(e => getComputedStyle(e).opacity === '0')")
        assert not violations(page), describe(violations(page))
        screenshot(page, f"events-list-kecamatan-{width}")
