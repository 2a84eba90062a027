"""The funding overview and the contributions export at a regency's size equal a fresh computation.

The overview sums a year's money in the database and shows its events a page at a time, the export reads plain
rows (issue 25, bench/scale.py); here both are compared with what the funding rule gives when every budget line
and contribution is loaded as an object and counted one by one (`Mix.add`, the rule's own reading), over data
with every kind of record: cash and in kind, received, pledged, cancelled, voided, programme-wide money, lines
with and without an actual, voided lines, events on both sides of a year's end and more events than a page.
"""
from __future__ import annotations

import io
import random
import re
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from botram.blueprints.sponsors.overview import PER_PAGE
from botram.domain import funding as rules
from botram.domain.funding.shared import FORMS, IN_KIND_CATEGORIES, SPONSOR_KINDS, STATUSES, status_key
from botram.extensions import db
from botram.i18n import rupiah
from botram.models import BudgetLine, Contribution, Event, Sponsor

from .factories import make_event, make_user

YEAR = 2025


@pytest.fixture
def regency(app):
    """31 events in YEAR (more than a page) and 4 around it, 12 sponsors, 180 contributions, ~100 budget lines."""
    rng = random.Random(25)
    finance = make_user("keuangan")
    sponsors = [Sponsor(name=f"Sponsor Uji {i:02d}", kind=rng.choice(list(SPONSOR_KINDS)),
                        sector=rng.choice(["Manufaktur", "Perbankan", ""])) for i in range(12)]
    db.session.add_all(sponsors)
    days = [date(YEAR, 1, 1) + timedelta(days=rng.randrange(365)) for _ in range(31)]
    days += [date(YEAR - 1, 12, 31), date(YEAR - 1, 6, 1), date(YEAR + 1, 1, 1), date(YEAR + 1, 3, 3)]
    events = [make_event(title=f"BOTRAM Skala {i:02d}", day=day, status="closed") for i, day in enumerate(days)]
    voided_at = datetime(YEAR, 12, 1, tzinfo=timezone.utc)
    for event in events[:-3]:  # a few events without a budget
        for _ in range(rng.randint(1, 5)):
            planned = rng.randrange(1, 40) * 250_000
            db.session.add(BudgetLine(
                event_id=event.id, category="tents", description="Biaya", planned=planned,
                actual=rng.choice([None, planned, planned - 125_000, planned + 500_000]),
                voided_at=voided_at if rng.random() < 0.1 else None))
    for i in range(180):
        event = rng.choice(events) if rng.random() < 0.8 else None
        pledged_on = (event.date if event else date(YEAR, 1, 1) + timedelta(days=rng.randrange(-20, 385))) - \
            timedelta(days=rng.randrange(0, 30))
        status = rng.choice(["received", "received", "pledged", "cancelled"])
        cash = rng.random() < 0.5
        db.session.add(Contribution(
            sponsor_id=rng.choice(sponsors).id, event_id=event.id if event else None,
            form="cash" if cash else "in_kind", category=None if cash else rng.choice(list(IN_KIND_CATEGORIES)),
            description=f"Sumbangan {i}", value=rng.randrange(1, 80) * 100_000,
            claimed_value=None if cash else rng.randrange(80, 90) * 100_000, status=status, pledged_on=pledged_on,
            received_on=pledged_on + timedelta(days=rng.randrange(0, 40)) if status == "received" else None,
            receipt_number=f"KW-{i}" if status == "received" else "", bast_number="" if cash else f"BAST/{i}",
            cancelled_reason="Sponsor batal" if status == "cancelled" else "",
            voided_at=voided_at if rng.random() < 0.1 else None, void_reason="Salah ketik jumlah"))
    db.session.commit()
    return finance


def fresh_year(year: int) -> rules.YearFunding:
    """The year by the funding rule, every record loaded as an object and counted one by one."""
    start, end = rules.year_bounds(year)
    events = list(db.session.scalars(sa.select(Event).where(Event.date.between(start, end))
                                     .order_by(Event.date, Event.id)))
    result = rules.YearFunding(year=year, target_bp=rules.target_bp(year))
    for event in events:
        mix = rules.EventMix(event_id=event.id, title=event.title, date=event.date, status=event.status)
        for line in db.session.scalars(sa.select(BudgetLine).where(BudgetLine.event_id == event.id)):
            if line.voided_at is None:
                mix.total_cost += line.cost
                mix.budget_lines += 1
        for c in db.session.scalars(sa.select(Contribution).where(Contribution.event_id == event.id)):
            mix.add(c)
        result.events.append(mix)
        for name in ("total_cost", "sponsor_cash", "in_kind", "pledged_cash", "pledged_in_kind"):
            setattr(result, name, getattr(result, name) + getattr(mix, name))
    ids = {e.id for e in events}
    for c in db.session.scalars(sa.select(Contribution)):
        programme = c.event_id is None and start <= c.book_date <= end
        if programme:
            result.programme.add(c)
            result.add(c)
        if (programme or c.event_id in ids) and not c.voided and c.status == "received":
            sponsor = c.sponsor
            result.by_kind[sponsor.kind] = result.by_kind.get(sponsor.kind, 0) + c.value
            key = sponsor.sector or "Lainnya"
            result.by_sector[key] = result.by_sector.get(key, 0) + c.value
    return result


