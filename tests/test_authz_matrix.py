"""The authorization matrix: every route of app.url_map × anonymous and every role has an expected answer.

EXPECTED below is the table an auditor reads: endpoint → PUBLIC (anyone, no sign-in) or the roles
allowed. The test fails when

- a route exists that the table does not name (a new route without a rule), or the table names a route
  that is gone;
- a view's declared roles (`allowed_roles` of `roles_required` / `api_roles`) differ from the table;
- a real request disagrees: every GET route, and every POST route with an empty body, is requested as
  anonymous and as each role, with path parameters filled from real rows. Allowed → not 401/403, not the
  login page, never a 500. Refused → 403 for a signed-in page user, the login redirect for an anonymous
  page request, 401/403 JSON for the API.

Per-object rules (another agency's desk, another event's step, another visit's token) are in test_idor.py.
"""
from __future__ import annotations

import pytest

from .worlds import ROLES, build_world, url_for_rule

PUBLIC = "public"
A, K, R, P, F = ROLES
ALL_ROLES = frozenset(ROLES)
PLANNERS = frozenset({K, A})
FINANCE_WRITE = frozenset({F, A})
FINANCE_READ = frozenset({F, A, K})
DESK = frozenset({A, K, P})
RECEPTION = frozenset({R, K, A})

# endpoint -> PUBLIC or the roles allowed. Login/logout/language are open by nature (they are the way in
# and out); /healthz answers a load balancer; the board, the citizen's status page and survey are public
# and carry no personal data (tests/test_privacy.py).
EXPECTED: dict[str, str | frozenset] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    "auth.set_language": PUBLIC,
    "home.healthz": PUBLIC,
    "home.index": ALL_ROLES,
    # admin: users, agencies, the catalogue, device tokens
    **{f"admin.{name}": frozenset({A}) for name in (
        "index", "users", "user_new", "user_edit", "user_tokens", "token_revoke", "agencies", "agency_new",
        "agency_edit", "services", "service_new", "service_edit", "requirements", "requirement_update",
        "requirement_move", "requirement_delete", "packages", "package_new", "package_edit",
        "voice_clips", "voice_clip", "voice_clip_revert")},
    # events and desks: planners; finance reads the events it funds
    "events.index": frozenset({K, A, F}),
    "events.detail": frozenset({K, A, F}),
    "events.desks": frozenset({K, A, F}),
    **{f"events.{name}": PLANNERS for name in (
        "create", "edit", "change_status", "desa_options", "desk_new", "desk_edit", "desk_delete", "desk_hours",
        "desk_services", "running_text")},
    # reception
    **{f"reception.{name}": RECEPTION for name in (
        "index", "event", "today", "ticket", "cancel", "restore", "check_nik")},
    # desk console
    **{f"desk.{name}": DESK for name in (
        "index", "console", "stream", "call_next", "start", "finish", "no_show", "recall", "transfer",
        "reveal_nik", "set_state", "guidance", "undo")},
    # projector and citizen pages
    "board.show": PUBLIC,
    "board.panel": PUBLIC,
    "board.stream": PUBLIC,
    "board.voice_manifest": PUBLIC,  # the voice-call clips: words, never personal data
    "board.voice_clip": PUBLIC,
    "public.status": PUBLIC,
    # funding
    **{f"sponsors.{name}": FINANCE_READ for name in (
        "index", "sponsors", "sponsor_detail", "contributions", "contribution_detail", "event_budget", "export",
        "letter", "receipt")},
    **{f"sponsors.{name}": FINANCE_WRITE for name in (
        "sponsor_create", "sponsor_edit", "contribution_create", "contribution_receive", "contribution_cancel",
        "contribution_void", "void_form", "line_create", "line_edit", "line_void", "line_options")},
    "sponsors.set_target": PLANNERS,
    # reports and the SKM survey
    "reports.index": frozenset({A, K, F}),
    "reports.event": frozenset({A, K, F}),
    "reports.event_xlsx": frozenset({A, K, F}),
    "reports.paper": frozenset({A, K, R}),
    "reports.desk_hours": DESK,
    "survey.answer": PUBLIC,
    "survey.thanks": PUBLIC,
    "survey.kiosk": frozenset({A, K, R, P}),
    "survey.kiosk_answer": frozenset({A, K, R, P}),
    # JSON API
    "api.openapi_document": PUBLIC,
    "api.events": PUBLIC,
    "api.event_desks": PUBLIC,
    "api.event_services": PUBLIC,
    "api.board": PUBLIC,
    "api.issue_visit": RECEPTION,
    "api.call_next": DESK,
    "api.desk_status": DESK,
    "api.finish": DESK,
    "api.no_show": DESK,
    "api.recall": DESK,
    "api.funding": FINANCE_READ,
    "api.stats": ALL_ROLES,
    "api.survey": PUBLIC,
    # field sync: a coordinator's laptop checks an event out and back in (docs/field-sync.md)
    **{f"api.{name}": PLANNERS for name in (
        "event_checkout", "checkout", "field_bundle", "field_upload_start", "field_upload", "field_upload_chunk",
        "field_upload_import")},
    **{f"field.{name}": PLANNERS for name in ("index", "upload", "release")},
}


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"GET", "POST", "PUT", "PATCH", "DELETE"}):
            yield rule, method


