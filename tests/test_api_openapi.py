"""GET /api/v1/openapi.json: valid OpenAPI 3.1 that documents every /api/v1 route with matching access rules."""
from __future__ import annotations

import re

import pytest

from botram.blueprints.api.openapi import SCHEMAS, build_document


def api_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            yield rule


def openapi_path(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def test_openapi_document_is_served_publicly_as_json(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.is_json
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    assert {"session", "bearer"} == set(doc["components"]["securitySchemes"])
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "/api/v1/events" in doc["paths"]


def test_openapi_document_validates_as_openapi_3_1(client):
    validator = pytest.importorskip("openapi_spec_validator")
    from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator

    doc = client.get("/api/v1/openapi.json").get_json()
    errors = list(OpenAPIV31SpecValidator(doc).iter_errors())
    assert errors == []
    validator.validate(doc)


def test_every_api_route_is_documented_and_every_documented_route_exists(app):
    doc = build_document()
    seen = set()
    for rule in api_rules(app):
        path = openapi_path(rule)
        assert path in doc["paths"], f"{rule.rule} is not in openapi.py PATHS"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = doc["paths"][path].get(method.lower())
            assert operation, f"{method} {rule.rule} is not documented"
            seen.add((path, method.lower()))
            documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert documented == set(rule.arguments), f"path parameters of {rule.rule}"
    for path, operations in doc["paths"].items():
        for method in operations:
            assert (path, method) in seen, f"{method.upper()} {path} is documented but has no route"


def test_documented_access_matches_the_views(app):
    doc = build_document()
    for rule in api_rules(app):
        view = app.view_functions[rule.endpoint]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = doc["paths"][openapi_path(rule)][method.lower()]
            public = {} in operation["security"]
            assert public is bool(getattr(view, "api_public", False)), \
                f"{rule.rule}: mark the view @api_public or protect it with @api_roles, and say the same in openapi.py"
            if not public:
                assert tuple(operation["x-botram-roles"]) == view.allowed_roles, rule.rule
                assert "401" in operation["responses"] and "403" in operation["responses"]


def test_every_operation_documents_json_responses_and_errors(app):
    doc = build_document()
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
                assert "X-CSRFToken" in names, f"{method} {path}: add openapi.CSRF_HEADER to its parameters"


def test_schemas_require_the_stable_fields():
    """Fields outside tools rely on (the API is a stable interface, docs/architecture.md): never optional."""
    assert set(SCHEMAS["EventSummary"]["required"]) == {"id", "title", "date", "status", "venue"}
    assert set(SCHEMAS["Desk"]["required"]) == {"id", "label", "agency", "services", "state"}
    assert set(SCHEMAS["EventService"]["required"]) == {"id", "code", "name", "agency"}
    assert set(SCHEMAS["ServiceRef"]["required"]) == {"id", "code", "name"}
    assert set(SCHEMAS["Error"]["required"]) == {"error", "detail"}


def test_responses_match_their_documented_schemas(client):
    """The live answers validate against the document's own schemas (jsonschema, draft 2020-12)."""
    jsonschema = pytest.importorskip("jsonschema")
    from .factories import make_desk, make_event

    event = make_event()
    make_desk(event, 1)
    doc = client.get("/api/v1/openapi.json").get_json()

    def check(url: str, path: str, status: str = "200"):
        response = client.get(url)
        assert response.status_code == int(status)
        operation = doc["paths"][path]["get"]
        target = operation["responses"][status]
        if "$ref" in target:
            target = doc["components"]["responses"][target["$ref"].rsplit("/", 1)[1]]
        schema = dict(target["content"]["application/json"]["schema"])
        schema["components"] = doc["components"]
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        jsonschema.validate(response.get_json(), schema, cls=jsonschema.Draft202012Validator)

    check("/api/v1/events", "/api/v1/events")
    check(f"/api/v1/events/{event.id}/desks", "/api/v1/events/{event_id}/desks")
    check(f"/api/v1/events/{event.id}/services", "/api/v1/events/{event_id}/services")
    check("/api/v1/events/424242/desks", "/api/v1/events/{event_id}/desks", "404")
    check("/api/v1/events?status=x", "/api/v1/events", "400")
