"""One declaration per route validates and documents it: spectree reads the pydantic models of schemas.py
that a view names (`json: VisitRequest`, `query: EventsQuery`, `resp=answers(...)`) and builds the OpenAPI 3.1
document from them, with the view's docstring as its summary and description.

What spectree does not know about is added here from the wiring every route already has, so nothing is said
twice: who may call it (`api_public` / `api_requires` in auth.py: `security`, `x-botram-roles`, `x-botram-capability`, 401 and 403),
what every write accepts and may answer (X-CSRFToken, Idempotency-Key, 400, 503), and the shared error
responses (`{"error", "detail", "field"}`).

Refusals keep the API's shape and language: a body that is not a JSON object is 400, a body field that breaks
its model 422, a bad query parameter 400, each naming the field in Indonesian (schemas.FIELD_MESSAGES, else a
sentence for the kind of mistake). A body is read whatever its Content-Type says: small devices send
`text/plain`. Answers are checked against their models while testing or debugging (a mismatch is a 500 the
tests see); in production a device gets the answer rather than a 500 for a schema slip.
"""
from __future__ import annotations

import copy
import re
from typing import Any

from flask import current_app, request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError
from spectree import Response, SpecTree, Tag
from spectree.plugins.base import Context
from spectree.plugins.flask_plugin import FlaskPlugin
from spectree.utils import get_multidict_items

from . import schemas
from .errors import ApiError

API_VERSION = "1.0.0"
WRITE_METHODS = ("post", "put", "patch", "delete")

TAGS = {
    "meta": Tag(name="meta", description="About the API itself."),
    "events": Tag(name="events", description="The schedule, desks and services of events."),
    "queue": Tag(name="queue", description="Tickets, desk actions and the board."),
    "funding": Tag(name="funding", description="Sponsors' share of the programme's cost."),
    "feedback": Tag(name="feedback", description="Satisfaction surveys (SKM/IKM) and event statistics."),
    "booking": Tag(name="booking", description="Booking a place before the day (pendaftaran daring)."),
    "field": Tag(name="field", description="Checking an event out to a field laptop and back in "
                                           "(docs/field-sync.md)."),
}

# --- refusals in the API's shape --------------------------------------------------------------------


def _field_of(error: dict) -> str | None:
    """The innermost named field of a pydantic error: `waktu` in scores.waktu, `services` in services[0]."""
    names = [part for part in error["loc"] if isinstance(part, str)]
    return names[-1] if names else None


def _sentence(field: str | None, error: dict) -> str:
    if field in schemas.FIELD_MESSAGES:
        return str(schemas.FIELD_MESSAGES[field])
    if field is None:
        return _("Badan permintaan harus berupa objek JSON yang sah.")
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return _("%(name)s wajib diisi.", name=field)
    if kind == "string_type":
        return _("%(name)s harus berupa teks.", name=field)
    if kind == "string_too_long":
        return _("%(name)s paling banyak %(n)s karakter.", name=field, n=ctx.get("max_length"))
    return _("Nilai %(name)s tidak valid.", name=field)


def refusal(exc: ValidationError, status: int) -> ApiError:
    """The first broken rule of `exc` as the API's error, naming the field."""
    error = exc.errors(include_url=False)[0]
    field = _field_of(error)
    return ApiError(status, _sentence(field, error), field=field)


def json_object() -> dict:
    """The request body as a JSON object, read whatever the Content-Type says; else 400.

    Flask keeps the parsed body, so spectree and the idempotency hooks read the same value."""
    data = request.get_json(force=True, silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, _("Badan permintaan harus berupa objek JSON yang sah."))
    return data


def parse(model: type[BaseModel], data: Any, status: int) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise refusal(exc, status) from None


class BotramFlaskPlugin(FlaskPlugin):
    """spectree's Flask plugin with the API's rules for reading requests and checking answers."""

    def request_validation(self, request, query, json, form, headers, cookies):
        request.context = Context(
            parse(query, get_multidict_items(request.args, query), 400) if query else None,
            parse(json, json_object(), 422) if json else None,
            None, None, None)

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        if getattr(resp, "direct_passthrough", False):
            return resp, None  # a file sent as it is (a field bundle): spectree would read it into memory
        app = current_app
        check = not skip_validation and (app.testing or app.debug)
        return super().validate_response(resp, resp_model, not check, force_resp_serialize)


def make_spec() -> SpecTree:
    """A SpecTree validating the API's way; only the routes it decorates are documented (mode strict)."""
    return SpecTree(backend=BotramFlaskPlugin, mode="strict", title="BOTRAM API", version=API_VERSION,
                    annotations=True, validation_error_status=400, validation_error_model=schemas.Error,
                    naming_strategy=lambda model: model.__name__,
                    nested_naming_strategy=lambda _parent, child: child)


