"""A check-in refused after part of it was already applied writes nothing (docs/field-sync.md, "whole or not at
all"). The refusals tested elsewhere fire before the first row; these fire late: the event's status and
running text, the desks, the visits and steps are already written in the transaction when the import finds
that the event was taken back (domain/field/__init__.py), a ticket code held by another visit or a row
pointing at a catalogue entry this server does not have (domain/field/rows.py). After each refusal every row
of every table is as before (a full dump, not counts)."""
from __future__ import annotations

import io
import uuid

import pytest
import sqlalchemy as sa

from botram.domain import events
from botram.domain import field as field_sync
from botram.domain.field import BundleError, envelope
from botram.extensions import db
from botram.models import Desk, Event, User

from .conftest import PASSWORD
from .db_snapshot import dump
from .factories import bearer, make_desk, make_event, make_user
from .laptop import Laptop

KEY = "kunci-lapangan-uji"


@pytest.fixture
def api(app, client):
    """A koordinator signed in on `client` (for the Lapangan page) and their device token (for the API)."""
    app.config["BOTRAM_FIELD_KEY"] = KEY
    user = make_user("koordinator")
    assert client.post("/login", data={"username": "koordinator", "password": PASSWORD}).status_code == 303
    return bearer(user)


@pytest.fixture
def lent(client, api, tmp_path, tmp_path_factory):
    """An event checked out to a laptop that served two visitors and checked in once; the laptop then serves
    one more, extends its desk and changes the running text, so its next check-in has something of every
    kind to write."""
    event = make_event()
    make_desk(event, 1)
    bundle = client.post(f"/api/v1/events/{event.id}/checkout", json={"device": "laptop-1"}, headers=api).get_json()
    laptop = Laptop(tmp_path / "laptop", tmp_path_factory.getbasetemp(), KEY)
    laptop.take(client.get(bundle["url"], headers=api).get_data())
    laptop.serve(2)
    report = field_sync.import_bundle(laptop.checkin(), key=KEY)
    assert report.counts["visit"] == 2
    laptop.serve(1)
    with laptop.context():
        someone = db.session.scalar(sa.select(User.id).order_by(User.id))
        desk = db.session.scalar(sa.select(Desk).where(Desk.event_id == laptop.event_id))
        events.extend_desk_hours(desk, 60, by_user_id=someone)
        events.set_running_text(db.session.get(Event, laptop.event_id), "Loket 1 buka sampai sore.",
                                by_user_id=someone)
    yield event, laptop
    laptop.close()


def _reseal(data: bytes, change) -> bytes:
    """The bundle opened with the shared key, changed by `change(manifest, parts)`, sealed again: what a
    laptop of another build or a diverged database could send, authenticated as any real bundle is."""
    manifest, parts = field_sync._unpack(envelope.open_sealed(data, KEY))
    change(manifest, parts)
    return envelope.seal(field_sync._pack(manifest, parts), KEY)


def _refused_and_nothing_changed(data: bytes, message: str) -> None:
    before = dump()
    with pytest.raises(BundleError) as refused:
        field_sync.import_bundle(data, key=KEY)
    assert message in refused.value.message
    assert dump() == before


def test_a_check_in_after_the_event_was_taken_back_is_refused_on_the_page_and_writes_nothing(client, lent):
    event, laptop = lent
    data = laptop.checkin()
    answer = client.post(f"/lapangan/kegiatan/{event.id}/ambil-kembali", data={"reason": "laptop hilang di jalan"})
    assert answer.status_code == 303 and field_sync.checkout_of(event.id) is None
    before = dump()
    answer = client.post("/lapangan/impor", data={"bundle": (io.BytesIO(data), "lapangan.botram")},
                         content_type="multipart/form-data")
    assert answer.status_code == 422
    assert "tidak sedang dipinjamkan" in answer.get_data(as_text=True)
    assert dump() == before
    # the same bundle through the domain: refused again, still nothing written
    _refused_and_nothing_changed(data, "tidak sedang dipinjamkan")


def test_a_ticket_code_held_by_another_visit_refuses_the_whole_check_in(lent):
    _event, laptop = lent

    def clash(_manifest, parts):
        first = min(parts["visit"], key=lambda v: v["code"])  # already on the server since the first check-in
        other = str(uuid.uuid4())
        for step in parts["step"]:
            if step["visit"] == first["uuid"]:
                step["visit"] = other
        for survey in parts["survey_response"]:
            if survey["visit"] == first["uuid"]:
                survey["visit"] = other
        first["uuid"] = other

    _refused_and_nothing_changed(_reseal(laptop.checkin(), clash), "sudah dipakai kunjungan lain")


def test_a_step_of_a_service_this_server_does_not_have_refuses_the_whole_check_in(lent):
    _event, laptop = lent

    def unknown_service(_manifest, parts):
        parts["step"][-1]["service"] = str(uuid.uuid4())  # the new visitor's step, after the visits are written

    _refused_and_nothing_changed(_reseal(laptop.checkin(), unknown_service), "tidak ada di basis data ini")


def test_the_untouched_check_in_is_taken_whole(lent):
    """The refusals above are of bundles that would otherwise import: this one does, with every kind of row."""
    event, laptop = lent
    report = field_sync.import_bundle(laptop.checkin(), key=KEY)
    assert report.counts.get("visit") == 1 and report.updated.get("desk") and report.updated.get("event")
    db.session.expire_all()
    assert db.session.get(Event, event.id).running_text == "Loket 1 buka sampai sore."
