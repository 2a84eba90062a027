"""Reception at 1366x768 after a run of tickets: codes on one line, every row's buttons inside the list,
toasts never over the ticket's buttons."""
from __future__ import annotations

from playwright.sync_api import expect

from .conftest import login, screenshot

def _covered(page, selector: str) -> bool:
    """True when something else (a toast) is drawn over the centre of `selector` (scrolled into its list's view
    first: today's list scrolls)."""
    return page.evaluate("""(selector) => {
        const el = document.querySelector(selector);
        el.scrollIntoView({block: "nearest"});
        const box = el.getBoundingClientRect();
        const top = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
        return !(top === el || el.contains(top));
    }""", selector)


def test_a_run_of_tickets_keeps_codes_buttons_and_toasts_in_their_place(live_server, page):
    login(page, live_server.url, "resepsionis")
    page.goto(live_server.url + "/reception/")
    for n in range(4):
        page.locator("#visit-form .agency-group .chip-toggle").nth(n % 3).click()
        page.locator("label.priority-hamil").click()  # the longest badge in a row of today's list
        page.get_by_role("button", name="Buat tiket").click()
        expect(page.locator(".toast").last).to_contain_text(f"A-00{n + 1}")
    # right after a run, the toasts cover neither the ticket's buttons nor the newest row's
    for selector in (".result-actions a.button[href*='/ticket']", "#today-list .today-row:first-child a.button",
                     "#today-list .today-row:first-child button"):
        assert not _covered(page, selector), f"a toast covers {selector}"

    codes = page.locator("#today-list .today-code")
    expect(codes).to_have_count(4)  # waits for the list's refresh, which may follow the last toast
    for i in range(codes.count()):
        box = codes.nth(i).bounding_box()
        line = float(codes.nth(i).evaluate("el => parseFloat(getComputedStyle(el).lineHeight) || 24"))
        assert box["height"] <= line * 1.5, f"ticket code {codes.nth(i).inner_text()} wraps"
    panel = page.locator("#today-list").bounding_box()
    for button in page.locator("#today-list .today-main button, #today-list .today-main a.button").all():
        box = button.bounding_box()
        assert box["x"] >= panel["x"] and box["x"] + box["width"] <= panel["x"] + panel["width"] + 0.5, \
            f"{button.inner_text()} is clipped"
    screenshot(page, "reception-run-of-tickets-1366")
