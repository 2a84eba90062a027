"""The OpenAPI 3.1 document of /api/v1, as plain Python data.

To document a new route, append to this module:
  1. its response/request shapes to SCHEMAS (JSON Schema 2020-12, as OpenAPI 3.1 uses),
  2. its operation to PATHS under the full path, Flask's `<int:x>` written `{x}`, with
     `security` (PUBLIC, OPTIONAL_AUTH or SIGNED_IN), `x-botram-roles` for role-protected routes, and the
     error statuses it can answer via `errors(...)` (writes: CSRF_HEADER in `parameters`, and 400).
tests/test_api_openapi.py fails while a route of the blueprint is missing here (or documented but absent),
when the roles differ from the view's `api_roles`, or when the document is not valid OpenAPI 3.1.
"""
from __future__ import annotations

import copy
from typing import Any

API_VERSION = "1.0.0"

# --- building blocks -------------------------------------------------------------------------------

PUBLIC: list[dict] = [{}]
"""No credentials needed."""
OPTIONAL_AUTH: list[dict] = [{}, {"session": []}, {"bearer": []}]
"""Public, but a signed-in caller may see more (e.g. draft events for planners)."""
SIGNED_IN: list[dict] = [{"session": []}, {"bearer": []}]
"""The session cookie (plus X-CSRFToken on writes) or a device token."""


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def ok(description: str, schema: dict) -> dict:
    return {"description": description, "content": json_content(schema)}


def list_of(name: str) -> dict:
    return {"type": "array", "items": ref(name)}


def errors(*statuses: int) -> dict:
    """References to the shared error responses, e.g. errors(401, 404)."""
    return {str(s): {"$ref": f"#/components/responses/{ERROR_RESPONSES[s][0]}"} for s in statuses}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


ISO_DATETIME = {"type": "string", "format": "date-time",
                "description": "ISO 8601 with the WIB offset, e.g. 2026-11-28T08:00:00+07:00."}

ERROR_RESPONSES: dict[int, tuple[str, str]] = {
    400: ("BadRequest", "Malformed JSON, a bad query parameter, or a missing/expired CSRF token on a "
                        "session-authenticated write."),
    401: ("Unauthorized", "Not signed in, or the bearer token is unknown, revoked or its user inactive "
                          "(a bad token is refused even on public routes)."),
    403: ("Forbidden", "Signed in, but the role may not do this."),
    404: ("NotFound", "No such resource, or one the caller may not see (a draft event for the public)."),
    405: ("MethodNotAllowed", "The path exists, the method does not."),
    409: ("Conflict", "The state changed meanwhile (e.g. the desk already has someone called)."),
    422: ("Unprocessable", "Well-formed, but a rule was broken; `field` names the input at fault."),
    413: ("PayloadTooLarge", "The request body is larger than the server accepts (4 MB)."),
    416: ("RangeNotSatisfiable", "The `Range` asked for starts beyond the end of the file."),
    429: ("TooManyRequests", "Too many requests; wait and retry."),
    503: ("Unavailable", "The database cannot be reached right now; retry after `Retry-After` seconds. "
                         "Send writes with an `Idempotency-Key` so that the retry cannot write twice."),
}

