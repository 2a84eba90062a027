"""The API's auth, CSRF and error plumbing, exercised through a probe blueprint wired like the real one."""
from __future__ import annotations

from typing import Annotated

import pytest
from flask import Blueprint, abort, jsonify
from flask_login import current_user
from pydantic import BeforeValidator, Field

from botram.blueprints.api.auth import api_requires, is_token_request, protect_api_blueprint
from botram.blueprints.api.errors import register_error_handlers
from botram.blueprints.api.schemas import ApiModel, QueryModel
from botram.blueprints.api.spec import answers, make_spec
from botram.domain import Conflict, DomainError, NotFound
from botram.domain.tokens import revoke_token
from botram.extensions import db
from botram.permissions import Capability, may_use_app

from .conftest import assert_json_error
from .factories import bearer_for, make_event, make_user

# The probe blueprint is registered on the app, which a shared app refuses after its first request.
pytestmark = pytest.mark.app_config()


class ProbeBody(ApiModel):
    services: list[int] | None = None
    a: int | None = None


class ProbeQuery(QueryModel):
    n: Annotated[int, Field(ge=1, le=50), BeforeValidator(lambda v: v if v.isascii() and v.isdigit() else "x")
                 ] | None = None


@pytest.fixture
def probe(app):
    """A blueprint under /api/v1/_probe with the API's credential, CSRF, error and validation wiring (its own
    SpecTree, so the probe never enters the real API's document)."""
    bp = Blueprint("api_probe", __name__, url_prefix="/api/v1/_probe")
    protect_api_blueprint(bp)
    register_error_handlers(bp)
    spec = make_spec()

    @bp.post("/write")
    @api_requires(Capability("probe_write", ("admin", "resepsionis"), "the probe's write"))
    @spec.validate(resp=answers(201))
    def write(json: ProbeBody):
        return jsonify(role=current_user.role, token=is_token_request(),
                       body=json.model_dump(exclude_unset=True)), 201

    @bp.get("/read")
    @api_requires(may_use_app)
    def read():
        return jsonify(role=current_user.role)

    @bp.post("/domain/<kind>")
    @api_requires(may_use_app)
    def domain(kind):
        if kind == "invalid":
            raise DomainError("Layanan wajib dipilih.", field="services")
        if kind == "conflict":
            raise Conflict("Loket ini masih memanggil pengunjung.")
        if kind == "missing":
            raise NotFound("Tiket tidak ditemukan.")
        if kind == "abort":
            abort(409)
        return jsonify(ok=True)

    @bp.get("/count")
    @spec.validate(resp=answers(200))
    def count_param(query: ProbeQuery):
        return jsonify(n=query.n)

    app.register_blueprint(bp)
    return bp


# --- CSRF: session writes need it, token writes do not --------------------------------------------

def test_session_write_without_csrf_header_is_refused_with_json(client, auth, probe):
    make_user("resepsionis")
    auth.login("resepsionis")
    response = client.post("/api/v1/_probe/write", json={"services": [1]}, no_csrf=True)
    body = assert_json_error(response, 400, "bad_request")
    assert "X-CSRFToken" in body["detail"]


def test_session_write_with_csrf_header_passes(client, auth, probe):
    make_user("resepsionis")
    auth.login("resepsionis")
    response = client.post("/api/v1/_probe/write", json={"services": [1]})
    assert response.status_code == 201
    assert response.get_json() == {"role": "resepsionis", "token": False, "body": {"services": [1]}}


def test_session_write_with_a_wrong_csrf_token_is_refused(client, auth, probe):
    make_user("resepsionis")
    auth.login("resepsionis")
    response = client.post("/api/v1/_probe/write", json={}, headers={"X-CSRFToken": "palsu"})
    assert_json_error(response, 400, "bad_request")


def test_token_write_needs_no_csrf_header(client, probe):
    headers, _ = bearer_for("resepsionis")
    response = client.post("/api/v1/_probe/write", json={"a": 1}, headers=headers, no_csrf=True)
    assert response.status_code == 201
    assert response.get_json() == {"role": "resepsionis", "token": True, "body": {"a": 1}}


def test_token_write_from_a_fresh_client_without_any_cookie(app, probe):
    headers, _ = bearer_for("admin")
    device = app.test_client()  # a plain client: no cookie, no CSRF token at all
    response = device.post("/api/v1/_probe/write", json={"a": 1}, headers=headers)
    assert response.status_code == 201 and response.get_json()["token"] is True
    assert "Set-Cookie" not in response.headers  # a device never gets a session
    assert {"Authorization", "Cookie"} <= set(response.vary)


def test_anonymous_write_is_401_not_a_csrf_error(client, probe):
    response = client.post("/api/v1/_probe/write", json={}, no_csrf=True)
    assert_json_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# --- roles ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["koordinator", "petugas", "keuangan"])
def test_wrong_role_gets_403_json_by_session_and_by_token(client, auth, probe, role):
    make_user(role)
    auth.login(role)
    assert_json_error(client.post("/api/v1/_probe/write", json={}), 403, "forbidden")
    auth.logout()
    headers, _ = bearer_for(role)
    assert_json_error(client.post("/api/v1/_probe/write", json={}, headers=headers, no_csrf=True),
                      403, "forbidden")


