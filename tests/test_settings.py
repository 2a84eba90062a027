"""Every documented queue setting reaches its rule: set the environment variable, make the app as `botram
serve` does, and watch the behaviour change through HTTP (the same request under the default differs)."""
import pytest

from botram import create_app
from botram.extensions import db
from botram.models import Step, Visit

from .conftest import CsrfClient, count
from .factories import bearer, make_desk, make_event, make_user, service

NIK = "3216014508950001"


@pytest.fixture
def configured(app, monkeypatch, tmp_path):
    """configured(**env) -> a test client of an app made with those BOTRAM_* variables, same database."""

    def make(**env):
        for name, value in env.items():
            monkeypatch.setenv(name, str(value))
        other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                            "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test-secret", "SERVER_NAME": None})
        other.test_client_class = CsrfClient
        return other.test_client()

    return make


@pytest.fixture
def hall(app):
    event = make_event()
    desk = make_desk(event, 1, "DISDUKCAPIL", ["AKTA-MATI", "KK"])
    return {"event": event, "desk": desk, "reception": bearer(make_user("resepsionis")),
            "officer": bearer(make_user("petugas", "petugas1", "DISDUKCAPIL"))}


def _issue(client, hall, priority="none", nik=None):
    body = {"services": [service("KK").id], "priority": priority}
    if nik:
        body["nik"] = nik
    return client.post(f"/api/v1/events/{hall['event'].id}/visits", json=body, headers=hall["reception"])


def _call_and_finish(client, hall) -> str:
    called = client.post(f"/api/v1/desks/{hall['desk'].id}/call-next", headers=hall["officer"]).get_json()
    client.post(f"/api/v1/steps/{called['step_id']}/finish", json={"outcome": "done"}, headers=hall["officer"])
    return called["visit_code"]


@pytest.mark.parametrize("cap, expected", [(None, ["A-002", "A-003", "A-001"]), (1, ["A-002", "A-001", "A-003"])])
def test_priority_cap(configured, hall, cap, expected):
    client = configured(**({"BOTRAM_PRIORITY_CAP": cap} if cap else {}))
    _issue(client, hall)  # A-001 regular, first to arrive
    _issue(client, hall, "lansia")
    _issue(client, hall, "hamil")
    assert [_call_and_finish(client, hall) for _ in range(3)] == expected


@pytest.mark.parametrize("recalls, second", [(None, 200), (1, 422)])
def test_no_show_recalls(configured, hall, recalls, second):
    client = configured(**({"BOTRAM_NO_SHOW_RECALLS": recalls} if recalls else {}))
    _issue(client, hall)
    step_id = client.post(f"/api/v1/desks/{hall['desk'].id}/call-next", headers=hall["officer"]).get_json()["step_id"]
    assert client.post(f"/api/v1/steps/{step_id}/recall", headers=hall["officer"]).status_code == 200
    assert client.post(f"/api/v1/steps/{step_id}/recall", headers=hall["officer"]).status_code == second


@pytest.mark.parametrize("seconds, status", [(None, 409), (0, 200)])
def test_no_show_min_seconds(configured, hall, seconds, status):
    client = configured(**({"BOTRAM_NO_SHOW_MIN_SECONDS": seconds} if seconds is not None else {}))
    _issue(client, hall)
    step_id = client.post(f"/api/v1/desks/{hall['desk'].id}/call-next", headers=hall["officer"]).get_json()["step_id"]
    answer = client.post(f"/api/v1/steps/{step_id}/no-show", headers=hall["officer"])
    assert answer.status_code == status
    if status == 409:  # the default minute: the officer is told what remains, in Indonesian
        assert "panggil ulang 3 kali lagi" in answer.get_json()["detail"]
        assert db.session.get(Step, step_id).status == "called"


@pytest.mark.parametrize("limit, allowed", [(None, 2), (1, 1), (3, 3)])
def test_max_tickets_per_nik(configured, hall, limit, allowed):
    client = configured(**({"BOTRAM_MAX_TICKETS_PER_NIK": limit} if limit else {}))
    answers = [_issue(client, hall, nik=NIK).status_code for _ in range(allowed + 1)]
    assert answers == [201] * allowed + [422]
    assert count(Visit, Visit.nik == NIK) == allowed


@pytest.mark.parametrize("after, keeps_place", [(None, True), (1, False)])
def test_no_show_after_numbers(configured, hall, app, after, keeps_place):
    client = configured(BOTRAM_NO_SHOW_MIN_SECONDS=0, **({"BOTRAM_NO_SHOW_AFTER_NUMBERS": after} if after else {}))
    absent = _issue(client, hall).get_json()["steps"][0]["id"]
    _issue(client, hall)
    third = _issue(client, hall).get_json()["steps"][0]["id"]
    called = client.post(f"/api/v1/desks/{hall['desk'].id}/call-next", headers=hall["officer"]).get_json()
    assert called["step_id"] == absent
    client.post(f"/api/v1/steps/{absent}/no-show", headers=hall["officer"])
    _call_and_finish(client, hall)  # one later number is called while the visitor is away
    arrived = db.session.get(Step, absent).arrived_at
    client.post("/login", data={"username": "resepsionis", "password": "rahasia-123"})
    assert client.post(f"/reception/steps/{absent}/restore").status_code in (200, 303)
    client.post("/logout")
    db.session.expire_all()
    step = db.session.get(Step, absent)
    assert step.status == "waiting"
    assert (step.arrived_at == arrived) is keeps_place
    # and so the queue: with its place kept it is called next, else after the one that kept waiting
    following = client.post(f"/api/v1/desks/{hall['desk'].id}/call-next", headers=hall["officer"]).get_json()
    assert following["step_id"] == (absent if keeps_place else third)


@pytest.mark.parametrize("name, value", [("BOTRAM_PRIORITY_CAP", "tiga"), ("BOTRAM_NO_SHOW_RECALLS", "-1"),
                                         ("BOTRAM_SESSION_HOURS", "0"), ("BOTRAM_SECURE_COOKIES", "mungkin"),
                                         ("BOTRAM_METRICS_ADDRESSES", "10.0.0.5, kantor-it"),
                                         ("BOTRAM_LOG_FORMAT", "xml")])
def test_a_bad_setting_stops_the_start_naming_the_variable(monkeypatch, tmp_path, name, value):
    from pydantic import ValidationError

    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})
    assert name.removeprefix("BOTRAM_").lower() in str(refused.value)


@pytest.mark.db_independent
def test_each_setting_has_one_default():
    """The defaults live in botram/settings.py only: the queue's rules object has none of its own."""
    import dataclasses

    from botram.domain.queue_rules import QueueRules
    from botram.settings import Settings

    assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(QueueRules))
    assert Settings.model_fields["priority_cap"].default == 3
