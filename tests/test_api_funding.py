"""GET /api/v1/funding?year=YYYY: the documented shape, integer rupiah, roles, bad years."""
import pytest

from botram.domain.clock import today_wib
from botram.domain.demo import seed_demo
from botram.domain.tokens import issue_token
from botram.extensions import db
from botram.models import User

from .factories import make_user

KEYS = {"year", "total_cost", "sponsor_cash", "in_kind", "apbd_amount", "apbd_share", "target_share", "events"}


def bearer(user: User) -> dict:
    _token, raw = issue_token(user, "uji")
    db.session.commit()
    return {"Authorization": f"Bearer {raw}"}


def test_funding_of_the_demo_year_adds_up(client, app):
    seed_demo("demo-sandi-1")
    keuangan = db.session.scalar(db.select(User).where(User.username == "keuangan"))
    response = client.get(f"/api/v1/funding?year={today_wib().year}", headers=bearer(keuangan))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == KEYS
    assert body["total_cost"] > 0 and body["sponsor_cash"] > 0 and body["in_kind"] > 0
    for key in ("total_cost", "sponsor_cash", "in_kind", "apbd_amount"):
        assert isinstance(body[key], int)
    assert body["apbd_amount"] == max(0, body["total_cost"] - body["sponsor_cash"] - body["in_kind"])
    assert body["apbd_share"] == pytest.approx(body["apbd_amount"] / body["total_cost"], abs=1e-4)  # 4 decimals
    assert 0 < body["target_share"] <= 1
    for event in body["events"]:
        assert event["apbd_amount"] == max(0, event["total_cost"] - event["sponsor_cash"] - event["in_kind"])
    default_year = client.get("/api/v1/funding", headers=bearer(keuangan)).get_json()
    assert default_year["year"] == today_wib().year


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
