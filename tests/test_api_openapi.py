"""GET /api/v1/openapi.json: valid OpenAPI 3.1 that documents every /api/v1 route with matching access rules."""
from __future__ import annotations

import hashlib
import re

import pytest

from botram.blueprints.api.spec import build_document
from botram.models import UNSUR_KEYS


def api_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            yield rule


def openapi_path(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


@pytest.mark.db_independent
def test_openapi_document_is_served_publicly_as_json(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    assert {"session", "bearer"} == set(doc["components"]["securitySchemes"])
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "/api/v1/events" in doc["paths"]


@pytest.mark.db_independent
def test_openapi_document_validates_as_openapi_3_1(client):
    validator = pytest.importorskip("openapi_spec_validator")
    from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator

    doc = client.get("/api/v1/openapi.json").get_json()
    errors = list(OpenAPIV31SpecValidator(doc).iter_errors())
    assert errors == []
    validator.validate(doc)


@pytest.mark.db_independent
def test_every_api_route_is_documented_and_every_documented_route_exists(app):
    doc = build_document(app)
    seen = set()
    for rule in api_rules(app):
        path = openapi_path(rule)
        assert path in doc["paths"], f"{rule.rule} is not documented: declare it with spec.api_spec.validate"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = doc["paths"][path].get(method.lower())
            assert operation, f"{method} {rule.rule} is not documented"
            seen.add((path, method.lower()))
            documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert documented == set(rule.arguments), f"path parameters of {rule.rule}"
    for path, operations in doc["paths"].items():
        for method in operations:
            assert (path, method) in seen, f"{method.upper()} {path} is documented but has no route"


@pytest.mark.db_independent
def test_documented_access_matches_the_views(app):
    doc = build_document(app)
    for rule in api_rules(app):
        view = app.view_functions[rule.endpoint]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = doc["paths"][openapi_path(rule)][method.lower()]
            public = {} in operation["security"]
            assert public is bool(getattr(view, "api_public", False)), \
                f"{rule.rule}: mark the view @api_public or protect it with @api_requires, "
            if not public:
                assert tuple(operation["x-botram-roles"]) == view.allowed_roles, rule.rule
                assert operation["x-botram-capability"] == view.capability.name, rule.rule
                assert "401" in operation["responses"] and "403" in operation["responses"]


@pytest.mark.db_independent
def test_every_operation_documents_json_responses_and_errors(app):
    doc = build_document(app)
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            assert operation.get("operationId"), f"{method} {path} needs an operationId"
            assert any(code.startswith("2") for code in operation["responses"])
            assert "401" in operation["responses"], f"{method} {path}: a bad token answers 401"
            if "{" in path:
                assert "404" in operation["responses"], f"{method} {path} can answer 404"
            if method != "get":
                assert "400" in operation["responses"], f"{method} {path}: malformed JSON / CSRF answer 400"
                names = {p.get("name") for p in operation.get("parameters", [])}
                assert "X-CSRFToken" in names, f"{method} {path}: a write documents X-CSRFToken"


@pytest.mark.db_independent
def test_schemas_require_the_stable_fields(app):
    """Fields outside tools rely on (the API is a stable interface, docs/architecture.md): never optional."""
    SCHEMAS = build_document(app)["components"]["schemas"]
    assert set(SCHEMAS["EventSummary"]["required"]) == {"id", "title", "date", "status", "venue"}
    assert set(SCHEMAS["Desk"]["required"]) == {"id", "label", "agency", "services", "state"}
    assert set(SCHEMAS["EventService"]["required"]) == {"id", "code", "name", "agency"}
    assert set(SCHEMAS["ServiceRef"]["required"]) == {"id", "code", "name"}
    assert set(SCHEMAS["Error"]["required"]) == {"error", "detail"}


def test_responses_match_their_documented_schemas(client):
    """The live answers of the main endpoints, reads and writes, successes and refusals, validate against the
    document's own schemas (jsonschema, draft 2020-12), independently of the pydantic check in spec.py."""
    jsonschema = pytest.importorskip("jsonschema")
    from botram.domain.tokens import issue_token
    from botram.extensions import db

    from .factories import service
    from .worlds import build_world

    world = build_world()
    headers = {"Authorization": f"Bearer {issue_token(world.users['admin'], 'uji skema')[1]}"}
    db.session.commit()
    doc = client.get("/api/v1/openapi.json").get_json()
    checked: set[tuple[str, str]] = set()

    def check(method: str, url: str, path: str, status: int = 200, **kwargs):
        response = client.open(url, method=method, headers=kwargs.pop("headers", headers), **kwargs)
        assert response.status_code == status, (method, url, response.get_data(as_text=True)[:300])
        target = doc["paths"][path][method.lower()]["responses"][str(status)]
        if "$ref" in target:
            target = doc["components"]["responses"][target["$ref"].rsplit("/", 1)[1]]
        schema = dict(target["content"]["application/json"]["schema"])
        schema["components"] = doc["components"]
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        jsonschema.validate(response.get_json(), schema, cls=jsonschema.Draft202012Validator)
        checked.add((method, path))
        return response.get_json()

    event, desk = world.event.id, world.desk.id
    check("GET", "/api/v1/openapi.json", "/api/v1/openapi.json")
    check("GET", "/api/v1/events", "/api/v1/events")
    check("GET", f"/api/v1/events/{event}/desks", "/api/v1/events/{event_id}/desks")
    check("GET", f"/api/v1/events/{event}/services", "/api/v1/events/{event_id}/services")
    assert check("GET", f"/api/v1/desks/{desk}", "/api/v1/desks/{desk_id}")["step"] is not None
    check("POST", f"/api/v1/events/{event}/visits", "/api/v1/events/{event_id}/visits", 201,
          json={"services": [service("KK").id], "priority": "lansia", "nik": "3216014512900003"})
    check("POST", f"/api/v1/desks/{desk}/call-next", "/api/v1/desks/{desk_id}/call-next", 409)
    check("POST", f"/api/v1/steps/{world.step_id}/finish", "/api/v1/steps/{step_id}/finish",
          json={"outcome": "done", "note": "lengkap"})
    called = check("POST", f"/api/v1/desks/{desk}/call-next", "/api/v1/desks/{desk_id}/call-next")
    check("POST", f"/api/v1/steps/{called['step_id']}/recall", "/api/v1/steps/{step_id}/recall")
    check("POST", f"/api/v1/steps/{called['step_id']}/no-show", "/api/v1/steps/{step_id}/no-show")
    reopened = check("POST", f"/api/v1/steps/{called['step_id']}/reopen", "/api/v1/steps/{step_id}/reopen",
                     json={"reason": "salah tekan M"})
    assert reopened["status"] == "waiting"
    check("POST", f"/api/v1/steps/{called['step_id']}/reopen", "/api/v1/steps/{step_id}/reopen", 409,
          json={"reason": "salah tekan M"})
    check("GET", f"/api/v1/events/{event}/board", "/api/v1/events/{event_id}/board")
    check("POST", f"/api/v1/visits/{world.visit.public_token}/survey", "/api/v1/visits/{token}/survey", 201,
          json={"scores": {key: 3 for key in UNSUR_KEYS}, "sex": "P"})
    check("GET", f"/api/v1/events/{event}/stats", "/api/v1/events/{event_id}/stats")
    check("GET", "/api/v1/funding?year=2026", "/api/v1/funding")
    # refusals have the error shape the document gives them
    check("GET", "/api/v1/events/424242/desks", "/api/v1/events/{event_id}/desks", 404)
    check("GET", "/api/v1/events?status=x", "/api/v1/events", 400)
    check("POST", f"/api/v1/events/{event}/visits", "/api/v1/events/{event_id}/visits", 422, json={"services": []})
    check("POST", f"/api/v1/events/{event}/visits", "/api/v1/events/{event_id}/visits", 400, data="[1]")
    # field sync: the JSON answers; the bundle's bytes are checked by tests/test_api_field.py
    client.application.config["BOTRAM_FIELD_KEY"] = "kunci-uji"
    check("GET", f"/api/v1/events/{event}/checkout", "/api/v1/events/{event_id}/checkout")
    bundle = check("POST", f"/api/v1/events/{event}/checkout", "/api/v1/events/{event_id}/checkout", 201,
                   json={"device": "laptop-uji"})
    assert client.get(bundle["url"], headers=headers).status_code == 200
    checked.add(("GET", "/api/v1/field/bundles/{bundle_id}"))
    check("GET", bundle["url"], "/api/v1/field/bundles/{bundle_id}", 416,
          headers={**headers, "Range": f"bytes={bundle['size'] + 10}-"})
    junk = b"bukan bundel"
    upload = check("POST", "/api/v1/field/uploads", "/api/v1/field/uploads", 201,
                   json={"size": len(junk), "sha256": hashlib.sha256(junk).hexdigest()})
    uploads = "/api/v1/field/uploads/{upload_id}"
    check("PUT", f"/api/v1/field/uploads/{upload['id']}", uploads, data=junk,
          headers={**headers, "Content-Range": f"bytes 0-{len(junk) - 1}/{len(junk)}"})
    assert check("GET", f"/api/v1/field/uploads/{upload['id']}", uploads)["complete"] is True
    check("POST", f"/api/v1/field/uploads/{upload['id']}/import", uploads + "/import", 422)
    # booking: an announced event tomorrow, booked, read, cancelled; another checked in once the day opens
    from botram.domain import events as event_rules
    from .booking_world import booked_event, window_at

    planned = booked_event({"KK": 2})
    check("GET", f"/api/v1/events/{planned.id}/booking", "/api/v1/events/{event_id}/booking")
    body = {"event_id": planned.id, "window_id": window_at(planned, 14).id, "services": [service("KK").id],
            "phone": "081234567890"}
    made = check("POST", "/api/v1/bookings", "/api/v1/bookings", 201, json=body)
    check("POST", "/api/v1/bookings", "/api/v1/bookings", 422, json={**body, "phone": "1"})
    check("GET", f"/api/v1/bookings/{made['token']}", "/api/v1/bookings/{token}")
    check("DELETE", f"/api/v1/bookings/{made['token']}", "/api/v1/bookings/{token}")
    kept = check("POST", "/api/v1/bookings", "/api/v1/bookings", 201, json=body)
    event_rules.change_status(planned, "open")
    db.session.commit()
    check("POST", f"/api/v1/bookings/{kept['code']}/check-in", "/api/v1/bookings/{code}/check-in", 201)
    check("POST", f"/api/v1/bookings/{kept['code']}/check-in", "/api/v1/bookings/{code}/check-in", 409)
    operations = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert operations == {(m, p) for m, p in checked}, "an operation whose answers this test never checks"


def test_answers_that_drift_from_their_model_fail_loudly_in_tests(client, monkeypatch):
    """Answers are validated from the rows into their models (schemas.py), so a row that lost a documented
    field cannot be sent; the board's prebuilt JSON (the one answer not built through its model) is checked
    against its model while testing: a drift is a 500 here (and in schemathesis), not a silent change of the
    stable interface."""
    from botram.blueprints.api import events_routes, queue_routes

    from .factories import make_desk, make_event

    event = make_event()
    make_desk(event, 1)
    assert client.get("/api/v1/events").status_code == 200
    assert client.get(f"/api/v1/events/{event.id}/board").status_code == 200

    class Drifted:
        def json_bytes(self):
            return b'{"event_id": 1}'

    monkeypatch.setattr(queue_routes, "state_at", lambda event_id, version: Drifted())
    assert client.get(f"/api/v1/events/{event.id}/board").status_code == 500

    class Untitled:
        def __init__(self, row):
            self.row = row

        def __getattr__(self, name):
            if name == "title":
                raise AttributeError(name)
            return getattr(self.row, name)

    real = events_routes.answer
    monkeypatch.setattr(events_routes, "answer", lambda model, rows, *a, **k: real(model, [Untitled(r) for r in rows]))
    assert client.get("/api/v1/events").status_code == 500


@pytest.mark.parametrize("body, field, detail", [
    ({"services": "1"}, "services", "services harus daftar id layanan (angka), paling sedikit satu."),
    ({"services": [1], "name": 5}, "name", "name harus berupa teks."),
    ({"services": [1], "name": "x" * 121}, "name", "name paling banyak 120 karakter."),
    ({"services": [1], "phone": []}, "phone", "phone harus berupa teks."),
    ({}, "services", "services harus daftar id layanan (angka), paling sedikit satu."),
])
def test_validation_errors_name_the_field_in_indonesian_and_english(app, client, body, field, detail):
    from botram.domain.tokens import issue_token
    from botram.extensions import db

    from .factories import make_event, make_user

    event = make_event()
    headers = {"Authorization": f"Bearer {issue_token(make_user('resepsionis'), 'uji')[1]}"}
    db.session.commit()
    url = f"/api/v1/events/{event.id}/visits"
    answer = client.post(url, json=body, headers=headers, no_csrf=True).get_json()
    assert answer == {"error": "invalid", "detail": detail, "field": field}
    client.post("/lang/en", data={"next": "/"})  # the UI language is the session's choice
    english = client.post(url, json=body, headers=headers, no_csrf=True).get_json()
    assert english["field"] == field and english["detail"] != detail and english["detail"].isascii()
