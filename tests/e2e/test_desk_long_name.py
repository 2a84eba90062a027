"""The desk console with the longest name reception accepts, written without a space (as some citizens'
names are typed from their KTP): it wraps inside the visitor card at the desk laptop's 1366×768 and on a
coordinator's phone at 390×844; `screenshot` fails on a horizontal scrollbar or a clipped control."""
import pytest
from playwright.sync_api import expect

from .conftest import login, open_desk, screenshot, seed_visits

LONG_NAME = ("Muhammad" + "Abdurrahman" * 10 + "Wijayakusuma")[:120]


@pytest.mark.parametrize("width, height", [(1366, 768), (390, 844)])
def test_a_long_name_without_spaces_stays_inside_the_visitor_card(live_server, new_page, width, height):
    [[code, _token]] = seed_visits(live_server, [[["KIA"], {"name": LONG_NAME}]])
    page = new_page(width, height)
    login(page, live_server.url, "petugas1")
    open_desk(page, live_server, 1)
    page.keyboard.press("n")
    card = page.locator(".visitor-card")
    expect(card).to_contain_text(code)
    expect(card).to_contain_text(LONG_NAME[:40])
    name = page.locator(".visitor-facts dd").first
    card_box, name_box = card.bounding_box(), name.bounding_box()
    assert name_box["x"] + name_box["width"] <= card_box["x"] + card_box["width"] + 1
    screenshot(page, f"desk-long-name-{width}")
