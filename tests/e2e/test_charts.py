"""The charts are drawn in a real browser: every bar of the demo's charts has a non-empty box, and as many bars
are drawn as the page's own data table (or the chart's data) lists. Screenshots at 1366x768 for people."""
from __future__ import annotations

import pytest

from .conftest import login, screenshot

pytestmark = pytest.mark.drawing


BOXES = """key => [...document.querySelectorAll(`svg[data-chart="${key}"] rect.bar`)].map(r => {
  const b = r.getBoundingClientRect();
  return {value: Number(r.dataset.value || 0), width: b.width, height: b.height};
})"""


def drawn(page, key: str, length: str = "height") -> list[dict]:
    """The bars of a chart; each is as long as its value says (non-zero exactly when the value is) and has a
    thickness. `length` is the direction the value grows in."""
    across = "width" if length == "height" else "height"
    boxes = page.evaluate(BOXES, key)
    assert boxes, f"chart {key} has no bars"
    for box in boxes:
        assert box[across] > 0, (key, box)
        assert (box[length] > 0) == (box["value"] > 0), (key, box)
    return boxes


def test_report_and_funding_charts_are_drawn(page, live_server):
    base = live_server.url
    login(page, base, "koordinator")
    page.goto(base + "/reports/")
    months = drawn(page, "trend")
    assert sum(b["value"] for b in months) > 0
    events = page.locator(".grid-sidebar > section.card table").first
    visits = [int(t.replace(".", "")) for t in events.locator("tbody td:nth-child(4)").all_inner_texts()]
    assert sum(b["value"] for b in months) == sum(visits)  # every visit of the table is in a month's bar
    screenshot(page, "reports-index")

    events.locator("tbody tr").nth(visits.index(max(visits))).get_by_role("link").click()
    page.wait_for_selector('svg[data-chart="hours"]')
    hours = drawn(page, "hours")
    table = [int(t) for t in page.locator(".hours-table tbody td:nth-child(2)").all_inner_texts()]
    assert [b["value"] for b in hours] == table and sum(table) > 0
    assert page.locator('svg[data-chart="hours"] circle.point').count() == len(table)
    screenshot(page, "reports-event")

    page.goto(base + "/funding/")
    drawn(page, "mix")
    assert sum(b["value"] for b in drawn(page, "share-bar", length="width")) > 0
    assert page.locator('svg[data-chart="share-trend"] circle.point').count() > 0
    screenshot(page, "funding-overview")
