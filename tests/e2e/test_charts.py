"""The charts are drawn in a real browser, and what they draw is counted against the data the API gives for the
same database: one bar per month (gaps drawn as empty bars) with that month's visits, one bar and one dot per
hour with its arrivals and open desks, a red band per hour over capacity, one stacked bar per funded event with
one segment per non-zero part (APBD, sponsor cash, in kind) and its labels, the year's share bar, one dot per
event with an APBD share. Every bar has a non-empty box exactly when its value is non-zero. Screenshots at
1366x768 for people."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date

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


def count(page, selector: str) -> int:
    return page.locator(selector).count()


def texts(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.textContent)")


def data_values(page, selector: str) -> list[int]:
    return page.eval_on_selector_all(selector, "els => els.map(e => Number(e.dataset.value))")


def months_between(first: date, last: date) -> list[tuple[int, int]]:
    months, (y, m) = [], (first.year, first.month)
    while (y, m) <= (last.year, last.month):
        months.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


@pytest.mark.timeout(300)  # a dozen API reads besides the pages, on a loaded machine
def test_report_and_funding_charts_are_drawn(live_server, page):
    base = live_server.url
    login(page, base, "koordinator")
    api = page.request  # the coordinator's session: the same user asks the API

    page.goto(base + "/reports/")
    events = page.locator(".grid-sidebar > section.card table").first
    ids = [int(re.search(r"/reports/events/(\d+)", href).group(1)) for href in
           events.locator("tbody a[href*='/reports/events/']").evaluate_all("els => els.map(a => a.href)")]
    assert len(ids) >= 2, ids  # the demo's held events
    dates = {e["id"]: date.fromisoformat(e["date"]) for e in api.get(base + "/api/v1/events").json()}
    visits = {i: api.get(base + f"/api/v1/events/{i}/stats").json()["visits"] for i in ids}
    per_month = Counter()
    for i in ids:
        per_month[(dates[i].year, dates[i].month)] += visits[i]
    months = months_between(min(dates[i] for i in ids), max(dates[i] for i in ids))
    bars = drawn(page, "trend")
    assert [b["value"] for b in bars] == [per_month[m] for m in months]  # every month, in order, gaps as 0
    assert sum(per_month.values()) > 0
    labels = texts(page, 'svg[data-chart="trend"] text')
    event_counts = [int(t.split()[0]) for t in labels if re.fullmatch(r"\d+ kegiatan", t)]
    assert event_counts == [sum(1 for i in ids if (dates[i].year, dates[i].month) == m) for m in months]
    value_labels = [int(t) for t in labels if t.isdigit()]  # the number above each non-empty bar
    gridline_labels = count(page, 'svg[data-chart="trend"] line')
    assert len(value_labels) - gridline_labels == sum(1 for m in months if per_month[m])
    screenshot(page, "reports-index")

    busiest = max(ids, key=visits.get)
    page.goto(base + f"/reports/events/{busiest}")
    page.wait_for_selector('svg[data-chart="hours"]')
    hours = api.get(base + f"/api/v1/events/{busiest}/stats").json()["arrivals_per_hour"]
    assert [b["value"] for b in drawn(page, "hours")] == [h["arrivals"] for h in hours]
    assert sum(h["arrivals"] for h in hours) == visits[busiest] > 0
    assert data_values(page, 'svg[data-chart="hours"] circle.point') == [h["open_desks"] for h in hours]
    assert count(page, 'svg[data-chart="hours"] rect.over') == sum(1 for h in hours if h["exceeded"])
    hour_labels = [t for t in texts(page, 'svg[data-chart="hours"] text') if re.fullmatch(r"\d\d[.:]\d\d", t)]
    assert hour_labels == [h["hour"] for h in hours]
    table = [int(t) for t in page.locator(".hours-table tbody td:nth-child(2)").all_inner_texts()]
    assert table == [h["arrivals"] for h in hours]
    screenshot(page, "reports-event")

    year = max(dates[i] for i in ids).year  # the demo's year, named so no clock decides it
    page.goto(base + f"/funding/?year={year}")
    funding = api.get(base + f"/api/v1/funding?year={year}").json()
    shown = [e for e in funding["events"] if e["total_cost"] > 0 or e["sponsor_cash"] + e["in_kind"] > 0]
    parts = [[e[k] for k in ("apbd_amount", "sponsor_cash", "in_kind") if e[k] > 0] for e in shown]
    assert shown and any(len(p) > 1 for p in parts), funding  # the demo funds events from more than APBD
    assert [b["value"] for b in drawn(page, "mix")] == [v for p in parts for v in p]  # segment by segment
    assert count(page, 'svg[data-chart="mix"] text.bar-label') == len(shown)
    assert count(page, 'svg[data-chart="mix"] text.tick:not(.muted)') == len(shown)
    share = [b["value"] for b in drawn(page, "share-bar", length="width")]
    assert share == [funding["apbd_amount"], funding["sponsor_cash"], funding["in_kind"]] and sum(share) > 0
    with_share = [e for e in funding["events"] if e["apbd_share"] is not None]
    assert count(page, 'svg[data-chart="share-trend"] circle.point') == len(with_share) > 0
    screenshot(page, "funding-overview")
