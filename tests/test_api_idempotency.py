"""Idempotency-Key on API writes, and GET /api/v1/desks/<id> for a device that restarted."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from botram.domain import idempotency
from botram.domain.queue import set_desk_state
from botram.extensions import db
from botram.models import AuditLog, IdempotentRequest, Step, Visit
from botram.models.types import utcnow

from .conftest import count
from .factories import bearer, make_desk, make_event, make_user, service


@pytest.fixture
def hall(app):
    event = make_event()
    desk = make_desk(event, 1, "DISDUKCAPIL", ["AKTA-MATI", "KK"])
    other = make_desk(event, 3, "BAPENDA", ["PBB-BAYAR"])
    reception = bearer(make_user("resepsionis"))
    officer_user = make_user("petugas", "petugas1", "DISDUKCAPIL")
    officer = bearer(officer_user)
    return event, desk, other, reception, officer, officer_user


def _issue(client, event, headers, key=None, services=None):
    if key is not None:
        headers = {**headers, "Idempotency-Key": key}
    return client.post(f"/api/v1/events/{event.id}/visits",
                       json={"services": services or [service("AKTA-MATI").id]}, headers=headers)


def test_a_repeated_ticket_request_answers_the_first_ticket_and_issues_one(client, hall):
    event, _desk, _other, reception, *_ = hall
    first = _issue(client, event, reception, "kiosk-1-0001")
    again = _issue(client, event, reception, "kiosk-1-0001")
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert count(Visit) == 1
    assert count(AuditLog, AuditLog.action == "visit.issue") == 1
    # another key is another ticket
    third = _issue(client, event, reception, "kiosk-1-0002")
    assert third.get_json()["code"] != first.get_json()["code"]
    assert count(Visit) == 2


def test_without_a_key_every_request_writes(client, hall):
    event, _desk, _other, reception, *_ = hall
    assert _issue(client, event, reception).status_code == 201
    assert _issue(client, event, reception).status_code == 201
    assert count(Visit) == 2
    assert count(IdempotentRequest) == 0


def test_the_same_key_with_another_body_is_refused(client, hall):
    event, _desk, _other, reception, *_ = hall
    assert _issue(client, event, reception, "k-1").status_code == 201
    response = _issue(client, event, reception, "k-1", services=[service("KK").id])
    assert response.status_code == 422
    assert response.get_json()["field"] == "Idempotency-Key"
    assert count(Visit) == 1


def test_a_repeated_call_answers_the_same_call_even_after_the_visitor_was_served(client, hall):
    event, desk, _other, reception, officer, _u = hall
    _issue(client, event, reception)
    _issue(client, event, reception)
    headers = {**officer, "Idempotency-Key": "button-7"}
    first = client.post(f"/api/v1/desks/{desk.id}/call-next", headers=headers)
    assert first.status_code == 200
    step_id = first.get_json()["step_id"]
    finished = client.post(f"/api/v1/steps/{step_id}/finish", json={"outcome": "done"},
                           headers={**officer, "Idempotency-Key": "button-8"})
    assert finished.status_code == 200
    again = client.post(f"/api/v1/desks/{desk.id}/call-next", headers=headers)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert count(Step, Step.status == "called") == 0  # the replay did not call the second visitor
    assert count(AuditLog, AuditLog.action == "step.call") == 1
    # the finish replays too, and does not fail as "already done"
    again = client.post(f"/api/v1/steps/{step_id}/finish", json={"outcome": "done"},
                        headers={**officer, "Idempotency-Key": "button-8"})
    assert again.status_code == 200 and again.get_json() == finished.get_json()


def test_a_refused_write_keeps_no_key_so_the_retry_runs(client, hall, app):
    event, desk, _other, reception, officer, officer_user = hall
    _issue(client, event, reception)
    set_desk_state(desk.id, "paused", by_user_id=officer_user.id)
    headers = {**officer, "Idempotency-Key": "after-pause"}
    refused = client.post(f"/api/v1/desks/{desk.id}/call-next", headers=headers)
    assert refused.status_code == 422
    assert count(IdempotentRequest) == 0  # stored only with a committed write
    set_desk_state(desk.id, "open", by_user_id=officer_user.id)
    called = client.post(f"/api/v1/desks/{desk.id}/call-next", headers=headers)
    assert called.status_code == 200
    assert count(IdempotentRequest) == 1


def test_keys_belong_to_one_caller_and_one_route(client, hall):
    event, desk, _other, reception, officer, _u = hall
    coordinator = bearer(make_user("koordinator"))
    assert _issue(client, event, reception, "shared").status_code == 201
    assert _issue(client, event, coordinator, "shared").status_code == 201  # another user: its own key
    assert count(Visit) == 2
    response = client.post(f"/api/v1/desks/{desk.id}/call-next", headers={**officer, "Idempotency-Key": "shared"})
    assert response.status_code == 200  # another route
    assert "Idempotent-Replayed" not in response.headers


def test_a_key_lives_for_a_day(client, hall):
    event, _desk, _other, reception, *_ = hall
    assert _issue(client, event, reception, "old").status_code == 201
    row = db.session.scalar(sa.select(IdempotentRequest))
    row.created_at -= timedelta(days=1, minutes=1)
    db.session.commit()
    again = _issue(client, event, reception, "old")
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert count(Visit) == 2
    assert count(IdempotentRequest) == 1  # the expired row made way for the new one


@pytest.mark.parametrize("key", ["", "   ", "x" * 201, "kunci ü", "a\tb"])
def test_a_malformed_key_is_refused_before_anything_runs(client, hall, key):
    event, _desk, _other, reception, *_ = hall
    response = _issue(client, event, reception, key)
    assert response.status_code == 400
    assert response.get_json()["field"] == "Idempotency-Key"
    assert count(Visit) == 0


def test_a_stored_key_without_its_answer_yet_asks_to_retry(client, hall):
    """The instant between the write's commit and its answer being stored: never run the write again."""
    event, _desk, _other, reception, *_ = hall
    assert _issue(client, event, reception, "racing").status_code == 201
    db.session.execute(sa.update(IdempotentRequest).values(status=None, body=None))
    db.session.commit()
    response = _issue(client, event, reception, "racing")
    assert response.status_code == 409 and response.headers["Retry-After"] == "1"
    assert count(Visit) == 1


