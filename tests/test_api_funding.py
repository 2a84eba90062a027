"""GET /api/v1/funding?year=YYYY: the documented shape, integer rupiah, roles, bad years."""
from datetime import datetime, timezone

import pytest

from botram.domain import clock, funding
from botram.domain.clock import WIB
from botram.domain.demo import DEMO_TITLE, seed_demo
from botram.domain.tokens import issue_token
from botram.extensions import db
from botram.models import Contribution, User

from .factories import make_user

KEYS = {"year", "total_cost", "sponsor_cash", "in_kind", "apbd_amount", "apbd_share", "target_share", "events"}


def bearer(user: User) -> dict:
    _token, raw = issue_token(user, "uji")
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


# The demo seeded on 15 June 2026 (WIB): its event, three past events 35, 21 and 7 days earlier, all in 2026.
DEMO_DAY = datetime(2026, 6, 15, 10, 0, tzinfo=WIB)


@pytest.fixture
def demo_day(monkeypatch):
    """Pin the one clock every rule reads (`today_wib` reads `clock.now`), so the demo's dates and with them
    the year's figures are the same whatever day the suite runs."""
    monkeypatch.setattr(clock, "now", lambda: DEMO_DAY.astimezone(timezone.utc))


def test_funding_of_the_demo_year_is_exact(client, app, demo_day):
    seed_demo("demo-sandi-1")
    keuangan = db.session.scalar(db.select(User).where(User.username == "keuangan"))
    response = client.get("/api/v1/funding?year=2026", headers=bearer(keuangan))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == KEYS
    # Hand-computed from botram/domain/funding/demo.py. Costs: the demo event's planned lines (53.5 M) and the
    # past events' actuals at 90/75/60 % scale (47.025 M + 39.1875 M + 31.35 M). Cash received: 15 M + 32 M
    # + 8 M + 5 M + 25 M programme-wide; the pledged 10 M and 2 M do not count. In kind received: 16 M + 2.5 M
    # + 4 M + 5 M; the pledged 3 M does not count.
    assert body == {
        "year": 2026, "total_cost": 171_062_500, "sponsor_cash": 85_000_000, "in_kind": 27_500_000,
        "apbd_amount": 58_562_500, "apbd_share": 0.3423, "target_share": 0.6, "events": body["events"]}
    by_title = {e["title"]: e for e in body["events"]}
    assert {title: (e["total_cost"], e["sponsor_cash"], e["in_kind"], e["apbd_amount"])
            for title, e in by_title.items()} == {
        DEMO_TITLE: (53_500_000, 15_000_000, 18_500_000, 20_000_000),
        "BOTRAM Balai Desa Sukadami": (47_025_000, 32_000_000, 4_000_000, 11_025_000),
        "BOTRAM Lapangan Tambun": (39_187_500, 8_000_000, 5_000_000, 26_187_500),
        "BOTRAM Kantor Kecamatan Muaragembong": (31_350_000, 5_000_000, 0, 26_350_000),
        "BOTRAM Alun-alun Cikarang Pusat": (0, 0, 0, 0),
    }
    default_year = client.get("/api/v1/funding", headers=bearer(keuangan)).get_json()
    assert default_year["year"] == 2026

    # A voided entry stops counting at once: void the demo event's 15 M cash.
    wrong = db.session.scalar(db.select(Contribution).where(Contribution.value == 15_000_000))
    funding.void_contribution(wrong, "Salah catat nominal", by_user_id=keuangan.id)
    db.session.commit()
    after = client.get("/api/v1/funding?year=2026", headers=bearer(keuangan)).get_json()
    assert (after["sponsor_cash"], after["apbd_amount"]) == (70_000_000, 73_562_500)


@pytest.mark.parametrize("role, status", [("keuangan", 200), ("koordinator", 200), ("admin", 200),
                                          ("resepsionis", 403), ("petugas", 403)])
def test_funding_roles(client, app, role, status):
    user = make_user(role)
    assert client.get("/api/v1/funding?year=2026", headers=bearer(user)).status_code == status


def test_funding_anonymous_and_bad_years(client, app):
    assert client.get("/api/v1/funding").status_code == 401
    headers = bearer(make_user("keuangan"))
    for bad in ("1999", "2101", "dua ribu", "2026.5", "-1"):
        response = client.get(f"/api/v1/funding?year={bad}", headers=headers)
        assert response.status_code == 400 and response.get_json()["field"] == "year"
    empty = client.get("/api/v1/funding?year=2031", headers=headers).get_json()
    assert empty["total_cost"] == 0 and empty["apbd_share"] is None and empty["events"] == []
