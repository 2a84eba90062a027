"""The queue over JSON: tickets, desk actions, the board — the documented shapes and bad input."""
import pytest
import sqlalchemy as sa

from botram.domain.queue_rules import QueueRules
from botram.extensions import db
from botram.models import AuditLog, Step, Visit

from .conftest import count
from .factories import bearer, make_desk, make_event, make_user, service

NIK = "3216014508950001"


@pytest.fixture
def hall(app):
    event = make_event()
    desk1 = make_desk(event, 1, "DISDUKCAPIL", ["AKTA-MATI", "KK"])
    desk3 = make_desk(event, 3, "BAPENDA", ["PBB-BAYAR", "PBB-MUTASI"])
    reception = bearer(make_user("resepsionis"))
    dukcapil = bearer(make_user("petugas", "petugas1", "DISDUKCAPIL"))
    bapenda = bearer(make_user("petugas", "petugas3", "BAPENDA"))
    return event, desk1, desk3, reception, dukcapil, bapenda


def issue(client, event, headers, services, **extra):
    return client.post(f"/api/v1/events/{event.id}/visits", json={"services": services, **extra}, headers=headers)


def test_issue_visit_shape_and_no_personal_data(client, hall):
    event, _d1, _d3, reception, *_ = hall
    response = issue(client, event, reception, [service("AKTA-MATI").id, service("PBB-BAYAR").id],
                     priority="lansia", name="Siti Aminah", nik=NIK, phone="0812-3456-7890")
    assert response.status_code == 201
    body = response.get_json()
    assert body["code"] == "A-001"
    assert body["status_url"].endswith("/status/" + db.session.get(Visit, body["id"]).public_token)
    assert [(s["service"], s["status"]) for s in body["steps"]] == [("AKTA-MATI", "waiting"), ("PBB-BAYAR", "waiting")]
    text = response.get_data(as_text=True)
    assert "Siti" not in text and NIK not in text and "3456" not in text


@pytest.mark.parametrize("payload, field", [
    ({"services": []}, "services"),
    ({"services": "1"}, "services"),
    ({"services": [True]}, "services"),
    ({"services": [999999]}, "services"),
    ({"services": [None], "priority": "none"}, "services"),
    ({"priority": "vip"}, "priority"),
    ({"nik": "12345"}, "nik"),
    ({"phone": "12"}, "phone"),
    ({"name": "x" * 121}, "name"),
    ({"name": 5}, "name"),
])
def test_issue_visit_bad_input_saves_nothing(client, hall, payload, field):
    event, _d1, _d3, reception, *_ = hall
    body = {"services": [service("KK").id], **payload}
    response = client.post(f"/api/v1/events/{event.id}/visits", json=body, headers=reception)
    assert response.status_code == 422
    assert response.get_json()["field"] == field
    assert response.get_json()["detail"]
    assert count(Visit) == 0


def test_issue_visit_malformed_json_unknown_event_and_roles(client, hall):
    event, _d1, _d3, reception, dukcapil, _ = hall
    raw = client.post(f"/api/v1/events/{event.id}/visits", data="{not json", headers=reception)
    assert raw.status_code == 400 and raw.get_json()["error"] == "bad_request"
    assert issue(client, type("E", (), {"id": 999999}), reception, [service("KK").id]).status_code == 404
    assert issue(client, event, dukcapil, [service("KK").id]).status_code == 403
    anonymous = client.post(f"/api/v1/events/{event.id}/visits", json={"services": [service("KK").id]})
    assert anonymous.status_code == 401
    assert count(Visit) == 0


def test_issue_visit_refuses_a_service_not_offered_and_a_closed_event(client, hall):
    event, _d1, _d3, reception, *_ = hall
    not_here = issue(client, event, reception, [service("CEK-KESEHATAN").id])
    assert not_here.status_code == 422 and not_here.get_json()["field"] == "services"
    event.status = "closed"
    db.session.commit()
    assert issue(client, event, reception, [service("KK").id]).status_code == 422
    assert count(Visit) == 0


def test_session_write_needs_csrf_token_but_a_device_token_does_not(client, auth, hall):
    event, *_ = hall
    make_user("koordinator")
    auth.login("koordinator")
    refused = client.post(f"/api/v1/events/{event.id}/visits", json={"services": [service("KK").id]}, no_csrf=True)
    assert refused.status_code == 400 and refused.is_json
    allowed = client.post(f"/api/v1/events/{event.id}/visits", json={"services": [service("KK").id]})
    assert allowed.status_code == 201