# --- schemas: append new ones below their section --------------------------------------------------

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error", "detail"],
        "properties": {
            "error": {"type": "string", "description": "A short stable code: bad_request, unauthorized, "
                      "forbidden, not_found, method_not_allowed, conflict, invalid, too_many_requests, "
                      "server_error (errors before routing may carry a short Indonesian title instead).",
                      "examples": ["not_found"]},
            "detail": {"description": "Indonesian text for people (usually a string).",
                       "examples": ["Kegiatan tidak ditemukan."]},
            "field": {"type": "string", "description": "The request field at fault, when there is one."},
        },
    },
    "AgencyRef": {
        "type": "object",
        "description": "An OPD (agency).",
        "required": ["id", "code", "name"],
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string", "examples": ["DISDUKCAPIL"]},
            "name": {"type": "string"},
            "short_name": {"type": "string", "examples": ["Disdukcapil"]},
            "color": {"type": "string", "pattern": "^#[0-9A-Fa-f]{6}$", "description": "Display colour."},
        },
    },
    "ServiceRef": {
        "type": "object",
        "required": ["id", "code", "name"],
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string", "examples": ["AKTA-MATI"]},
            "name": {"type": "string"},
        },
    },
    "RegionRef": {
        "type": "object",
        "description": "A Kemendagri region (kecamatan or desa/kelurahan).",
        "required": ["code", "name"],
        "properties": {"code": {"type": "string", "examples": ["32.16.05"]}, "name": {"type": "string"}},
    },
    # events (events_routes.py)
    "EventSummary": {
        "type": "object",
        "required": ["id", "title", "date", "status", "venue"],
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "date": {"type": "string", "format": "date", "description": "yyyy-mm-dd (WIB)."},
            "status": {"type": "string", "enum": ["draft", "open", "closed"]},
            "venue": {"type": "string"},
            "kecamatan": ref("RegionRef"),
            "desa": nullable(ref("RegionRef")),
            "opens_at": ISO_DATETIME,
            "closes_at": ISO_DATETIME,
        },
    },
    "Desk": {
        "type": "object",
        "required": ["id", "label", "agency", "services", "state"],
        "properties": {
            "id": {"type": "integer"},
            "label": {"type": "string", "examples": ["Loket 1 Disdukcapil"]},
            "agency": ref("AgencyRef"),
            "services": {"type": "array", "items": ref("ServiceRef")},
            "state": {"type": "string", "enum": ["open", "paused", "closed"]},
            "number": {"type": "integer", "minimum": 1},
            "opens_at": ISO_DATETIME,
            "closes_at": ISO_DATETIME,
        },
    },
    "EventService": {
        "type": "object",
        "required": ["id", "code", "name", "agency"],
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string"},
            "name": {"type": "string"},
            "agency": ref("AgencyRef"),
            "open_desks": {"type": "integer", "minimum": 0,
                           "description": "Desks offering it that are open right now."},
        },
    },
    # queue (queue_routes.py)
    "VisitRequest": {
        "type": "object",
        "required": ["services"],
        "properties": {
            "services": {"type": "array", "minItems": 1, "items": {"type": "integer"},
                         "description": "Service ids offered at the event, in the order the citizen will go."},
            "priority": {"type": "string", "enum": ["none", "lansia", "disabilitas", "hamil"], "default": "none"},
            "name": {"type": "string", "maxLength": 120},
            "nik": {"type": "string", "description": "16 digits; malformed is refused (422), odd only warns."},
            "phone": {"type": "string"},
        },
    },
    "VisitStep": {
        "type": "object",
        "required": ["id", "service", "status"],
        "properties": {
            "id": {"type": "integer"},
            "service": {"type": "string", "description": "The service code.", "examples": ["AKTA-MATI"]},
            "service_name": {"type": "string"},
            "status": {"type": "string"},
        },
    },
    "Visit": {
        "type": "object",
        "required": ["id", "code", "status_url", "steps"],
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string", "examples": ["A-047"]},
            "status_url": {"type": "string", "description": "The citizen's status page (the ticket's QR code)."},
            "steps": {"type": "array", "items": ref("VisitStep")},
            "warnings": {"type": "array", "items": {"type": "string"},
                         "description": "Indonesian warnings, e.g. a NIK from outside the regency."},
        },
    },
    "CalledStep": {
        "type": "object",
        "required": ["step_id", "visit_code", "service"],
        "properties": {
            "step_id": {"type": "integer"},
            "visit_code": {"type": "string"},
            "service": {"type": "string", "description": "The service code."},
            "service_name": {"type": "string"},
            "desk": {"type": "integer", "description": "The desk number that called."},
        },
    },
    "FinishRequest": {
        "type": "object",
        "required": ["outcome"],
        "properties": {
            "outcome": {"type": "string", "enum": ["done", "incomplete", "referred"]},
            "note": {"type": "string", "maxLength": 1000},
            "requirements": {"type": "array", "items": {"type": "integer"},
                             "description": "Ids of the service's requirements the citizen presented."},
            "amount": {"type": "integer", "minimum": 0,
                       "description": "Integer rupiah, only for services that record an amount."},
        },
    },
    "Step": {
        "type": "object",
        "required": ["id", "visit_code", "service", "status"],
        "properties": {
            "id": {"type": "integer"},
            "visit_code": {"type": "string"},
            "service": {"type": "string"},
            "service_name": {"type": "string"},
            "status": {"type": "string", "enum": ["waiting", "called", "serving", "done", "no_show",
                                                  "transferred", "cancelled"]},
            "outcome": nullable({"type": "string", "enum": ["done", "incomplete", "referred"]}),
            "desk": nullable({"type": "integer"}),
            "recall_count": {"type": "integer", "minimum": 0},
        },
    },
    "DeskStatus": {
        "type": "object",
        "required": ["id", "number", "label", "event_id", "agency", "state", "step"],
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "integer", "minimum": 1},
            "label": {"type": "string"},
            "event_id": {"type": "integer"},
            "agency": ref("AgencyRef"),
            "state": {"type": "string", "enum": ["open", "paused", "closed"]},
            "opens_at": ISO_DATETIME,
            "closes_at": ISO_DATETIME,
            "step": nullable(ref("Step")),
        },
    },
    "BoardCall": {
        "type": "object",
        "required": ["key", "code", "desk_number", "agency", "called_at"],
        "properties": {
            "key": {"type": "string", "description": "step:recall — a new key is a new announcement."},
            "step_id": {"type": "integer"},
            "code": {"type": "string"},
            "service": {"type": "string"},
            "desk_number": {"type": "integer"},
            "desk_label": {"type": "string"},
            "agency": {"type": "string"},
            "agency_color": {"type": "string"},
            "called_at": {"type": "string", "format": "date-time"},
            "called_at_wib": {"type": "string", "examples": ["09.42"]},
            "recall_count": {"type": "integer"},
            "state": {"type": "string"},
        },
    },
    "Board": {
        "type": "object",
        "required": ["event_id", "version", "desks", "latest", "recent", "services"],
        "properties": {
            "event_id": {"type": "integer"},
            "title": {"type": "string"},
            "venue": {"type": "string"},
            "date": {"type": "string", "format": "date"},
            "status": {"type": "string"},
            "running_text": {"type": "string"},
            "version": {"type": "integer", "description": "The event's version: changes with every change the board "
                                                          "shows (queue, hours, running text, sponsors)."},
            "opens_at_wib": {"type": "string"},
            "closes_at_wib": {"type": "string"},
            "desks": {"type": "array", "items": {
                "type": "object",
                "required": ["id", "number", "label", "agency", "state", "current"],
                "properties": {
                    "id": {"type": "integer"}, "number": {"type": "integer"}, "label": {"type": "string"},
                    "agency": {"type": "string"}, "agency_color": {"type": "string"},
                    "state": {"type": "string", "enum": ["open", "paused", "closed"]},
                    "opens_at_wib": {"type": "string"}, "closes_at_wib": {"type": "string"},
                    "current": nullable(ref("BoardCall")),
                    "extended": {"type": "boolean", "description": "Closes later than the event's hours."},
                }}},
            "latest": nullable(ref("BoardCall")),
            "recent": {"type": "array", "items": ref("BoardCall")},
            "services": {"type": "array", "items": {
                "type": "object",
                "required": ["id", "code", "name", "waiting"],
                "properties": {
                    "id": {"type": "integer"}, "code": {"type": "string"}, "name": {"type": "string"},
                    "agency": {"type": "string"}, "agency_color": {"type": "string"},
                    "waiting": {"type": "integer", "minimum": 0},
                    "estimated_minutes": nullable({"type": "integer", "minimum": 0}),
                    "desk_state": {"type": "string", "enum": ["open", "paused", "closed"],
                                   "description": "The best state among the desks offering it."},
                }}},
            "hours_opens_wib": {"type": "string", "examples": ["08.00"]},
            "hours_closes_wib": {"type": "string", "examples": ["16.00"]},
            "extensions": {"type": "array", "description": "Desks that stay open longer, grouped by closing time.",
                           "items": {"type": "object", "required": ["closes_at_wib", "desk_numbers"],
                                     "properties": {"closes_at_wib": {"type": "string"},
                                                    "desk_numbers": {"type": "array", "items": {"type": "integer"}}}}},
            "sponsors": {"type": "array", "items": {"type": "string"},
                         "description": "Sponsors thanked on the board (received contributions, public thanks)."},
        },
    },
    "FundingEvent": {
        "type": "object",
        "required": ["id", "title", "total_cost", "sponsor_cash", "in_kind", "apbd_amount", "apbd_share"],
        "properties": {
            "id": {"type": "integer"}, "title": {"type": "string"},
            "date": nullable({"type": "string", "format": "date"}),
            "total_cost": {"type": "integer"}, "sponsor_cash": {"type": "integer"}, "in_kind": {"type": "integer"},
            "apbd_amount": {"type": "integer"}, "apbd_share": nullable({"type": "number", "minimum": 0, "maximum": 1}),
        },
    },
    "Funding": {
        "type": "object",
        "required": ["year", "total_cost", "sponsor_cash", "in_kind", "apbd_amount", "apbd_share", "target_share",
                     "events"],
        "properties": {
            "year": {"type": "integer"},
            "total_cost": {"type": "integer", "description": "Integer rupiah."},
            "sponsor_cash": {"type": "integer", "description": "Received, non-voided cash."},
            "in_kind": {"type": "integer", "description": "Assessed value of received, non-voided in-kind gifts."},
            "apbd_amount": {"type": "integer", "description": "What the regional budget still carries."},
            "apbd_share": nullable({"type": "number", "minimum": 0, "maximum": 1}),
            "target_share": nullable({"type": "number", "minimum": 0, "maximum": 1,
                                      "description": "The coordinator's ceiling for the APBD share that year."}),
            "events": {"type": "array", "items": ref("FundingEvent")},
        },
    },
    "SurveyRequest": {
        "type": "object",
        "required": ["scores"],
        "properties": {
            "scores": {"type": "object", "required": ['persyaratan', 'prosedur', 'waktu', 'biaya', 'produk', 'kompetensi', 'perilaku', 'sarana', 'pengaduan'],
                       "properties": {k: {"type": "integer", "minimum": 1, "maximum": 4} for k in ['persyaratan', 'prosedur', 'waktu', 'biaya', 'produk', 'kompetensi', 'perilaku', 'sarana', 'pengaduan']},
                       "description": "The nine SKM elements (Permenpan RB 14/2017), each 1 (tidak baik) to 4 (sangat baik)."},
            "comment": {"type": "string", "maxLength": 1000},
            "sex": {"type": "string", "enum": ["L", "P"]},
            "age_band": {"type": "string"},
            "education": {"type": "string"},
            "occupation": {"type": "string"},
            "next_desa_code": {"type": "string", "description": "Where BOTRAM should go next: a desa code of Bekasi Regency."},
        },
    },
    "SurveyAccepted": {
        "type": "object",
        "required": ["id", "event_id", "scores"],
        "properties": {"id": {"type": "integer"}, "event_id": {"type": "integer"},
                       "scores": {"type": "object", "additionalProperties": {"type": "integer"}}},
    },
    "EventStats": {
        "type": "object",
        "required": ["event", "visits", "steps", "wait_minutes", "service_minutes", "services", "arrivals_per_hour",
                     "unserved_at_closing", "ikm"],
        "description": "Counts, times and scores only: no name, NIK, phone or comment text.",
        "properties": {
            "event": {"type": "object"},
            "generated_at": {"type": "string", "format": "date-time"},
            "visits": {"type": "integer", "minimum": 0},
            "steps": {"type": "object", "properties": {"total": {"type": "integer"}, "by_state": {"type": "object"}}},
            "outcomes": {"type": "object"},
            "no_show": {"type": "integer"},
            "wait_minutes": {"type": "object"},
            "service_minutes": {"type": "object"},
            "services": {"type": "array", "items": {"type": "object"}},
            "agencies": {"type": "array", "items": {"type": "object"}},
            "arrivals_per_hour": {"type": "array", "items": {"type": "object"}},
            "demand_exceeded": {"type": "array", "items": {"type": "object"}},
            "unserved_at_closing": {"type": "object"},
            "ikm": {"type": "object", "description": "IKM = (Σ NRR × 1/9) × 25 with grade A–D, respondents, "
                                                     "per-element NRR; also per agency and per service."},
            "next_locations": {"type": "array", "items": {"type": "object"}},
            "recommendations": {"type": "array", "items": {"type": "string"}},
        },
    },
    # field sync (field_routes.py, docs/field-sync.md)
    "FieldCheckoutRequest": {
        "type": "object",
        "required": ["device"],
        "properties": {"device": {"type": "string", "minLength": 1, "maxLength": 80,
                                  "description": "The field laptop's name, shown on the server while it holds the event.",
                                  "examples": ["laptop-cikarang-1"]}},
    },
    "FieldBundle": {
        "type": "object",
        "required": ["id", "event_id", "device", "size", "sha256", "url"],
        "properties": {
            "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
            "event_id": {"type": "integer"},
            "device": {"type": "string"},
            "size": {"type": "integer", "minimum": 1, "description": "Bytes."},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "url": {"type": "string", "description": "Where to download it (GET, with Range to resume)."},
        },
    },
    "FieldCheckout": {
        "type": "object",
        "required": ["event_id", "checked_out", "device", "since"],
        "properties": {
            "event_id": {"type": "integer"},
            "checked_out": {"type": "boolean"},
            "device": nullable({"type": "string"}),
            "since": nullable(ISO_DATETIME),
            "checkins": {"type": "integer", "minimum": 0, "description": "Check-ins received while it is out."},
            "last_checkin_at": nullable(ISO_DATETIME),
        },
    },
    "FieldUploadRequest": {
        "type": "object",
        "required": ["size", "sha256"],
        "properties": {
            "size": {"type": "integer", "minimum": 1, "maximum": 536870912, "description": "The bundle's bytes."},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "Of the whole bundle."},
        },
    },
    "FieldImportReport": {
        "type": "object",
        "required": ["kind", "event_id", "counts", "unchanged"],
        "properties": {
            "kind": {"type": "string", "description": "What the bundle was, e.g. checkin."},
            "event_id": {"type": "integer"},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"},
                       "description": "New rows per kind; what arrived before is not counted again."},
            "updated": {"type": "object", "additionalProperties": {"type": "integer"},
                        "description": "Rows changed since the last check-in, per kind."},
            "unchanged": {"type": "boolean", "description": "True when everything in it was there already."},
            "released": {"type": "boolean",
                         "description": "A final check-in (the laptop closed the event) gave the event back."},
        },
    },
    "FieldUpload": {
        "type": "object",
        "required": ["id", "size", "sha256", "received", "complete", "imported", "report"],
        "properties": {
            "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
            "size": {"type": "integer"},
            "sha256": {"type": "string"},
            "received": {"type": "integer", "minimum": 0,
                         "description": "Bytes from the start the server holds: where to continue."},
            "complete": {"type": "boolean"},
            "imported": {"type": "boolean"},
            "report": nullable(ref("FieldImportReport")),
        },
    },
}

