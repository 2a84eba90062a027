"""The English UI in a real browser at 1366x768: switched from the footer, kept while browsing, and no page
grows a horizontal scrollbar or clipped controls from the longer English labels."""
import pytest
from playwright.sync_api import expect

from .conftest import login, screenshot

pytestmark = pytest.mark.drawing


def english(page, base_url: str, username: str) -> None:
    login(page, base_url, username)
    page.get_by_role("button", name="English").click()
    page.wait_for_url(base_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def check(page, name: str) -> None:
    screenshot(page, name)  # which fails on a horizontal scrollbar or clipped controls


@pytest.mark.parametrize("username, pages", [
    ("koordinator", [("/", "Welcome,"), ("/events/", "BOTRAM events"), ("/reports/", "Events held"),
                     ("/funding/", "BOTRAM funding")]),
    ("petugas1", [("/desk/", "Choose a desk")]),
    ("resepsionis", [("/reception/", "Create ticket")]),
    ("admin", [("/admin/users", "Add user"), ("/admin/services", "Service catalogue")]),
])
def test_english_pages_fit_1366(live_server, page, username, pages):
    english(page, live_server.url, username)
    for path, words in pages:
        page.goto(live_server.url + path)
        expect(page.get_by_text(words).first).to_be_visible()
        check(page, f"i18n-en-{username}-{path.strip('/').replace('/', '-') or 'home'}")


def test_event_detail_in_english(live_server, page):
    english(page, live_server.url, "koordinator")
    page.goto(live_server.url + "/events/")
    page.get_by_role("link", name="BOTRAM Pasar Bersih Jababeka").first.click()
    expect(page.get_by_text("Desks at this event")).to_be_visible()
    check(page, "i18n-en-event-detail")


def test_desk_console_in_english(live_server, page):
    english(page, live_server.url, "petugas1")
    page.goto(live_server.url + "/desk/")
    page.locator("a.desk-tile").first.click()
    expect(page.get_by_role("button", name="Call next")).to_be_visible()
    check(page, "i18n-en-desk-console")