api_spec = make_spec()


def answer(model: type[BaseModel], row: Any, status: int = 200, **more: Any) -> tuple[BaseModel, int]:
    """A view's answer: `model` validated from the ORM `row` (with the attributes in `more` that the row does not
    hold) and its status. spectree sends a model instance as it is (dumped, not validated again). A dict is JSON
    data a domain function already wrote (dates as text), read as JSON would be."""
    if isinstance(row, dict):
        return model.model_validate(row, strict=False), status
    return model.model_validate(schemas.Extra(row, **more) if more else row), status


def not_json(**operation: Any):
    """For a route whose body or answer is bytes, which a pydantic model cannot describe: the parts of its
    OpenAPI operation to add (`parameters` are appended, `responses` and `requestBody` merged)."""
    def mark(view):
        view.openapi_extra = operation
        return view
    return mark


def answers(status: int = 200, model: type[BaseModel] | None = None, *, errors: tuple[int, ...] = (),
            empty: tuple[int, ...] = (), description: str | None = None) -> Response:
    """The answers a view declares: its success (with its model), bodiless successes (`empty`, e.g. 204) and
    the refusals particular to it.

    401, 403, 404 on paths with an id, and the write statuses are added from the wiring (see the module)."""
    success: Any = (model, description) if model and description else model
    codes = {f"HTTP_{status}": success}
    codes.update({f"HTTP_{code}": None for code in empty})
    codes.update({f"HTTP_{code}": schemas.Error for code in errors})
    return Response(**codes)


# --- the document -----------------------------------------------------------------------------------

ERROR_RESPONSES: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "Malformed JSON, a bad query parameter, or a missing/expired CSRF token on a "
                        "session-authenticated write."),
    401: ("Unauthorized", "Not signed in, or the bearer token is unknown, revoked or its user inactive "
                          "(a bad token is refused even on public routes)."),
    403: ("Forbidden", "Signed in, but the role may not do this."),
    404: ("NotFound", "No such resource, or one the caller may not see (a draft event for the public)."),
    405: ("MethodNotAllowed", "The path exists, the method does not."),
    409: ("Conflict", "The state changed meanwhile (e.g. the desk already has someone called)."),
    413: ("TooLarge", "The request body is larger than the server takes (4 MB; a field-sync chunk must be "
                      "smaller)."),
    416: ("RangeNotSatisfiable", "The Range asked for starts beyond the end of the file."),
    422: ("Unprocessable", "Well-formed, but a rule was broken; `field` names the input at fault."),
    429: ("TooManyRequests", "Too many requests; wait and retry."),
    501: ("NotConfigured", "This server is not set up for the feature (field sync without BOTRAM_FIELD_KEY): "
                           "a setting an administrator must make, not an outage; retrying will not help."),
    503: ("Unavailable", "The database cannot be reached right now; retry after `Retry-After` seconds. "
                         "Send writes with an `Idempotency-Key` so that the retry cannot write twice."),
}

PUBLIC_SECURITY: list[dict] = [{}, {"session": []}, {"bearer": []}]
"""Public; a signed-in caller may see more (drafts for planners), and a bad bearer token is still refused."""
SIGNED_IN: list[dict] = [{"session": []}, {"bearer": []}]
"""The session cookie (plus X-CSRFToken on writes) or a device token."""

CSRF_HEADER = {"name": "X-CSRFToken", "in": "header", "required": False, "schema": {"type": "string"},
               "description": "Required when the write is authenticated by the session cookie; not needed "
                              "with a bearer token."}
IDEMPOTENCY_HEADER = {"name": "Idempotency-Key", "in": "header", "required": False,
                      "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x21-\\x7e]+$"},
                      "description": "Makes a retry safe: a repeat with the same key within a day answers the "
                                     "first answer and writes nothing (see the API description)."}

INFO = {
    "title": "BOTRAM API",
    "version": API_VERSION,
    "summary": "Queue, events and reports of BOTRAM (Berkolaborasi Terus Melayani), Kabupaten Bekasi.",
    "description": (
        "Serves devices (ticket kiosk, a desk's call button, an LED running-text display) and the regency's "
        "data portal.\n\n"
        "**Auth.** Either the browser session (the `session` cookie after `POST /login`; writes must send the "
        "`X-CSRFToken` header) or `Authorization: Bearer <token>` with a device token an admin issues to a user "
        "(`botram create-token USERNAME`); token requests need no CSRF header. A bad token is refused with 401 "
        "on every route, public ones included.\n\n"
        "**Errors** are JSON `{\"error\": code, \"detail\": Indonesian text, \"field\"?: name}` with the "
        "status 400, 401, 403, 404, 405, 409, 422, 429, 501 or 503, never an HTML page. A body that is not a JSON "
        "object is 400; a body field of the wrong type or out of its range is 422 naming the field; keys a "
        "body does not define are ignored.\n\n"
        "**Retries.** Every write accepts an `Idempotency-Key` header (1–200 visible ASCII characters, e.g. a "
        "UUID the device makes per action). A repeat with the same key by the same caller on the same route "
        "within a day is not run again: it answers the first answer, with `Idempotent-Replayed: true`. The key "
        "is stored in the same transaction as the write, so a repeat after a lost answer never writes twice; "
        "the same key with a different body is refused (422). While the database cannot be reached every "
        "route answers 503 with `Retry-After`.\n\n"
        "**Time**: dates are `yyyy-mm-dd`; timestamps ISO 8601 with the WIB offset (+07:00). "
        "Money is integer rupiah. No response carries a citizen's name, NIK or phone unless it says so."
    ),
    "license": {"name": "MIT", "identifier": "MIT"},
}

