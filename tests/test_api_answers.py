"""API answers come from the pydantic models of botram/blueprints/api/schemas.py, validated from the ORM rows
(no answer is written out by hand). These tests pin what the API relies on in spectree (botram/blueprints/api/
spec.py's plugin): a model instance is sent as it dumps, not validated again; a file answer goes out as it is;
and the models say times with the WIB offset."""
from __future__ import annotations

from flask import Response

from botram.blueprints.api.schemas import DeskStatus
from botram.blueprints.api.spec import api_spec

from .factories import bearer, make_desk, make_event, make_user


def test_a_model_answer_is_not_validated_again(app, client, monkeypatch):
    make_event()

    def refuse(*args, **kwargs):
        raise AssertionError("spectree validated an answer the view built from its model")

    monkeypatch.setattr(api_spec.backend.model_adapter, "validate_obj", refuse)
    monkeypatch.setattr(api_spec.backend.model_adapter, "validate_json", refuse)
    answer = client.get("/api/v1/events")
    assert answer.status_code == 200 and len(answer.get_json()) == 1


def test_a_file_answer_goes_out_unread(app):
    with app.test_request_context():
        sent = Response(iter([b"bytes"]), direct_passthrough=True)
        response, error = api_spec.backend.validate_response(sent, None, False, False)
    assert response is sent and error is None


def test_answers_read_from_rows_say_times_in_wib_and_fields_from_their_paths(app, client):
    event = make_event()
    desk = make_desk(event, 2)
    officer = bearer(make_user("koordinator"))
    body = client.get(f"/api/v1/desks/{desk.id}", headers=officer).get_json()
    assert body["opens_at"].endswith("+07:00") and body["step"] is None
    assert body["agency"]["code"] == desk.agency.code and set(body) == set(DeskStatus.model_fields)
    events = client.get("/api/v1/events").get_json()
    assert events[0]["opens_at"].endswith("+07:00") and events[0]["date"] == event.date.isoformat()