def test_signed_in_read_by_session_and_token_and_anonymous(client, auth, probe):
    assert_json_error(client.get("/api/v1/_probe/read"), 401, "unauthorized")
    headers, _ = bearer_for("keuangan")
    assert client.get("/api/v1/_probe/read", headers=headers).get_json() == {"role": "keuangan"}
    make_user("petugas", "petugas1")
    auth.login("petugas1")
    assert client.get("/api/v1/_probe/read").get_json() == {"role": "petugas"}


# --- bad tokens -----------------------------------------------------------------------------------

def test_revoked_token_is_401_everywhere_even_on_public_routes(client, probe):
    headers, token = bearer_for("admin")
    assert client.get("/api/v1/_probe/read", headers=headers).status_code == 200
    revoke_token(token)
    db.session.commit()
    for response in (client.get("/api/v1/_probe/read", headers=headers),
                     client.post("/api/v1/_probe/write", json={}, headers=headers, no_csrf=True),
                     client.get("/api/v1/events", headers=headers)):
        body = assert_json_error(response, 401, "unauthorized")
        assert "dicabut" in body["detail"]
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_unknown_token_and_inactive_user_are_401(client, probe):
    bad = client.get("/api/v1/events", headers={"Authorization": "Bearer btr_tidak-ada"})
    assert_json_error(bad, 401, "unauthorized")
    assert_json_error(client.get("/api/v1/events", headers={"Authorization": "Bearer "}), 401, "unauthorized")
    headers, token = bearer_for("resepsionis")
    token.user.active = False
    db.session.commit()
    assert_json_error(client.post("/api/v1/_probe/write", json={}, headers=headers, no_csrf=True),
                      401, "unauthorized")


def test_bad_token_is_refused_even_beside_a_valid_session(client, auth, probe):
    make_user("admin")
    auth.login("admin")
    response = client.get("/api/v1/_probe/read", headers={"Authorization": "Bearer btr_salah"})
    assert_json_error(response, 401, "unauthorized")


def test_valid_token_beside_a_session_acts_as_the_session_and_keeps_csrf(client, auth, probe):
    make_user("admin")
    auth.login("admin")
    headers, _ = bearer_for("resepsionis")
    # Flask-Login prefers the session: the cookie is the credential, so CSRF still applies.
    assert_json_error(client.post("/api/v1/_probe/write", json={}, headers=headers, no_csrf=True),
                      400, "bad_request")
    response = client.post("/api/v1/_probe/write", json={}, headers=headers)
    assert response.status_code == 201 and response.get_json()["role"] == "admin"


# --- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", ["{bukan json", "", "[1, 2]", "\"teks\"", "null"])
def test_malformed_or_non_object_json_is_400_json(client, probe, body):
    headers, _ = bearer_for("resepsionis")
    response = client.post("/api/v1/_probe/write", data=body, headers=headers, no_csrf=True,
                           content_type="application/json")
    body_ = assert_json_error(response, 400, "bad_request")
    assert "objek JSON" in body_["detail"]


def test_json_sent_as_text_plain_is_still_read(client, probe):
    headers, _ = bearer_for("resepsionis")
    response = client.post("/api/v1/_probe/write", data='{"a": 2}', headers=headers, no_csrf=True,
                           content_type="text/plain")
    assert response.status_code == 201 and response.get_json()["body"] == {"a": 2}


@pytest.mark.parametrize("kind, status, code, detail, field", [
    ("invalid", 422, "invalid", "Layanan wajib dipilih.", "services"),
    ("conflict", 409, "conflict", "Loket ini masih memanggil pengunjung.", None),
    ("missing", 404, "not_found", "Tiket tidak ditemukan.", None),
])
def test_domain_errors_become_json_with_their_status(client, probe, kind, status, code, detail, field):
    headers, _ = bearer_for("admin")
    event = make_event()
    event_title = event.title
    response = client.post(f"/api/v1/_probe/domain/{kind}", json={}, headers=headers, no_csrf=True)
    body = assert_json_error(response, status, code)
    assert body["detail"] == detail
    assert body.get("field") == field
    assert event_title  # the session is still usable after the rollback


def test_abort_inside_an_api_view_is_json_in_indonesian(client, probe):
    headers, _ = bearer_for("admin")
    body = assert_json_error(client.post("/api/v1/_probe/domain/abort", json={}, headers=headers,
                                         no_csrf=True), 409, "conflict")
    assert "Muat ulang" in body["detail"]


@pytest.mark.parametrize("value", ["0", "51", "-1", "abc", "1.5", "٣"])
def test_query_int_rejects_bad_values(client, probe, value):
    body = assert_json_error(client.get(f"/api/v1/_probe/count?n={value}"), 400, "bad_request")
    assert body["field"] == "n"
    assert client.get("/api/v1/_probe/count?n=7").get_json() == {"n": 7}


def test_unknown_api_url_and_wrong_method_are_json(client):
    missing = client.get("/api/v1/tidak-ada")
    assert missing.status_code == 404 and missing.is_json and "error" in missing.get_json()
    wrong = client.post("/api/v1/events", json={})
    assert wrong.status_code == 405 and wrong.is_json and "error" in wrong.get_json()
    anonymous = client.delete("/api/v1/events", no_csrf=True)
    assert anonymous.status_code == 405 and anonymous.is_json
