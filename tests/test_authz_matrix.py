"""The authorization matrix, generated from botram/permissions.py: every route of app.url_map × anonymous and
every role has an expected answer, read from the capability the view declares.

PUBLIC below is the only hand-written part: the routes open to anyone (the way in and out, the projector,
the citizen's pages, the public API). Every other route must declare a capability of
permissions.CAPABILITIES (`security.requires` / `api.auth.api_requires`), and its expected answer for a role
is that capability's verdict, so a new capability or route is in the matrix the moment a view uses it. The
test fails when

- a route is neither PUBLIC nor guarded by a known capability, or PUBLIC names a route that is gone;
- a capability is declared by no view (dead) or names a role that does not exist;
- a write-only route is guarded by a read_ capability;
- a real request disagrees: every GET route, and every POST route with an empty body, is requested as
  anonymous and as each role, with path parameters filled from real rows. Allowed → not 401/403, not the
  login page, never a 500. Refused → 403 for a signed-in page user, the login redirect for an anonymous
  page request, 401/403 JSON for the API;
- the navigation shows a page a role is refused, or hides one it may open.

Per-object rules (another agency's desk, another event's step, another visit's token) are in test_idor.py;
the officer rule by event status in test_officer_rule.py.
"""
from __future__ import annotations

import re

import pytest

from botram import permissions
from botram.models import Role
from botram.web import NAV

from .worlds import ROLES, build_world, url_for_rule

# Login/logout/language are open by nature (they are the way in and out); /healthz answers a load balancer;
# the board, the citizen's status page and survey are public and carry no personal data (tests/test_privacy.py);
# so is the schedule (events, services, what to bring: tests/test_schedule.py). /readyz answers a load balancer
# too; /metrics is no staff page: it opens to the monitoring address or token only (tests/test_metrics.py).
PUBLIC = frozenset({
    "static", "auth.login", "auth.logout", "auth.set_language", "home.healthz", "home.readyz", "home.metrics",
    "board.show", "board.panel", "board.stream", "board.voice_manifest", "board.voice_clip",
    "public.status", "public.crest_image", "survey.answer", "survey.thanks",
    "schedule.index", "schedule.event", "schedule.poster", "schedule.ics",
    "kiosk.enrol",  # a kiosk is set up by pasting its device token: the page checks the token itself
    "api.openapi_document", "api.events", "api.event_desks", "api.event_services", "api.board", "api.survey",
    "booking.new", "booking.show", "booking.change", "booking.cancel",
    "api.event_booking", "api.create_booking", "api.get_booking", "api.cancel_booking",
})


def capability_of(app, endpoint: str):
    return getattr(app.view_functions[endpoint], "capability", None)


def allowed(app, endpoint: str, role: str | None) -> bool:
    if endpoint in PUBLIC:
        return True
    capability = capability_of(app, endpoint)
    return role is not None and role in capability.roles


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"GET", "POST", "PUT", "PATCH", "DELETE"}):
            yield rule, method