# --- paths: append new operations below their section ----------------------------------------------

EVENT_ID = {"name": "event_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
CSRF_HEADER = {"name": "X-CSRFToken", "in": "header", "required": False, "schema": {"type": "string"},
               "description": "Required when the write is authenticated by the session cookie; not needed "
                              "with a bearer token."}
"""Add to the `parameters` of every write (POST/PUT/PATCH/DELETE) operation."""
DESK_ID = {"name": "desk_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
STEP_ID = {"name": "step_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
IDEMPOTENCY_HEADER = {"name": "Idempotency-Key", "in": "header", "required": False,
                      "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[\\x21-\\x7e]+$"},
                      "description": "Makes a retry safe: a repeat with the same key within a day answers the "
                                     "first answer and writes nothing (see the API description)."}
WRITE_METHODS = ("post", "put", "patch", "delete")
FIELD_ROLES = ("koordinator", "admin")
BUNDLE_ID = {"name": "bundle_id", "in": "path", "required": True, "schema": {"type": "string"}}
UPLOAD_ID = {"name": "upload_id", "in": "path", "required": True, "schema": {"type": "string"}}
BINARY_OK = {"description": "The bundle's bytes.",
             "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                 "contentMediaType": "application/octet-stream"}}}}

PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "tags": ["meta"],
            "summary": "This document",
            "security": PUBLIC,
            "responses": {"200": ok("The OpenAPI 3.1 document.", {"type": "object"}), **errors(401)},
        },
    },
    # events (events_routes.py)
    "/api/v1/events": {
        "get": {
            "operationId": "listEvents",
            "tags": ["events"],
            "summary": "The schedule of BOTRAM events",
            "description": "Public: open and closed events, past and upcoming, by date then opening time. "
                           "Drafts are not public: they are listed only for a caller signed in as admin, "
                           "koordinator or keuangan. Filters combine; a bad value answers 400.",
            "security": OPTIONAL_AUTH,
            "parameters": [
                {"name": "status", "in": "query", "required": False,
                 "schema": {"type": "string", "enum": ["draft", "open", "closed"]}},
                {"name": "from", "in": "query", "required": False, "description": "Events on or after (yyyy-mm-dd).",
                 "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "required": False, "description": "Events on or before (yyyy-mm-dd).",
                 "schema": {"type": "string", "format": "date"}},
            ],
            "responses": {"200": ok("Events.", list_of("EventSummary")), **errors(400, 401)},
        },
    },
    "/api/v1/events/{event_id}/desks": {
        "get": {
            "operationId": "listEventDesks",
            "tags": ["events"],
            "summary": "The desks of an event",
            "description": "Public for open and closed events (the board shows them); a draft event is 404 "
                           "unless the caller may see drafts. Ordered by desk number.",
            "security": OPTIONAL_AUTH,
            "parameters": [EVENT_ID],
            "responses": {"200": ok("Desks.", list_of("Desk")), **errors(401, 404)},
        },
    },
    "/api/v1/events/{event_id}/services": {
        "get": {
            "operationId": "listEventServices",
            "tags": ["events"],
            "summary": "The services offered at an event",
            "description": "The union of the event's desks' services, each once, in desk order "
                           "(what a ticket kiosk offers). Same visibility as the desks.",
            "security": OPTIONAL_AUTH,
            "parameters": [EVENT_ID],
            "responses": {"200": ok("Services.", list_of("EventService")), **errors(401, 404)},
        },
    },
    # queue (queue_routes.py)
    "/api/v1/events/{event_id}/visits": {
        "post": {
            "operationId": "issueVisit",
            "tags": ["queue"],
            "summary": "Register a visitor: one ticket, one step per service",
            "description": "Reception or a ticket kiosk. The event must be open and offer every service. "
                           "At most BOTRAM_MAX_TICKETS_PER_NIK active tickets per NIK per event (422).",
            "security": SIGNED_IN,
            "x-botram-roles": ["resepsionis", "koordinator", "admin"],
            "parameters": [EVENT_ID, CSRF_HEADER],
            "requestBody": {"required": True, "content": json_content(ref("VisitRequest"))},
            "responses": {"201": ok("The ticket.", ref("Visit")), **errors(400, 401, 403, 404, 422)},
        },
    },
    "/api/v1/desks/{desk_id}/call-next": {
        "post": {
            "operationId": "callNext",
            "tags": ["queue"],
            "summary": "Call the next eligible visitor to this desk",
            "description": "Atomic: two desks calling at once never get the same step, and a visitor is never "
                           "called at two desks. Priority groups first, then arrival, with a fairness cap. "
                           "204 when no one eligible waits; 409 while the desk still has someone called.",
            "security": SIGNED_IN,
            "x-botram-roles": ["petugas", "koordinator", "admin"],
            "parameters": [DESK_ID, CSRF_HEADER],
            "responses": {"200": ok("The called step.", ref("CalledStep")),
                          "204": {"description": "No one eligible is waiting."},
                          **errors(400, 401, 403, 404, 409, 422)},
        },
    },
    "/api/v1/desks/{desk_id}": {
        "get": {
            "operationId": "getDesk",
            "tags": ["queue"],
            "summary": "A desk's state and the visitor it holds",
            "description": "What a call button or desk device that restarted needs to carry on: open, paused "
                           "or closed, and the called or serving step, if any (else `step` is null). An officer "
                           "sees only desks of their own agency (403).",
            "security": SIGNED_IN,
            "x-botram-roles": ["petugas", "koordinator", "admin"],
            "parameters": [DESK_ID],
            "responses": {"200": ok("The desk.", ref("DeskStatus")), **errors(401, 403, 404)},
        },
    },
    "/api/v1/steps/{step_id}/finish": {
        "post": {
            "operationId": "finishStep",
            "tags": ["queue"],
            "summary": "Finish serving a called or serving step",
            "security": SIGNED_IN,
            "x-botram-roles": ["petugas", "koordinator", "admin"],
            "parameters": [STEP_ID, CSRF_HEADER],
            "requestBody": {"required": True, "content": json_content(ref("FinishRequest"))},
            "responses": {"200": ok("The finished step.", ref("Step")), **errors(400, 401, 403, 404, 409, 422)},
        },
    },
    "/api/v1/steps/{step_id}/no-show": {
        "post": {
            "operationId": "noShowStep",
            "tags": ["queue"],
            "summary": "Mark a called visitor as not present",
            "description": "Reception can put the ticket back in the queue later.",
            "security": SIGNED_IN,
            "x-botram-roles": ["petugas", "koordinator", "admin"],
            "parameters": [STEP_ID, CSRF_HEADER],
            "responses": {"200": ok("The step.", ref("Step")), **errors(400, 401, 403, 404, 409, 422)},
        },
    },
    "/api/v1/steps/{step_id}/recall": {
        "post": {
            "operationId": "recallStep",
            "tags": ["queue"],
            "summary": "Announce a called visitor again",
            "description": "Refused (422) beyond BOTRAM_NO_SHOW_RECALLS recalls: mark the visitor not present.",
            "security": SIGNED_IN,
            "x-botram-roles": ["petugas", "koordinator", "admin"],
            "parameters": [STEP_ID, CSRF_HEADER],
            "responses": {"200": ok("The step.", ref("Step")), **errors(400, 401, 403, 404, 409, 422)},
        },
    },
    "/api/v1/events/{event_id}/board": {
        "get": {
            "operationId": "getBoard",
            "tags": ["queue"],
            "summary": "What the projector board shows",
            "description": "Public for open and closed events; codes, desks and counts only, never a name, "
                           "NIK or phone. Poll cheaply by comparing `version`.",
            "security": PUBLIC,
            "parameters": [EVENT_ID],
            "responses": {"200": ok("The board.", ref("Board")), **errors(401, 404)},
        },
    },
    "/api/v1/funding": {
        "get": {
            "operationId": "getFunding",
            "tags": ["funding"],
            "summary": "How much of BOTRAM the regional budget (APBD) still carries, for one year",
            "description": "Total cost (budget lines: actual, else planned), sponsor cash and in-kind value "
                           "(received and not voided), the APBD remainder and share, against the year's target.",
            "security": SIGNED_IN,
            "x-botram-roles": ["keuangan", "koordinator", "admin"],
            "parameters": [{"name": "year", "in": "query", "required": False,
                            "description": "Default: the current year (WIB).",
                            "schema": {"type": "integer", "minimum": 2000, "maximum": 2100}}],
            "responses": {"200": ok("The funding mix.", ref("Funding")), **errors(400, 401, 403)},
        },
    },
    "/api/v1/visits/{token}/survey": {
        "post": {
            "operationId": "submitSurvey",
            "tags": ["feedback"],
            "summary": "The citizen's satisfaction survey (SKM), once per visit",
            "description": "Public: the token is the one in the ticket's QR code. Accepted once at least one of "
                           "the visit's services is done; a second survey for the same visit is 409.",
            "security": PUBLIC,
            "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}},
                           CSRF_HEADER],
            "requestBody": {"required": True, "content": json_content(ref("SurveyRequest"))},
            "responses": {"201": ok("Saved.", ref("SurveyAccepted")), **errors(400, 401, 404, 409, 422)},
        },
    },
    "/api/v1/events/{event_id}/stats": {
        "get": {
            "operationId": "getEventStats",
            "tags": ["feedback"],
            "summary": "An event's statistics: visits, steps, times, arrivals per hour, unserved, IKM",
            "security": SIGNED_IN,
            "x-botram-roles": ["admin", "koordinator", "resepsionis", "petugas", "keuangan"],
            "parameters": [EVENT_ID],
            "responses": {"200": ok("Statistics.", ref("EventStats")), **errors(401, 403, 404)},
        },
    },
    # field sync (field_routes.py, docs/field-sync.md)
    "/api/v1/events/{event_id}/checkout": {
        "get": {
            "operationId": "getEventCheckout",
            "tags": ["field"],
            "summary": "Where an event is: at the server or checked out to a field laptop",
            "security": SIGNED_IN,
            "x-botram-roles": list(FIELD_ROLES),
            "parameters": [EVENT_ID],
            "responses": {"200": ok("The checkout.", ref("FieldCheckout")), **errors(401, 403, 404, 405)},
        },
        "post": {
            "operationId": "checkoutEvent",
            "tags": ["field"],
            "summary": "Check the event out to a field laptop and make its bundle",
            "description": "The server marks the event as held by `device` (its queue then refuses writes here) "
                           "and makes the encrypted bundle once: 201. The same device asking again gets the "
                           "same bundle (200), so its download resumes; another device is refused (409) until "
                           "the event is checked in or taken back.",
            "security": SIGNED_IN,
            "x-botram-roles": list(FIELD_ROLES),
            "parameters": [EVENT_ID, CSRF_HEADER],
            "requestBody": {"required": True, "content": json_content(ref("FieldCheckoutRequest"))},
            "responses": {"200": ok("The bundle made earlier for this device.", ref("FieldBundle")),
                          "201": ok("The bundle.", ref("FieldBundle")),
                          **errors(400, 401, 403, 404, 405, 409, 422)},
        },
    },
    "/api/v1/field/bundles/{bundle_id}": {
        "get": {
            "operationId": "downloadFieldBundle",
            "tags": ["field"],
            "summary": "Download a checkout bundle (resumable with Range)",
            "description": "`Range: bytes=N-` answers 206 with the bytes from N: a cut download continues. "
                           "The ETag and `X-Content-SHA256` are the bundle's sha256.",
            "security": SIGNED_IN,
            "x-botram-roles": list(FIELD_ROLES),
            "parameters": [BUNDLE_ID, {"name": "Range", "in": "header", "required": False,
                                       "schema": {"type": "string", "examples": ["bytes=1048576-"]}}],
            "responses": {"200": BINARY_OK, "206": {**BINARY_OK, "description": "The part asked for."},
                          **errors(401, 403, 404, 416)},
        },
    },
    "/api/v1/field/uploads": {
        "post": {
            "operationId": "startFieldUpload",
            "tags": ["field"],
            "summary": "Announce a check-in bundle to upload in chunks",
            "description": "201 with a new upload; 200 with the caller's unfinished upload of the same bytes "
                           "(same size and sha256), so a laptop that restarted continues from `received`.",
            "security": SIGNED_IN,
            "x-botram-roles": list(FIELD_ROLES),
            "parameters": [CSRF_HEADER],
            "requestBody": {"required": True, "content": json_content(ref("FieldUploadRequest"))},
            "responses": {"200": ok("The unfinished upload.", ref("FieldUpload")),
                          "201": ok("The new upload.", ref("FieldUpload")), **errors(400, 401, 403, 422)},
        },
    },
    "/api/v1/field/uploads/{upload_id}": {
        "get": {
            "operationId": "getFieldUpload",
            "tags": ["field"],
            "summary": "How much of an upload arrived",
            "security": SIGNED_IN,
            "x-botram-roles": list(FIELD_ROLES),
            "parameters": [UPLOAD_ID],
            "responses": {"200": ok("The upload.", ref("FieldUpload")), **errors(401, 403, 404)},
        },
        "put": {
            "operationId": "putFieldUploadChunk",
            "tags": ["field"],
            "summary": "Send one chunk of an upload",
            "description": "Each chunk below the 4 MB request limit (the laptop sends 1 MB). Sending a chunk "
                           "again writes the same bytes again; a chunk starting beyond `received` is refused "
                           "(409): GET the upload and continue from `received`.",
            "security": SIGNED_IN,
            "x-botram-roles": list(FIELD_ROLES),
            "parameters": [UPLOAD_ID, CSRF_HEADER,
                           {"name": "Content-Range", "in": "header", "required": True,
                            "schema": {"type": "string", "pattern": "^bytes [0-9]+-[0-9]+/[0-9]+$"},
                            "description": "bytes START-END/TOTAL, END inclusive."}],
            "requestBody": {"required": True, "content": {"application/octet-stream": {
                "schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}},
            "responses": {"200": ok("The upload.", ref("FieldUpload")), **errors(400, 401, 403, 404, 409, 413, 422)},
        },
    },
    "/api/v1/field/uploads/{upload_id}/import": {
        "post": {
            "operationId": "importFieldUpload",
            "tags": ["field"],
            "summary": "Import a complete upload",
            "description": "Checks the sha256, then imports all-or-nothing; what arrived in an earlier check-in "
                           "is not counted twice. A repeat answers the same report. A tampered bundle, one made "
                           "with another key or by a newer BOTRAM is refused (422); 503 while the server has no "
                           "BOTRAM_FIELD_KEY.",
            "security": SIGNED_IN,
            "x-botram-roles": list(FIELD_ROLES),
            "parameters": [UPLOAD_ID, CSRF_HEADER],
            "responses": {"200": ok("The upload with its report.", ref("FieldUpload")),
                          **errors(400, 401, 403, 404, 409, 422)},
        },
    },
}

# --- the document ----------------------------------------------------------------------------------

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
        "status 400, 401, 403, 404, 405, 409, 422, 429 or 503, never an HTML page.\n\n"
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

TAGS = [
    {"name": "meta", "description": "About the API itself."},
    {"name": "events", "description": "The schedule, desks and services of events."},
    {"name": "queue", "description": "Tickets, desk actions and the board."},
    {"name": "funding", "description": "Sponsors' share of the programme's cost."},
    {"name": "feedback", "description": "Satisfaction surveys (SKM/IKM) and event statistics."},
    {"name": "field", "description": "Checking an event out to a field laptop and back in (docs/field-sync.md)."},
]


def _error_responses() -> dict:
    return {name: ok(text, ref("Error")) for name, text in ERROR_RESPONSES.values()}


_document: dict | None = None


def _with_write_headers(paths: dict) -> dict:
    """Every write documents the Idempotency-Key header and the 503 a lost database answers."""
    for operations in paths.values():
        for method, operation in operations.items():
            if method in WRITE_METHODS:
                operation.setdefault("parameters", []).append(copy.deepcopy(IDEMPOTENCY_HEADER))
                operation["responses"].update(errors(503))
    return paths


def build_document() -> dict:
    """A fresh copy of the whole document (tests mutate nothing shared)."""
    return {
        "openapi": "3.1.0",
        "info": copy.deepcopy(INFO),
        "servers": [{"url": "/", "description": "This BOTRAM server."}],
        "tags": copy.deepcopy(TAGS),
        "paths": _with_write_headers(copy.deepcopy(PATHS)),
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "responses": _error_responses(),
            "securitySchemes": copy.deepcopy(SECURITY_SCHEMES),
        },
    }


def document() -> dict:
    """The document served at /api/v1/openapi.json, built once per process."""
    global _document
    if _document is None:
        _document = build_document()
    return _document
