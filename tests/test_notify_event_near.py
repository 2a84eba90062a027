"""Per-event N (issue 22): the coordinator sets how many people ahead make a turn "near" on the event form;
the near message, and the status page's notifier, use the event's number; out of 1..20 is refused on the form
in Indonesian (422); an empty field keeps the server's default."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from botram.domain import notify
from botram.domain.clock import to_wib
from botram.extensions import db
from botram.models import Event, Outbox

from .factories import make_user
from .test_notify import Day


@pytest.fixture
def day(app):
    return Day()


@pytest.fixture
def koordinator(auth):
    make_user("koordinator")
    auth.login("koordinator")


def _form(event: Event, **overrides) -> dict:
    data = {"title": event.title, "date": event.date.isoformat(), "venue": event.venue,
            "kecamatan_code": event.kecamatan_code, "desa_code": event.desa_code or "",
            "opens": to_wib(event.opens_at).strftime("%H:%M"), "closes": to_wib(event.closes_at).strftime("%H:%M")}
    data.update(overrides)
    return data


def _near_keys() -> set[str]:
    return set(db.session.scalars(sa.select(Outbox.dedupe_key).where(Outbox.kind == notify.NEAR)))


def test_the_coordinator_sets_n_on_the_event_form_and_the_near_message_follows_it(app, client, koordinator,
                                                                                   day, gateway):
    app.config["BOTRAM_NOTIFY_NEAR_AHEAD"] = 3  # the server's default; the event says 1
    visits = [day.issue(n, tick=True) for n in (1, 2, 4, 5, 7)]  # all KTP-REKAM: 0..4 people ahead
    event = db.session.get(Event, day.event_id)
    page = client.get(f"/events/{event.id}/edit").get_data(as_text=True)
    assert 'name="notify_near_ahead"' in page and 'placeholder="3"' in page

    answer = client.post(f"/events/{event.id}/edit", data=_form(event, notify_near_ahead="1"))
    assert answer.status_code == 303
    db.session.expire_all()
    assert db.session.get(Event, day.event_id).notify_near_ahead == 1
    assert 'value="1"' in client.get(f"/events/{event.id}/edit").get_data(as_text=True)

    assert notify.queue_near(day.event_id) == 2  # 0 and 1 ahead, not 2 as the server's 3 would take
    assert _near_keys() == {notify.near_key(v.steps[0].uuid) for v in visits[:2]}
    # The status page's notifier counts with the same number.
    status = client.get(f"/status/{visits[3].public_token}").get_data(as_text=True)
    assert 'data-near="1"' in status


def test_an_empty_field_keeps_the_server_default(app, client, koordinator, day, gateway):
    app.config["BOTRAM_NOTIFY_NEAR_AHEAD"] = 2
    event = db.session.get(Event, day.event_id)
    event.notify_near_ahead = 5
    db.session.commit()
    visits = [day.issue(n, tick=True) for n in (1, 2, 4, 5, 7)]
    assert client.post(f"/events/{event.id}/edit", data=_form(event, notify_near_ahead="")).status_code == 303
    db.session.expire_all()
    assert db.session.get(Event, day.event_id).notify_near_ahead is None
    assert notify.queue_near(day.event_id) == 3  # the server's 2: 0, 1 and 2 ahead
    assert _near_keys() == {notify.near_key(v.steps[0].uuid) for v in visits[:3]}


@pytest.mark.parametrize("value, message", [
    ("0", "harus 1–20"), ("21", "harus 1–20"), ("-3", "harus 1–20"), ("tiga", "Isi dengan angka 1–20"),
    ("99999999999999999999", "Isi dengan angka 1–20"),
])
def test_n_outside_one_to_twenty_is_refused_on_the_form_in_indonesian(client, koordinator, day, value, message):
    event = db.session.get(Event, day.event_id)
    answer = client.post(f"/events/{event.id}/edit", data=_form(event, notify_near_ahead=value))
    assert answer.status_code == 422
    assert message in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Event, day.event_id).notify_near_ahead is None