def test_every_route_is_public_or_guarded_by_a_capability(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert PUBLIC - endpoints == set(), "PUBLIC names routes that no longer exist"
    for endpoint in sorted(endpoints):
        capability = capability_of(app, endpoint)
        if endpoint in PUBLIC:
            assert capability is None and getattr(app.view_functions[endpoint], "allowed_roles", None) is None, \
                f"{endpoint} is PUBLIC but declares {capability}"
        else:
            assert capability in permissions.CAPABILITIES, f"{endpoint}: no capability of botram.permissions"
            assert app.view_functions[endpoint].allowed_roles == capability.roles, endpoint


def test_every_capability_is_used_and_names_real_roles(app):
    used = {capability_of(app, endpoint) for endpoint in app.view_functions} - {None}
    assert set(permissions.CAPABILITIES) - used == set(), "capabilities no view declares"
    assert len({c.name for c in permissions.CAPABILITIES}) == len(permissions.CAPABILITIES), "duplicate names"
    for capability in permissions.CAPABILITIES:
        assert capability.roles and set(capability.roles) <= {r.value for r in Role}, capability.name
        assert permissions.BY_NAME[capability.name] is capability


def test_write_only_routes_are_not_guarded_by_a_read_capability(app):
    for rule in app.url_map.iter_rules():
        capability = capability_of(app, rule.endpoint)
        if capability is not None and "GET" not in rule.methods:
            assert not capability.name.startswith("read_"), f"{rule.endpoint} writes under {capability.name}"


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


def _check(app, endpoint, method, role, response):
    where = f"{method} {endpoint} as {role or 'anonymous'} -> {response.status_code}"
    assert response.status_code < 500, where
    api = endpoint.startswith("api.")
    if allowed(app, endpoint, role):
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
        _check(app, rule.endpoint, method, role, response)
        checked += 1
    response = client.post("/logout")
    _check(app, "auth.logout", "POST", role, response)
    assert checked > 100


def test_pages_refused_to_anonymous_htmx_send_hx_redirect(app, client, htmx_headers):
    """An expired session during an htmx request never swaps the login form into a panel."""
    world = build_world()
    response = client.get(f"/desk/{world.desk.id}/stream", headers=htmx_headers)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


# The widest set of roles any route of a blueprint may allow: a ceiling against a page guarded, by mistake, with
# a broader capability than its surface ever serves (a new capability needs no row here).
CEILINGS = {
    "admin": {"admin"},
    "field": {"admin", "koordinator"},
    "events": {"admin", "koordinator", "keuangan"},
    "sponsors": {"admin", "koordinator", "keuangan"},
    "reception": {"admin", "koordinator", "resepsionis"},
    "desk": {"admin", "koordinator", "petugas"},
    "survey": {"admin", "koordinator", "resepsionis", "petugas"},
    "kiosk": {"admin", "koordinator", "kiosk"},
}


def test_no_blueprint_allows_more_than_its_surface_serves(app):
    for endpoint in app.view_functions:
        capability = capability_of(app, endpoint)
        ceiling = CEILINGS.get(endpoint.partition(".")[0])
        if capability is not None and ceiling is not None:
            assert set(capability.roles) <= ceiling, f"{endpoint}: {capability.name} allows {capability.roles}"


@pytest.mark.parametrize("role", ROLES)
def test_navigation_shows_exactly_the_pages_the_role_may_open(app, client, role):
    world = build_world()
    _login(client, role)
    html = client.get("/").get_data(as_text=True)
    nav = re.search(r'<nav class="nav"[^>]*>(.*?)</nav>', html, re.S).group(1)
    shown = set(re.findall(r'href="([^"]+)"', nav))
    for endpoint, _label in NAV:
        rule = next(app.url_map.iter_rules(endpoint))
        url = url_for_rule(app, rule, "GET", world.params)
        opens = client.get(url).status_code not in (401, 403)
        assert (url in shown) is opens, f"{role}: {endpoint} shown={url in shown} opens={opens}"
    assert shown or role == "kiosk", role  # a kiosk's account opens the kiosk and no staff page


@pytest.mark.db_independent
def test_who_travels_to_a_field_laptop_follows_the_capabilities_of_the_day():
    from botram.permissions import AGENCY_BOUND_ROLES, FIELD_ROLES, KIOSK_DEVICE_ROLES, may_manage_events, \
        may_read_funding, may_register_visitors, may_work_desks

    day_work = (may_register_visitors, may_work_desks, may_manage_events)
    # the kiosks travel with their tokens and printers (docs/field-sync.md); finance stays home
    assert FIELD_ROLES == {role for cap in day_work for role in cap.roles} | KIOSK_DEVICE_ROLES
    assert "keuangan" not in FIELD_ROLES and "kiosk" in FIELD_ROLES
    assert not set(may_read_funding.roles) <= FIELD_ROLES
    assert AGENCY_BOUND_ROLES <= FIELD_ROLES
