"""The officer rule (botram/permissions.py `may_work_desk`) answers the same on the desk console and on the
API: an officer works their own agency's desk while its event is open — paused desk included, where the
queue itself refuses a call (409/422, not 403) — and neither a draft nor a closed event; a coordinator
works every desk; an officer of another agency none."""
from __future__ import annotations

import pytest

from botram.domain import events as event_rules
from botram.domain import queue
from botram.extensions import db
from botram.models import Event

from .factories import make_desk, make_event, make_user, service

SCENARIOS = ("open", "paused", "closed", "draft")


@pytest.fixture
def people(app):
    return {"petugas1": make_user("petugas", "petugas1", "DISDUKCAPIL"),
            "petugas-bapenda": make_user("petugas", "petugas-bapenda", "BAPENDA"),
            "koordinator": make_user("koordinator"), "resepsionis": make_user("resepsionis")}


def _desk_in(scenario: str, people) -> tuple[int, int | None]:
    """A Disdukcapil desk in the scenario's state, and the step it holds (None at a draft)."""
    event = make_event(status="draft" if scenario == "draft" else "open")
    desk = make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM"])
    if scenario == "draft":
        return desk.id, None
    for name in ("Siti", "Budi"):
        queue.issue_visit(event.id, [service("KTP-REKAM").id], name=name, by_user_id=people["resepsionis"].id)
    db.session.commit()
    step_id = queue.call_next(desk.id, by_user_id=people["koordinator"].id).id
    if scenario == "paused":
        queue.set_desk_state(desk.id, "paused", by_user_id=people["koordinator"].id)
    if scenario == "closed":
        event_rules.change_status(db.session.get(Event, event.id), "closed", by_user_id=people["koordinator"].id)
    db.session.commit()
    return desk.id, step_id


def _answers(client, desk_id: int, step_id: int | None) -> dict[str, tuple[int, int]]:
    """(page status, API status) per action, the page's first."""
    pairs = {
        "read": (client.get(f"/desk/{desk_id}"), client.get(f"/api/v1/desks/{desk_id}")),
        "call_next": (client.post(f"/desk/{desk_id}/call-next"), client.post(f"/api/v1/desks/{desk_id}/call-next")),
    }
    if step_id is not None:
        pairs["recall"] = (client.post(f"/desk/{desk_id}/steps/{step_id}/recall"),
                           client.post(f"/api/v1/steps/{step_id}/recall"))
    for page, api in pairs.values():
        assert page.status_code < 500 and api.status_code < 500
        if api.status_code == 403:
            assert api.is_json and api.get_json()["detail"], "a refusal says why"
    answers = {action: (page.status_code, api.status_code) for action, (page, api) in pairs.items()}
    hours = client.get(f"/reports/desks/{desk_id}/hours").status_code
    answers["hours"] = (hours, hours)  # the desk's hours have no API: the page alone, by the same rule
    return answers


EXPECTED = {
    # who → scenarios where they may work the Disdukcapil desk
    "petugas1": {"open", "paused"},
    "koordinator": set(SCENARIOS),
    "petugas-bapenda": set(),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("username", EXPECTED)
def test_page_and_api_agree_on_who_works_the_desk(client, people, username, scenario):
    desk_id, step_id = _desk_in(scenario, people)
    assert client.post("/login", data={"username": username, "password": "rahasia-123"}).status_code == 303
    may = scenario in EXPECTED[username]
    for action, (page, api) in _answers(client, desk_id, step_id).items():
        where = f"{username} {action} at a {scenario} desk: page {page}, API {api}"
        assert (page == 403) == (api == 403), where
        assert (page != 403) is may, where


def test_a_paused_desk_refuses_the_call_by_the_queue_rule_on_both(client, people):
    """Allowed to work the desk, but no call while paused: the same non-403 answer on the page and the API."""
    desk_id, step_id = _desk_in("paused", people)
    queue.finish(step_id, outcome="done", by_user_id=people["koordinator"].id)
    db.session.commit()
    assert client.post("/login", data={"username": "petugas1", "password": "rahasia-123"}).status_code == 303
    page = client.post(f"/desk/{desk_id}/call-next", headers={"HX-Request": "true"})
    api = client.post(f"/api/v1/desks/{desk_id}/call-next")
    assert page.status_code == api.status_code == 422