def test_a_key_whose_answer_never_came_says_so_instead_of_asking_to_retry_all_day(client, hall):
    """The request that wrote died before storing its answer (its connection broke after COMMIT): after the
    grace a repeat is told the write is stored and its answer lost, without Retry-After, and writes nothing."""
    event, _desk, _other, reception, *_ = hall
    assert _issue(client, event, reception, "lost-answer").status_code == 201
    db.session.execute(sa.update(IdempotentRequest).values(
        status=None, body=None, created_at=utcnow() - idempotency.ANSWER_GRACE - timedelta(seconds=1)))
    db.session.commit()
    response = _issue(client, event, reception, "lost-answer")
    assert response.status_code == 409 and "Retry-After" not in response.headers
    assert response.headers["Idempotent-Replayed"] == "true"
    assert "jawabannya hilang" in response.get_json()["detail"]
    assert response.get_json()["field"] == "Idempotency-Key"
    assert count(Visit) == 1


def test_every_documented_write_takes_the_key_and_may_answer_503(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    writes = [(path, method, op) for path, ops in paths.items() for method, op in ops.items()
              if method in ("post", "put", "patch", "delete")]
    assert len(writes) >= 6
    for path, method, op in writes:
        names = [p["name"] for p in op.get("parameters", [])]
        assert "Idempotency-Key" in names, (method, path)
        assert "503" in op["responses"], (method, path)


# ---------------------------------------------------------------------------------------- GET /desks/<id>

def test_a_restarted_call_button_learns_what_its_desk_holds(client, hall):
    event, desk, other, reception, officer, _u = hall
    idle = client.get(f"/api/v1/desks/{desk.id}", headers=officer)
    assert idle.status_code == 200
    body = idle.get_json()
    assert (body["id"], body["number"], body["state"], body["step"]) == (desk.id, 1, "open", None)
    assert body["agency"]["code"] == "DISDUKCAPIL" and body["event_id"] == event.id
    _issue(client, event, reception)
    called = client.post(f"/api/v1/desks/{desk.id}/call-next", headers=officer).get_json()
    busy = client.get(f"/api/v1/desks/{desk.id}", headers=officer).get_json()
    assert busy["step"]["id"] == called["step_id"] and busy["step"]["status"] == "called"
    assert busy["step"]["visit_code"] == called["visit_code"]
    assert client.get(f"/api/v1/desks/{other.id}", headers=officer).status_code == 403
    assert client.get("/api/v1/desks/999999", headers=officer).status_code == 404
    assert client.get(f"/api/v1/desks/{desk.id}").status_code == 401


def test_the_api_ticket_carries_the_public_address(client, hall, app, monkeypatch):
    """A kiosk on the laptop itself (127.0.0.1) must still print the address citizens' phones can open."""
    event, _desk, _other, reception, *_ = hall
    monkeypatch.setitem(app.config, "BOTRAM_PUBLIC_URL", "http://192.168.1.10:5000")
    body = _issue(client, event, reception).get_json()
    token = db.session.get(Visit, body["id"]).public_token
    assert body["status_url"] == f"http://192.168.1.10:5000/status/{token}"


def test_a_repeat_that_overtakes_the_first_request_is_asked_to_retry(client, hall, monkeypatch):
    """The first request with a key is still writing when its repeat arrives: the repeat finds no stored key,
    waits for the writer lock, and then meets the key the first one committed. It must neither write nor fail
    for good: 409 with Retry-After, and the next repeat gets the first answer."""
    from botram.domain import idempotency

    event, _desk, _other, reception, *_ = hall
    first = _issue(client, event, reception, "overtaken")
    real = idempotency.replay_for
    monkeypatch.setattr(idempotency, "replay_for", lambda *args: None)  # as if it looked before the commit
    raced = _issue(client, event, reception, "overtaken")
    assert raced.status_code == 409 and raced.headers["Retry-After"] == "1"
    assert raced.get_json()["field"] == "Idempotency-Key"
    monkeypatch.setattr(idempotency, "replay_for", real)
    again = _issue(client, event, reception, "overtaken")
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert count(Visit) == 1


def test_a_keyed_call_next_with_no_one_waiting_answers_204_and_the_repeat_replays_it(client, hall):
    """The staged key was the unit's only write, which the audit check took for an unaudited write (500)."""
    event, desk, _other, reception, officer, _u = hall
    headers = {**officer, "Idempotency-Key": "button-start-of-day"}
    first = client.post(f"/api/v1/desks/{desk.id}/call-next", headers=headers)
    assert first.status_code == 204, first.get_data(as_text=True)
    assert count(IdempotentRequest, IdempotentRequest.key == "button-start-of-day") == 1
    _issue(client, event, reception)  # someone arrives: the repeat must still answer the first answer
    again = client.post(f"/api/v1/desks/{desk.id}/call-next", headers=headers)
    assert again.status_code == 204 and again.headers["Idempotent-Replayed"] == "true"
    assert count(Step, Step.status == "called") == 0
    assert count(AuditLog, AuditLog.action == "step.call") == 0
    fresh = client.post(f"/api/v1/desks/{desk.id}/call-next", headers={**officer, "Idempotency-Key": "button-2"})
    assert fresh.status_code == 200 and count(Step, Step.status == "called") == 1
