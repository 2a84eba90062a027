"""An admin's password reset, deactivation or role change ends that user's open sessions at once, on the
pages and on the API (a stolen laptop's session must not outlive the reset); device tokens go on
deactivation and role change, and stay on a password reset (botram/domain/users.py `_end_access`)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from botram.domain.tokens import issue_token
from botram.extensions import db
from botram.models import ApiToken, AuditLog, LoginSession

from .conftest import CsrfClient
from .factories import make_desk, make_event, make_user

NEW_PASSWORD = "sandi-baru-2026"


@pytest.fixture
def officer(app):
    admin = make_user("admin")
    user = make_user("petugas", "petugas1", "DISDUKCAPIL", name="Petugas Satu")
    desk = make_desk(make_event(), 1, "DISDUKCAPIL", ["KTP-REKAM"])
    _token, raw = issue_token(user, "tombol panggil")
    db.session.commit()
    return dict(admin=admin.id, user=user.id, agency=user.agency_id, desk=desk.id, token=raw)


def _signed_in(app, username, password="rahasia-123") -> CsrfClient:
    app.test_client_class = CsrfClient
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": password}).status_code == 303
    return client


def _page_ok(client, desk_id) -> bool:
    response = client.get(f"/desk/{desk_id}")
    if response.status_code in (302, 303):
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def _api_ok(client, desk_id, **headers) -> bool:
    response = client.get(f"/api/v1/desks/{desk_id}", headers=headers)
    assert response.status_code in (200, 401), response.status_code
    if response.status_code == 401:
        assert response.is_json and response.get_json()["error"]
    return response.status_code == 200


def _admin_edits(app, officer, **changes):
    form = {"name": "Petugas Satu", "role": "petugas", "agency_id": str(officer["agency"]), "active": "y",
            "password": ""}
    form.update(changes)
    form = {key: value for key, value in form.items() if value is not None}
    admin = _signed_in(app, "admin")
    response = admin.post(f"/admin/users/{officer['user']}", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


CHANGES = {
    "password_reset": dict(password=NEW_PASSWORD),
    "deactivation": dict(active=None),
    "role_change": dict(role="resepsionis", agency_id=""),
}


@pytest.mark.parametrize("change", CHANGES)
def test_the_old_session_is_refused_on_page_and_api(app, officer, change):
    laptop = _signed_in(app, "petugas1")
    assert _page_ok(laptop, officer["desk"]) and _api_ok(laptop, officer["desk"])

    _admin_edits(app, officer, **CHANGES[change])

    assert not _api_ok(laptop, officer["desk"]), "the API still answers the old session"
    assert not _page_ok(laptop, officer["desk"]), "the page still opens for the old session"
    reason = {"password_reset": "password", "deactivation": "deactivated", "role_change": "role_change"}[change]
    db.session.expire_all()
    assert db.session.scalars(sa.select(LoginSession.end_reason).where(
        LoginSession.user_id == officer["user"])).all() == [reason]
    detail = db.session.scalar(sa.select(AuditLog.detail).where(AuditLog.action == "user.update"))
    assert detail["sessions_ended"] == 1


def test_after_a_reset_the_new_password_signs_in_and_the_device_token_still_works(app, officer):
    _admin_edits(app, officer, password=NEW_PASSWORD)
    fresh = _signed_in(app, "petugas1", NEW_PASSWORD)
    assert _page_ok(fresh, officer["desk"]) and _api_ok(fresh, officer["desk"])
    device = app.test_client()
    assert _api_ok(device, officer["desk"], Authorization=f"Bearer {officer['token']}")


@pytest.mark.parametrize("change", ["deactivation", "role_change"])
def test_deactivation_and_role_change_revoke_device_tokens(app, officer, change):
    device = app.test_client()
    assert _api_ok(device, officer["desk"], Authorization=f"Bearer {officer['token']}")
    _admin_edits(app, officer, **CHANGES[change])
    if change == "deactivation":
        _admin_edits(app, officer)  # reactivated: the old device does not come back with the account
    assert not _api_ok(device, officer["desk"], Authorization=f"Bearer {officer['token']}")
    db.session.expire_all()
    assert db.session.scalar(sa.select(ApiToken.revoked_at).where(ApiToken.user_id == officer["user"])) is not None


def test_a_reactivated_account_does_not_revive_its_old_session(app, officer):
    laptop = _signed_in(app, "petugas1")
    _admin_edits(app, officer, active=None)
    _admin_edits(app, officer)
    assert not _page_ok(laptop, officer["desk"]) and not _api_ok(laptop, officer["desk"])


def test_a_name_change_keeps_the_session(app, officer):
    laptop = _signed_in(app, "petugas1")
    _admin_edits(app, officer, name="Petugas Satu Baru")
    assert _page_ok(laptop, officer["desk"]) and _api_ok(laptop, officer["desk"])
