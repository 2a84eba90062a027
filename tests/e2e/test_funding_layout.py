"""The funding overview of a regency-sized year in a real browser: its events table fits a 1366x768 laptop
without sideways scroll, and on a 390 px phone each event is a card of labelled amounts (issue 25).

The demo's amounts are millions; a regency year's are billions (bench/scale.py: the year's sponsor cash is
Rp 19.906.500.000), and each amount column widens with them, so the year is seeded here at that size."""
from __future__ import annotations

import random
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from .conftest import login, screenshot
from .test_board_layout import _app

pytestmark = pytest.mark.drawing  # a layout check: drawn once, in the SQLite pass (tests/conftest.py)

TABLE_FITS = """() => {
  const wrap = document.querySelector('.fund-events .table-wrap');
  return {wrap: wrap.clientWidth, table: wrap.scrollWidth,
          columns: [...wrap.querySelectorAll('thead th')].map(th => Math.round(th.offsetWidth))};
}"""


def _seed_year(server) -> int:
    """30 events with long names over the year, each with its budget in the hundreds of millions and
    contributions that add up to billions for the year."""
    from botram.domain.clock import today_wib, wib_to_utc
    from botram.domain.reference import kecamatan_code
    from botram.extensions import db
    from botram.models import BudgetLine, Contribution, Event, Region, Sponsor

    rng = random.Random(25)
    with _app(server).app_context():
        year = today_wib().year
        kecamatan = kecamatan_code("Cikarang Barat")
        desa = db.session.scalar(sa.select(Region.code).where(Region.parent_code == kecamatan).order_by(Region.code))
        sponsor = Sponsor(name="PT Sumber Makmur Sejahtera Abadi Tbk", kind="csr", sector="Manufaktur")
        db.session.add(sponsor)
        for i in range(30):
            day = today_wib().replace(month=1, day=1) + timedelta(days=12 * i)
            event = Event(title=f"BOTRAM Jemput Bola Kecamatan Cikarang Barat Desa Telaga Murni #{i + 1}",
                          date=day, venue="Lapangan Desa", kecamatan_code=kecamatan, desa_code=desa,
                          opens_at=wib_to_utc(day, time(8)), closes_at=wib_to_utc(day, time(12)), status="closed")
            db.session.add(event)
            db.session.flush()
            db.session.add(BudgetLine(event_id=event.id, category="tents", description="Tenda dan kursi",
                                      planned=rng.randrange(100, 900) * 1_000_000, actual=None))
            for form in ("cash", "in_kind", "cash"):
                db.session.add(Contribution(
                    sponsor_id=sponsor.id, event_id=event.id, form=form,
                    category=None if form == "cash" else "printing", description="Sumbangan",
                    value=rng.randrange(100, 999) * 1_000_000 + 500_000, status="received", pledged_on=day,
                    received_on=day, receipt_number=f"KW/{i}/{form}", bast_number="" if form == "cash" else f"B/{i}",
                    valuation_basis="" if form == "cash" else "Harga pasar", claimed_value=None))
            db.session.add(Contribution(  # a pledge still to come
                sponsor_id=sponsor.id, event_id=event.id, form="cash", description="Janji", status="pledged",
                value=rng.randrange(100, 300) * 1_000_000 + 250_000, pledged_on=day, receipt_number="",
                bast_number="", valuation_basis=""))
        for status in ("received", "pledged"):  # programme-wide money: the table's extra row
            day = today_wib().replace(month=6, day=1)
            db.session.add(Contribution(
                sponsor_id=sponsor.id, event_id=None, form="cash", description="Program", status=status,
                value=3_571_250_000, pledged_on=day, received_on=day if status == "received" else None,
                receipt_number="KW/P" if status == "received" else "", bast_number="", valuation_basis=""))
        db.session.commit()
    return year


def test_a_regency_years_table_fits_a_laptop_and_a_phone(live_server, new_page):
    year = _seed_year(live_server)
    base = live_server.url
    page = new_page(1366, 768)
    login(page, base, "keuangan")
    page.goto(f"{base}/funding/?year={year}")
    size = page.evaluate(TABLE_FITS)
    assert size["table"] <= size["wrap"] + 1, size  # no sideways scroll inside the card either
    screenshot(page, "funding-overview-regency-1366")
    phone = new_page(390, 844)
    login(phone, base, "keuangan")
    phone.goto(f"{base}/funding/?year={year}")
    screenshot(phone, "funding-overview-regency-390")
    cell = phone.locator(".fund-table tbody tr").first.locator("td.num").first
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Total biaya"', label  # the amount says what it is, without the hidden header
    # the other funding tables keep their own layout: the contributions list still has its header row
    phone.goto(f"{base}/funding/contributions")
    assert phone.locator(".fund-table thead").first.evaluate("el => getComputedStyle(el).display") != "none"