SECURITY_SCHEMES = {
    "session": {"type": "apiKey", "in": "cookie", "name": "session",
                "description": "The signed-in browser session. Writes also need the X-CSRFToken header "
                               "(the token on every page, `<body hx-headers>`)."},
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "btr_…",
               "description": "A device token (`botram create-token USERNAME`); acts as that user and role."},
}


def openapi_path(rule: str) -> str:
    """Flask's `/events/<int:event_id>` written as OpenAPI's `/events/{event_id}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _error_ref(status: int) -> dict:
    return {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}


def _complete(operation: dict, method: str, path: str, view) -> None:
    """Add what the route's wiring implies: access, the errors every such route can answer, write headers."""
    public = bool(getattr(view, "api_public", False))
    operation["security"] = copy.deepcopy(PUBLIC_SECURITY if public else SIGNED_IN)
    if not public:
        operation["x-botram-roles"] = list(view.allowed_roles)
        operation["x-botram-capability"] = view.capability.name  # botram/permissions.py
    responses = operation["responses"]
    # spectree adds its validation status (400) to every route; only a query or a write can answer it
    if method not in WRITE_METHODS and not any(p["in"] == "query" for p in operation.get("parameters", [])):
        responses.pop("400", None)
    implied = [401] + ([] if public else [403]) + ([404] if "{" in path else [])
    if method in WRITE_METHODS:
        implied += [400, 503]
        operation["parameters"] = [*operation.get("parameters", []), copy.deepcopy(CSRF_HEADER),
                                   copy.deepcopy(IDEMPOTENCY_HEADER)]
    extra = copy.deepcopy(getattr(view, "openapi_extra", {}))
    operation["parameters"] = [*operation.get("parameters", []), *extra.pop("parameters", [])]
    for code, answer in extra.pop("responses", {}).items():
        responses[code] = {**responses.get(code, {}), **answer}
    operation.update(extra)
    if not operation["parameters"]:
        del operation["parameters"]
    for status in implied:
        responses.setdefault(str(status), {})
    for code in list(responses):
        if int(code) >= 400:
            responses[code] = _error_ref(int(code))
    operation["responses"] = dict(sorted(responses.items()))
    for parameter in operation.get("parameters", []):
        if not parameter.get("description"):
            parameter.pop("description", None)
        if parameter["in"] == "path" and parameter["schema"].get("type") == "integer":
            parameter["schema"]["minimum"] = 1


def build_document(app) -> dict:
    """The whole document for `app`'s API routes (a fresh copy: callers may change it)."""
    with app.app_context():
        # spectree builds its part once per process (every app has the same API routes)
        generated = copy.deepcopy(api_spec.spec)
        # by path and method: one path may have a view per method (GET and PUT of an upload)
        views = {(openapi_path(rule.rule), method.lower()): app.view_functions[rule.endpoint]
                 for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
                 for method in rule.methods}
    paths = {}
    for path, operations in sorted(generated["paths"].items()):
        for method, operation in operations.items():
            if not operation.get("description"):
                operation.pop("description", None)
            _complete(operation, method, path, views[(path, method)])
        paths[path] = operations
    return {
        "openapi": "3.1.0",
        "info": copy.deepcopy(INFO),
        "servers": [{"url": "/", "description": "This BOTRAM server."}],
        "tags": [tag.to_dict(exclude_none=True) for tag in TAGS.values()],
        "paths": paths,
        "components": {
            "schemas": generated["components"]["schemas"],
            "responses": {name: {"description": text, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Error"}}}} for name, text in ERROR_RESPONSES.values()},
            "securitySchemes": copy.deepcopy(SECURITY_SCHEMES),
        },
    }


def document() -> dict:
    """The document served at /api/v1/openapi.json, built once per application."""
    app = current_app._get_current_object()
    cached = app.extensions.get("botram_openapi")
    if cached is None:
        cached = app.extensions["botram_openapi"] = build_document(app)
    return cached