def test_every_route_has_an_expected_answer(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(EXPECTED) == set(), "routes without a rule in the authorization matrix"
    assert set(EXPECTED) - endpoints == set(), "the matrix names routes that no longer exist"


def test_declared_roles_match_the_matrix(app):
    for endpoint, expected in EXPECTED.items():
        view = app.view_functions[endpoint]
        declared = getattr(view, "allowed_roles", None)
        if expected == PUBLIC:
            assert declared is None, f"{endpoint} is public in the matrix but declares roles {declared}"
        else:
            assert declared is not None and frozenset(declared) == expected, \
                f"{endpoint}: declared {declared}, matrix {sorted(expected)}"


def test_no_write_route_accepts_get_without_a_role_check(app):
    """Writes are POST-only: no GET route of a write endpoint (e.g. logout by GET)."""
    for rule in app.url_map.iter_rules():
        if any(word in rule.endpoint for word in ("delete", "revoke", "void", "cancel", "logout", "call_next")):
            assert "GET" not in rule.methods or rule.endpoint == "sponsors.void_form", rule.endpoint


def _login(client, username):
    response = client.post("/login", data={"username": username, "password": "rahasia-123"})
    assert response.status_code == 303, username


def _is_login_redirect(response) -> bool:
    return response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", "")


def _check(endpoint, method, role, response):
    expected = EXPECTED[endpoint]
    allowed = expected == PUBLIC or (role is not None and role in expected)
    where = f"{method} {endpoint} as {role or 'anonymous'} -> {response.status_code}"
    assert response.status_code < 500, where
    api = endpoint.startswith("api.")
    if allowed:
        assert response.status_code not in (401, 403), where
        if endpoint != "auth.logout":
            assert not _is_login_redirect(response), where
        return
    if api:
        assert response.status_code == (401 if role is None else 403), where
        assert response.is_json and "error" in response.get_json(), where
    elif role is None:
        assert _is_login_redirect(response), where
    else:
        assert response.status_code == 403, where


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_route_answers_as_the_matrix_says(app, client, role):
    world = build_world()
    if role:
        _login(client, role)
    checked = 0
    for rule, method in routes(app):
        if rule.endpoint == "auth.logout":
            continue  # last, below: it ends the session the other requests use
        url = url_for_rule(app, rule, method, world.params)
        if method == "GET":
            response = client.get(url, buffered=False)
            if response.mimetype == "text/event-stream":
                response.close()  # the board stream never ends by itself
            else:
                response.get_data()
        else:
            response = client.open(url, method=method, data={})
        _check(rule.endpoint, method, role, response)
        checked += 1
    response = client.post("/logout")
    _check("auth.logout", "POST", role, response)
    assert checked > 100


def test_pages_refused_to_anonymous_htmx_send_hx_redirect(app, client, htmx_headers):
    """An expired session during an htmx request never swaps the login form into a panel."""
    world = build_world()
    response = client.get(f"/desk/{world.desk.id}/stream", headers=htmx_headers)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")