def test_call_next_finish_and_the_board(client, hall):
    event, desk1, desk3, reception, dukcapil, bapenda = hall
    issue(client, event, reception, [service("AKTA-MATI").id, service("PBB-BAYAR").id])
    called = client.post(f"/api/v1/desks/{desk1.id}/call-next", headers=dukcapil)
    assert called.status_code == 200
    body = called.get_json()
    assert body["visit_code"] == "A-001" and body["service"] == "AKTA-MATI" and body["desk"] == 1
    # the same visitor is busy at desk 1, so desk 3 has no one eligible
    assert client.post(f"/api/v1/desks/{desk3.id}/call-next", headers=bapenda).status_code == 204
    # desk 1 may not call again while someone is called there
    busy = client.post(f"/api/v1/desks/{desk1.id}/call-next", headers=dukcapil)
    assert busy.status_code == 409 and busy.is_json

    board = client.get(f"/api/v1/events/{event.id}/board")
    assert board.status_code == 200
    assert board.get_json()["latest"]["code"] == "A-001" and board.get_json()["latest"]["desk_number"] == 1

    finished = client.post(f"/api/v1/steps/{body['step_id']}/finish", json={"outcome": "done", "note": "lengkap"},
                           headers=dukcapil)
    assert finished.status_code == 200 and finished.get_json()["status"] == "done"
    second = client.post(f"/api/v1/desks/{desk3.id}/call-next", headers=bapenda)
    assert second.status_code == 200 and second.get_json()["service"] == "PBB-BAYAR"
    assert count(AuditLog, AuditLog.action.like("%call%")) >= 2


def test_desk_actions_respect_agencies_and_refuse_bad_input(client, hall):
    event, desk1, desk3, reception, dukcapil, bapenda = hall
    issue(client, event, reception, [service("KK").id])
    assert client.post(f"/api/v1/desks/{desk1.id}/call-next", headers=bapenda).status_code == 403
    assert client.post("/api/v1/desks/999999/call-next", headers=dukcapil).status_code == 404
    step_id = client.post(f"/api/v1/desks/{desk1.id}/call-next", headers=dukcapil).get_json()["step_id"]

    assert client.post(f"/api/v1/steps/{step_id}/finish", json={"outcome": "done"}, headers=bapenda).status_code == 403
    for payload, field in [({"outcome": "selesai"}, "outcome"), ({}, "outcome"),
                           ({"outcome": "done", "amount": "1.500"}, "amount"),
                           ({"outcome": "done", "amount": 1500}, "amount"),
                           ({"outcome": "done", "requirements": ["a"]}, "requirements")]:
        response = client.post(f"/api/v1/steps/{step_id}/finish", json=payload, headers=dukcapil)
        assert response.status_code == 422, payload
        assert response.get_json()["field"] == field
    assert db.session.get(Step, step_id).status == "called"
    assert client.post("/api/v1/steps/999999/finish", json={"outcome": "done"}, headers=dukcapil).status_code == 404

    recalled = client.post(f"/api/v1/steps/{step_id}/recall", headers=dukcapil)
    assert recalled.status_code == 200 and recalled.get_json()["recall_count"] == 1
    gone = client.post(f"/api/v1/steps/{step_id}/no-show", headers=dukcapil)
    assert gone.status_code == 200 and gone.get_json()["status"] == "no_show"
    again = client.post(f"/api/v1/steps/{step_id}/no-show", headers=dukcapil)
    assert again.status_code in (409, 422) and again.is_json


def test_steps_never_called_cannot_be_finished(client, hall):
    event, _d1, _d3, reception, dukcapil, _ = hall
    visit_id = issue(client, event, reception, [service("KK").id]).get_json()["id"]
    step_id = db.session.scalar(sa.select(Step.id).where(Step.visit_id == visit_id))
    response = client.post(f"/api/v1/steps/{step_id}/finish", json={"outcome": "done"}, headers=dukcapil)
    assert response.status_code == 409 and response.is_json


def test_board_api_is_public_and_hides_drafts(client, hall):
    event, *_ = hall
    assert client.get(f"/api/v1/events/{event.id}/board").status_code == 200
    draft = make_event(status="draft", title="Draf")
    assert client.get(f"/api/v1/events/{draft.id}/board").status_code == 404


@pytest.mark.parametrize("cap, order", [(3, ["P1", "P2", "P3", "R1"]), (1, ["P1", "R1", "P2", "P3"])])
def test_call_next_over_the_api_keeps_the_configured_priority_cap(client, app, hall, monkeypatch, cap, order):
    event, desk1, _d3, reception, dukcapil, _b = hall
    monkeypatch.setitem(app.config, "BOTRAM_PRIORITY_CAP", cap)
    monkeypatch.setitem(app.extensions, "botram_queue_rules", QueueRules.from_config(app.config))  # as create_app
    codes = {}
    for label in ("R1", "P1", "P2", "P3"):
        body = issue(client, event, reception, [service("KK").id],
                     priority="hamil" if label[0] == "P" else "none").get_json()
        codes[body["code"]] = label
    called = []
    for _ in order:
        answer = client.post(f"/api/v1/desks/{desk1.id}/call-next", headers=dukcapil).get_json()
        called.append(codes[answer["visit_code"]])
        finished = client.post(f"/api/v1/steps/{answer['step_id']}/finish", json={"outcome": "done"},
                               headers=dukcapil)
        assert finished.status_code == 200, finished.get_json()
    assert called == order