def as_values(funding: rules.YearFunding) -> dict:
    figures = ("total_cost", "sponsor_cash", "in_kind", "pledged_cash", "pledged_in_kind", "apbd_amount", "surplus",
               "apbd_share", "events_apbd", "events_surplus")
    return {
        "year": {name: getattr(funding, name) for name in figures},
        "programme": {name: getattr(funding.programme, name) for name in figures[:7]},
        "events": [(m.event_id, m.title, m.date, m.total_cost, m.sponsor_cash, m.in_kind, m.pledged_cash,
                    m.pledged_in_kind, m.budget_lines, m.apbd_amount, m.surplus, m.apbd_share) for m in funding.events],
        "by_kind": funding.by_kind, "by_sector": dict(sorted(funding.by_sector.items())),
    }


@pytest.mark.parametrize("year", [YEAR, YEAR - 1, YEAR + 1, YEAR + 5])
def test_the_years_sums_equal_the_rule_counted_one_by_one(regency, year):
    summed = rules.yearly_funding(year)
    assert as_values(summed) == as_values(fresh_year(year))
    assert sum(v for *_rest, v in summed.by_sponsor) == sum(summed.by_kind.values())
    assert rules.funding_api_payload(year)["apbd_amount"] == fresh_year(year).apbd_amount
    assert {YEAR - 1, YEAR, YEAR + 1} <= set(rules.funding_years())


def test_the_overview_pages_show_every_event_once_and_the_years_figures(client, auth, regency):
    fresh = fresh_year(YEAR)
    assert len(fresh.events) > PER_PAGE
    auth.login("keuangan")
    seen = []
    for page in (1, 2):
        html = client.get(f"/funding/?year={YEAR}&page={page}").get_data(as_text=True)
        # the year's figures on every page, over all its events
        assert re.search(r'data-testid="year-apbd">([^<]+)<', html).group(1) == rupiah(fresh.apbd_amount)
        assert f">{rupiah(fresh.total_cost)}<" in html and f">{rupiah(fresh.pledged)}<" in html
        assert "Porsi APBD per bulan" in html and f"Halaman {page} dari 2" in html
        for event_id, cells in re.findall(r'href="/funding/events/(\d+)".*?</td>(.*?)</tr>', html, re.S):
            seen.append((int(event_id), re.findall(r'<td class="num[^"]*"[^>]*>([^<]*)<', cells)[:4]))
    assert [e for e, _cells in seen] == [m.event_id for m in fresh.events]  # date order, each once
    for (_id, cells), mix in zip(seen, fresh.events):
        assert cells == [rupiah(mix.total_cost), rupiah(mix.sponsor_cash), rupiah(mix.in_kind),
                         rupiah(mix.apbd_amount)]
    bad = client.get(f"/funding/?year={YEAR}&page=dua")
    assert bad.status_code == 422 and "Nomor halaman tidak valid." in bad.get_data(as_text=True)
    past_the_end = client.get(f"/funding/?year={YEAR}&page=9").get_data(as_text=True)
    assert "Halaman 2 dari 2" in past_the_end


def fresh_export(start: date, end: date) -> list[list]:
    """The export's rows from the contribution objects, as the rule reads each one."""
    def text(labels, key, default=None):
        return str(labels.get(key, key if default is None else default))

    rows = []
    for c in sorted((c for c in db.session.scalars(sa.select(Contribution)) if start <= c.book_date <= end),
                    key=lambda c: (c.book_date, c.id)):
        rows.append([
            c.id, c.book_date, c.sponsor.name, text(SPONSOR_KINDS, c.sponsor.kind), c.sponsor.sector or None,
            c.event.title if c.event else "Program BOTRAM (tanpa kegiatan)", c.event.date if c.event else None,
            text(FORMS, c.form), text(IN_KIND_CATEGORIES, c.category or "", "") or None, c.description,
            text(STATUSES, status_key(c)), 0 if c.voided else c.value, c.claimed_value, c.pledged_on,
            c.received_on, c.receipt_number or None, c.bast_number or None, c.valuation_basis or None,
            (c.void_reason or c.cancelled_reason) or None])
    return rows


def test_the_xlsx_and_csv_cells_equal_the_contributions_one_by_one(client, auth, regency):
    from openpyxl import load_workbook

    auth.login("keuangan")
    start, end = date(YEAR, 1, 1), date(YEAR, 12, 31)
    expected = fresh_export(start, end)
    assert len(expected) > 100
    xlsx = client.get(f"/funding/export?date_from={start}&date_to={end}&format=xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    cells = [[v.date() if isinstance(v, datetime) else v for v in row]
             for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert cells == expected
    # the booked column adds up to what the overview counts as received and live, plus live pledges
    booked = sum(r[11] for r in cells if r[10] in ("Diterima", "Dijanjikan"))
    live = db.session.scalar(sa.select(sa.func.sum(Contribution.value)).where(
        Contribution.voided_at.is_(None), Contribution.status.in_(["received", "pledged"]),
        sa.func.coalesce(Contribution.received_on, Contribution.pledged_on).between(start, end)))
    assert booked == live
    text = client.get(f"/funding/export?date_from={start}&date_to={end}&format=csv").data.decode("utf-8-sig")
    lines = text.strip().split("\r\n")[1:]
    assert [int(line.split(",", 1)[0]) for line in lines] == [r[0] for r in expected]


def test_the_monthly_trend_adds_up_each_months_events(regency):
    events = rules.yearly_funding(YEAR).events
    months = rules.by_month(events)
    assert [m.date for m in months] == sorted({e.date.replace(day=1) for e in events})
    for month in months:
        own = [e for e in events if e.date.replace(day=1) == month.date]
        for name in ("total_cost", "sponsor_cash", "in_kind", "pledged_cash", "pledged_in_kind", "budget_lines"):
            assert getattr(month, name) == sum(getattr(e, name) for e in own), name
        # the month's APBD by the year's rule: what its events' sponsors did not cover together
        assert month.apbd_amount == max(0, sum(e.total_cost for e in own) - sum(e.sponsors for e in own))
