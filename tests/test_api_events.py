"""GET /api/v1/events, /events/<id>/desks and /events/<id>/services: the documented shapes."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from botram.domain.clock import today_wib
from botram.domain.tokens import revoke_token
from botram.extensions import db

from .conftest import assert_json_error
from .factories import bearer_for, make_desk, make_event, make_user, service

EVENT_KEYS = {"id", "title", "date", "status", "venue"}
DESK_KEYS = {"id", "label", "agency", "services", "state"}
SERVICE_KEYS = {"id", "code", "name", "agency"}


def schedule():
    """A past closed event, today's open one, an upcoming open one and a draft."""
    today = today_wib()
    past = make_event("BOTRAM Lalu", day=today - timedelta(days=30), status="closed", kecamatan="Tambun Selatan")
    now = make_event("BOTRAM Hari Ini", day=today, status="open")
    soon = make_event("BOTRAM Depan", day=today + timedelta(days=14), status="open", kecamatan="Cibitung")
    draft = make_event("BOTRAM Rahasia", day=today + timedelta(days=7), status="draft")
    return past, now, soon, draft


def titles(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.is_json
    return [e["title"] for e in response.get_json()]


# --- /events --------------------------------------------------------------------------------------

def test_events_public_list_shape_and_order(client):
    past, now, soon, draft = schedule()
    response = client.get("/api/v1/events")
    assert titles(response) == ["BOTRAM Lalu", "BOTRAM Hari Ini", "BOTRAM Depan"]
    first = response.get_json()[1]
    assert EVENT_KEYS <= set(first)
    assert first["id"] == now.id and first["status"] == "open" and first["venue"] == "Balai Desa"
    assert first["date"] == now.date.isoformat() and len(first["date"]) == 10
    assert first["opens_at"].endswith("+07:00") and first["opens_at"].startswith(f"{now.date.isoformat()}T08:00")
    assert first["kecamatan"]["name"] == "Cikarang Timur" and first["kecamatan"]["code"].startswith("32.16.")
    assert set(first["desa"]) == {"code", "name"}


def test_events_empty_list_is_an_empty_array(client):
    response = client.get("/api/v1/events")
    assert response.status_code == 200 and response.get_json() == []


@pytest.mark.parametrize("role, sees_draft", [
    ("admin", True), ("koordinator", True), ("keuangan", True), ("resepsionis", False), ("petugas", False),
])
def test_drafts_only_for_planners_by_session_and_by_token(client, auth, role, sees_draft):
    schedule()
    make_user(role)
    auth.login(role)
    assert ("BOTRAM Rahasia" in titles(client.get("/api/v1/events"))) is sees_draft
    auth.logout()
    headers, _ = bearer_for(role)
    assert ("BOTRAM Rahasia" in titles(client.get("/api/v1/events", headers=headers))) is sees_draft


def test_events_filters(client):
    past, now, soon, draft = schedule()
    today = today_wib()
    assert titles(client.get("/api/v1/events?status=closed")) == ["BOTRAM Lalu"]
    assert titles(client.get("/api/v1/events?status=open")) == ["BOTRAM Hari Ini", "BOTRAM Depan"]
    assert titles(client.get("/api/v1/events?status=draft")) == []  # drafts stay hidden from the public
    assert titles(client.get(f"/api/v1/events?from={today.isoformat()}")) == ["BOTRAM Hari Ini", "BOTRAM Depan"]
    assert titles(client.get(f"/api/v1/events?to={today.isoformat()}")) == ["BOTRAM Lalu", "BOTRAM Hari Ini"]
    one_day = f"from={today.isoformat()}&to={today.isoformat()}"
    assert titles(client.get(f"/api/v1/events?{one_day}&status=open")) == ["BOTRAM Hari Ini"]
    assert titles(client.get("/api/v1/events?status=&from=&to=")) == ["BOTRAM Lalu", "BOTRAM Hari Ini",
                                                                       "BOTRAM Depan"]


def test_events_draft_filter_for_a_coordinator(client, auth):
    schedule()
    make_user("koordinator")
    auth.login("koordinator")
    assert titles(client.get("/api/v1/events?status=draft")) == ["BOTRAM Rahasia"]


@pytest.mark.parametrize("query, field", [
    ("status=dibuka", "status"),
    ("status=OPEN", "status"),
    ("from=2026-13-01", "from"),
    ("from=28-11-2026", "from"),
    ("to=kemarin", "to"),
    ("to=2026-2-1", "to"),
    ("from=2026-12-01&to=2026-11-01", "to"),
    ("from=" + "9" * 300, "from"),
])
def test_events_bad_filters_are_400_json_naming_the_field(client, query, field):
    schedule()
    body = assert_json_error(client.get(f"/api/v1/events?{query}"), 400, "bad_request")
    assert body["field"] == field


def test_events_hold_no_personal_data(client):
    planner = make_user("koordinator", name="Siti Rahmawati")
    event = make_event()
    event.created_by_id = planner.id
    db.session.commit()
    text = client.get("/api/v1/events").get_data(as_text=True)
    assert "Siti" not in text and "koordinator" not in text and "created" not in text


# --- /events/<id>/desks ---------------------------------------------------------------------------

def setup_desks():
    event = make_event("BOTRAM Desk", status="open")
    make_desk(event, 2, "BAPENDA", ["PBB-BAYAR"], state="paused")
    make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM", "AKTA-MATI"])
    make_desk(event, 3, "DISDUKCAPIL", ["AKTA-MATI"], state="closed")
    return event


def test_desks_shape_and_order(client):
    event = setup_desks()
    response = client.get(f"/api/v1/events/{event.id}/desks")
    assert response.status_code == 200 and response.is_json
    desks = response.get_json()
    assert [d["number"] for d in desks] == [1, 2, 3]
    for desk in desks:
        assert DESK_KEYS <= set(desk)
        assert {"id", "code", "name"} <= set(desk["agency"])
        for svc in desk["services"]:
            assert set(svc) == {"id", "code", "name"}
    one = desks[0]
    assert one["label"] == "Loket 1 Disdukcapil" and one["state"] == "open"
    assert one["agency"]["code"] == "DISDUKCAPIL"
    assert [s["code"] for s in one["services"]] == ["AKTA-MATI", "KTP-REKAM"]
    assert one["services"][0]["id"] == service("AKTA-MATI").id
    assert [d["state"] for d in desks] == ["open", "paused", "closed"]
    assert one["opens_at"].endswith("+07:00") and one["closes_at"] > one["opens_at"]


def test_desks_of_an_event_without_desks_is_empty(client):
    event = make_event()
    response = client.get(f"/api/v1/events/{event.id}/desks")
    assert response.status_code == 200 and response.get_json() == []


@pytest.mark.parametrize("path", ["desks", "services"])
def test_unknown_event_is_404_json(client, path):
    body = assert_json_error(client.get(f"/api/v1/events/999999/{path}"), 404, "not_found")
    assert body["detail"] == "Kegiatan tidak ditemukan."
    for bad in ("abc", "0", "-1", "2147483648", "9" * 40):  # not an id any column holds: 404, never a 500
        response = client.get(f"/api/v1/events/{bad}/{path}")
        assert response.status_code == 404 and response.is_json, bad


@pytest.mark.parametrize("path", ["desks", "services"])
def test_draft_event_is_404_for_public_and_desk_staff_but_visible_to_planners(client, auth, path):
    draft = make_event("Draf", status="draft")
    make_desk(draft, 1)
    url = f"/api/v1/events/{draft.id}/{path}"
    assert_json_error(client.get(url), 404, "not_found")
    headers, _ = bearer_for("petugas")
    assert_json_error(client.get(url, headers=headers), 404, "not_found")
    headers, _ = bearer_for("koordinator")
    response = client.get(url, headers=headers)
    assert response.status_code == 200 and len(response.get_json()) >= 1
    make_user("admin")
    auth.login("admin")
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("path", ["desks", "services"])
def test_closed_event_desks_and_services_stay_public(client, path):
    event = make_event("Lalu", day=date(2025, 8, 17), status="closed")
    make_desk(event, 1)
    response = client.get(f"/api/v1/events/{event.id}/{path}")
    assert response.status_code == 200 and len(response.get_json()) >= 1


@pytest.mark.parametrize("path", ["", "/desks", "/services"])
def test_revoked_token_is_401_on_event_routes(client, path):
    event = setup_desks()
    headers, token = bearer_for("koordinator")
    url = "/api/v1/events" + (f"/{event.id}{path}" if path else "")
    assert client.get(url, headers=headers).status_code == 200
    revoke_token(token)
    db.session.commit()
    assert_json_error(client.get(url, headers=headers), 401, "unauthorized")


# --- /events/<id>/services ------------------------------------------------------------------------

def test_services_are_the_union_of_desk_services_each_once(client):
    event = setup_desks()
    other = make_event("Lain", status="open")
    make_desk(other, 1, "DINKES")
    response = client.get(f"/api/v1/events/{event.id}/services")
    assert response.status_code == 200 and response.is_json
    services = response.get_json()
    # desk order (1, 2, 3), each service once, codes sorted within a desk
    assert [s["code"] for s in services] == ["AKTA-MATI", "KTP-REKAM", "PBB-BAYAR"]
    for svc in services:
        assert SERVICE_KEYS <= set(svc)
    akta = services[0]
    assert akta["id"] == service("AKTA-MATI").id and akta["agency"]["code"] == "DISDUKCAPIL"
    assert akta["open_desks"] == 1  # desk 1 open, desk 3 closed
    assert services[2]["agency"]["code"] == "BAPENDA" and services[2]["open_desks"] == 0  # desk 2 paused


def test_desks_and_services_hold_no_personal_data(client):
    make_user("petugas", "petugas1", name="Budi Santoso")
    event = setup_desks()
    for path in ("desks", "services"):
        text = client.get(f"/api/v1/events/{event.id}/{path}").get_data(as_text=True)
        assert "Budi" not in text and "petugas1" not in text and "nik" not in text.lower()


def test_event_routes_answer_head_and_are_plain_json(client):
    event = setup_desks()
    for url in ("/api/v1/events", f"/api/v1/events/{event.id}/desks", f"/api/v1/events/{event.id}/services"):
        response = client.get(url)
        assert response.mimetype == "application/json"
        json.loads(response.get_data(as_text=True))
        assert client.head(url).status_code == 200
