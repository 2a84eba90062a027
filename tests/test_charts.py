"""Every chart is drawn: render the page, parse the chart's SVG as XML, and count its bars and points against
the data the test created (the hours and trend charts were once escaped into visible text and drew nothing)."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, time, timedelta

import pytest

from botram.domain.clock import today_wib, wib_to_utc
from botram.domain.reports_demo import StepPlan, record_visit
from botram.extensions import db
from botram.models import EventStatus, StepStatus

from .factories import give, make_budget_line, make_desk, make_event, make_sponsor, make_user, service

SVG = "{http://www.w3.org/2000/svg}"


def chart(html: str, key: str) -> ET.Element:
    """The `<svg data-chart=key>` element of a page, parsed as XML: a chart escaped into text is not found,
    a malformed one does not parse."""
    found = re.findall(r'<svg\b[^>]*data-chart="%s".*?</svg>' % re.escape(key), html, re.S)
    assert len(found) == 1, f"chart {key!r} drawn {len(found)} times"
    assert "&lt;rect" not in html and "&lt;svg" not in html and "&lt;title" not in html
    return ET.fromstring(found[0])


def bars(svg: ET.Element) -> list[ET.Element]:
    return [e for e in svg.iter(SVG + "rect") if "bar" in e.get("class", "").split()]


def points(svg: ET.Element) -> list[ET.Element]:
    return [e for e in svg.iter(SVG + "circle") if "point" in e.get("class", "").split()]


def has_text_alternative(svg: ET.Element) -> None:
    assert svg.get("role") == "img"
    title_id, desc_id = svg.get("aria-labelledby").split()
    titles = {e.get("id"): (e.text or "") for e in svg if e.tag in (SVG + "title", SVG + "desc")}
    assert titles[title_id].strip() and titles[desc_id].strip()


def arrivals_event(hours: list[int], day: date) -> int:
    event = make_event("BOTRAM Grafik", day=day, status=EventStatus.CLOSED, opens=time(8), closes=time(12))
    desk = make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM", "KK"])
    for hour in hours:
        at = wib_to_utc(day, time(hour, 15))
        record_visit(event, at, [StepPlan(service("KK"), StepStatus.DONE, at + timedelta(minutes=5),
                                          at + timedelta(minutes=15), desk)])
    db.session.commit()
    return event.id


def test_hours_chart_draws_one_bar_and_one_point_per_hour(client, auth):
    make_user("koordinator")
    event_id = arrivals_event([8, 9, 9, 9, 11], today_wib() - timedelta(days=3))
    auth.login("koordinator")
    svg = chart(client.get(f"/reports/events/{event_id}").get_data(as_text=True), "hours")
    has_text_alternative(svg)
    drawn = {b.find(SVG + "title").text.split(":")[0]: b for b in bars(svg)}
    assert list(drawn) == ["08.00", "09.00", "10.00", "11.00"]
    assert [int(b.get("data-value")) for b in drawn.values()] == [1, 3, 0, 1]
    heights = [float(b.get("height")) for b in drawn.values()]
    assert heights[1] == pytest.approx(3 * heights[0], abs=0.2) and heights[2] == 0 and heights[3] == heights[0] > 0
    assert len(points(svg)) == 4 and all(int(p.get("data-value")) == 1 for p in points(svg))


def test_trend_chart_draws_one_bar_per_month_of_visits(client, auth):
    make_user("koordinator")
    this_month = today_wib().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    arrivals_event([8, 9], last_month)
    arrivals_event([8, 8, 10], this_month)
    auth.login("koordinator")
    svg = chart(client.get("/reports/").get_data(as_text=True), "trend")
    has_text_alternative(svg)
    drawn = bars(svg)
    assert [int(b.get("data-value")) for b in drawn] == [2, 3]
    assert float(drawn[0].get("height")) > 0
    assert float(drawn[1].get("height")) == pytest.approx(1.5 * float(drawn[0].get("height")), abs=0.2)


def test_funding_charts_draw_every_segment_and_point_and_show_a_surplus(client, auth):
    make_user("keuangan")
    day = today_wib()
    carried = make_event("BOTRAM Sebagian", day=day.replace(day=1) if day.day > 1 else day)
    covered = make_event("BOTRAM Lunas", day=day)
    make_budget_line(carried, planned="10.000.000")
    make_budget_line(covered, planned="4.000.000")
    s = make_sponsor()
    give(s, carried, value="Rp 2.000.000")
    give(s, carried, form="in_kind", value="Rp 3.000.000")
    give(s, covered, value="Rp 5.000.000")
    auth.login("keuangan")
    html = client.get(f"/funding/?year={day.year}").get_data(as_text=True)
    stacked = chart(html, "mix")
    has_text_alternative(stacked)
    # carried: APBD 5 jt, cash 2 jt, in kind 3 jt; covered: cash 5 jt only (no APBD segment)
    assert [int(b.get("data-value")) for b in bars(stacked)] == [5_000_000, 2_000_000, 3_000_000, 5_000_000]
    labels = [t.text for t in stacked.iter(SVG + "text") if t.get("class") == "bar-label"]
    assert labels == ["APBD 50%", "Lebih Rp 1 jt"]
    assert len([e for e in stacked.iter(SVG + "line") if e.get("class") == "cost-line"]) == 1
    trend = chart(html, "share-trend")
    has_text_alternative(trend)
    assert [p.find(SVG + "title").text for p in points(trend)] == ["Sebagian: 50%", "Lunas: 0%"]
    # the year: cost 14 jt, cash 7 jt, in kind 3 jt; the 1 jt surplus of one event lowers the year's APBD to 4 jt
    share = chart(html, "share-bar")
    assert [float(b.get("width")) for b in bars(share)] == pytest.approx([600 * 4 / 14, 600 * 7 / 14, 600 * 3 / 14],
                                                                         abs=0.1)


def test_an_event_covered_beyond_its_cost_shows_the_surplus_and_the_rows_reconcile(client, auth):
    make_user("keuangan")
    day = today_wib()
    carried = make_event("BOTRAM Sebagian", day=day)
    covered = make_event("BOTRAM Lunas", day=day)
    make_budget_line(carried, planned="10.000.000")
    make_budget_line(covered, planned="4.000.000")
    s = make_sponsor()
    give(s, carried, value="Rp 2.000.000")
    give(s, covered, value="Rp 5.000.000")
    give(s, None, value="Rp 500.000")  # programme-wide
    auth.login("keuangan")
    html = client.get(f"/funding/?year={day.year}").get_data(as_text=True)
    rows = {re.search(r'class="fund-link">([^<]+)<', r).group(1): r
            for r in re.findall(r"<tr>\s*<td><a href=[^>]*fund-link.*?</tr>", html, re.S)}
    assert "Rp 1.000.000" in rows["BOTRAM Lunas"] and "Lebih dari biaya" in rows["BOTRAM Lunas"]
    assert "0,0%" not in rows["BOTRAM Lunas"] and "share-chip surplus" in rows["BOTRAM Lunas"]
    assert "Lebih dari biaya" not in rows["BOTRAM Sebagian"] and "80,0%" in rows["BOTRAM Sebagian"]
    reconcile = re.search(r'<dl class="fund-reconcile".*?</dl>', html, re.S).group(0)
    amounts = re.findall(r'<dd class="num">([^<]+)</dd>', reconcile)
    # 8 jt (events' own APBD) − 1 jt (surplus) − 0,5 jt (programme) = 6,5 jt, the year's APBD
    assert [a.replace("\xa0", " ") for a in amounts] == ["Rp 8.000.000", "− Rp 1.000.000", "− Rp 500.000",
                                                         "Rp 6.500.000"]
    assert re.search(r'data-testid="year-apbd">Rp.6\.500\.000<', html)


def test_a_page_of_25_bars_keeps_its_dates_and_drops_labels_that_would_overlap(app):
    """A regency year's funding page draws 25 bars 27 px apart; labels 70 px wide would write over each other
    (issue 25). The figures stay in each bar's tooltip and in the chart's description."""
    from botram.blueprints.reports.charts import LABEL_ROOM, stacked_bars
    from botram.domain.funding import EventMix

    def mixes(n: int) -> list[EventMix]:
        return [EventMix(event_id=i, title=f"BOTRAM Kecamatan {i}", date=date(2026, 1, 1) + timedelta(days=i),
                         total_cost=10_000_000, sponsor_cash=(i + 1) * 1_000_000, in_kind=14_000_000 if i % 2 else 0)
                for i in range(n)]

    crowded = ET.fromstring(stacked_bars(mixes(25)).svg("uji"))
    texts = [(t.get("class"), t.text) for t in crowded.iter(SVG + "text")]
    assert not [t for t in texts if t[0] in ("bar-label", "tick")]
    assert [t for _c, t in texts if _c == "tick muted"] == [f"{d:02d}/01" for d in range(1, 26, 2)]  # every other
    tooltips = [r.find(SVG + "title").text for r in bars(crowded)]  # cash 25, in kind 12, APBD 5 (events 0–8)
    assert "Kecamatan 1 — Barang/jasa: Rp 14.000.000" in tooltips and len(tooltips) == 25 + 12 + 5
    assert "Lebih Rp 6 jt" in crowded.find(SVG + "desc").text  # the surplus of event 1: 2 + 14 − 10
    roomy = stacked_bars(mixes(5))
    assert roomy.bars[1].x - roomy.bars[0].x >= LABEL_ROOM
    labels = [t.text for t in ET.fromstring(roomy.svg("uji")).iter(SVG + "text") if t.get("class") == "bar-label"]
    assert len(labels) == 5 and len([t for t in ET.fromstring(roomy.svg("uji")).iter(SVG + "text")
                                      if t.get("class") == "tick muted"]) == 5
