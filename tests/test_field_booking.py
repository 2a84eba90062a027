"""Bookings on the field laptop (docs/field-sync.md, docs/booking.md): three citizens book on the regency server,
the event is checked out, reception on the laptop checks two of them in (one by code, one by phone, through its
page) and the third never comes; the check-in brings both visits and the booking no-show to the server. The server
takes no booking change while the event is out; purge-pii on the laptop clears the bookings' phone, name and NIK,
and they stay cleared on the server. A bundle of the old format is refused."""
from __future__ import annotations

import json
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from botram.domain import Conflict, booking, events, privacy, queue
from botram.domain.booking.report import booked_vs_walk_in
from botram.domain.clock import today_wib
from botram.domain.field import (BundleError, checkout_of, envelope, export_checkin, export_checkout,
                                 import_bundle)
from botram.extensions import db
from botram.models import Booking, Desk, Event, Visit

from . import field_sync_helpers as h
from .conftest import CsrfClient

pytestmark = pytest.mark.timeout(300)
PHONES = ("081211110001", "081211110002", "081211110003")


@pytest.fixture(scope="module")
def installs(tmp_path_factory, worker_id):
    server_dir = tmp_path_factory.mktemp("booking-server")
    server = h.make_install(h.server_url(worker_id, server_dir), str(server_dir))
    laptop_dir = tmp_path_factory.mktemp("booking-laptop")
    laptop = h.make_install(f"sqlite:///{laptop_dir / 'botram.sqlite'}", str(laptop_dir))
    yield server, laptop
    for app in (server, laptop):
        with app.app_context():
            db.engine.dispose()


def _codes(event_id: int) -> dict[str, str]:
    """phone -> booking code"""
    return dict(db.session.execute(sa.select(Booking.phone, Booking.code).where(Booking.event_id == event_id)).all())


@pytest.fixture(scope="module")
def story(installs):
    server, laptop = installs
    tomorrow = today_wib() + timedelta(days=1)
    with h.on(server):
        server_event = h.prepare_event("BOTRAM Balai Desa Sukamekar", day=tomorrow, announce_only=True)
        ktp = h.service_ids("KTP-REKAM")[0]
        booking.open_booking(db.session.get(Event, server_event), booking.PlanInput(
            closes_on=tomorrow, closes_at=time(7), grace_minutes=15,
            windows=[booking.WindowInput(time(14), time(16), {ktp: 6})]),
            by_user_id=h.user_id("koordinator"))
        db.session.commit()
        window = db.session.scalar(sa.select(Event).where(Event.id == server_event))
        window_id = booking.booking_view(window).windows[0].id
        for n, phone in enumerate(PHONES):
            booking.book(server_event, booking.BookingInput(window_id, [ktp], phone=phone, name=f"Warga {n}",
                                                            nik=None, origin="10.0.0.9"))
        codes = _codes(server_event)
        checkout = export_checkout(server_event, device=h.DEVICE, key=h.KEY)
    with h.on(laptop):
        laptop_event = import_bundle(checkout, key=h.KEY).event_id
        assert db.session.scalar(sa.select(sa.func.count(Booking.id)).where(Booking.event_id == laptop_event)) == 3
        events.change_status(db.session.get(Event, laptop_event), "open", by_user_id=h.user_id("koordinator"))
    # reception on the laptop, through its page as on the server: the first by its code (a scanner types it and
    # Enter), the second by phone number; the third never comes
    laptop.test_client_class = CsrfClient
    reception = laptop.test_client()
    assert reception.post("/login", data={"username": "resepsionis", "password": "rahasia-123"}).status_code == 303
    page = reception.get(f"/reception/{laptop_event}").get_data(as_text=True)
    assert 'name="code"' in page  # the booking field: the plan travelled with the event
    for text in (codes["+6281211110001"].lower(), "0812-1111-0002"):
        answer = reception.post(f"/reception/{laptop_event}/check-in", data={"code": text})
        assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    with h.on(laptop):
        desk = db.session.scalar(sa.select(Desk).where(Desk.event_id == laptop_event, Desk.number == 1))
        officer = h.user_id("petugas1")
        queue.set_desk_state(desk.id, "open", by_user_id=officer)
        called = queue.call_next(desk.id, by_user_id=officer)
        queue.finish(called.id, outcome="done", by_user_id=officer)
        laptop_visits = dict(db.session.execute(sa.select(Booking.code, Visit.code).join(
            Visit, Visit.id == Booking.visit_id).where(Booking.event_id == laptop_event)).all())
        midday = export_checkin(laptop_event, key=h.KEY)
    with h.on(server):
        report = import_bundle(midday, key=h.KEY)
    return {"server": server, "laptop": laptop, "server_event": server_event, "laptop_event": laptop_event,
            "codes": codes, "laptop_visits": laptop_visits, "checkout": checkout, "midday": midday,
            "report": report}


def test_bookings_checked_in_on_the_laptop_come_back_as_visits_and_the_other_as_a_no_show(story):
    report = story["report"]
    assert report.counts["visit"] == 2 and report.updated["booking"] == 2
    codes = story["codes"]
    with h.on(story["server"]):
        event_id = story["server_event"]
        found = {b.phone: b for b in db.session.scalars(sa.select(Booking).where(Booking.event_id == event_id))}
        came, late = [found["+6281211110001"], found["+6281211110002"]], found["+6281211110003"]
        assert {b.status for b in came} == {"checked_in"} and late.status == "booked"
        visits = {b.code: db.session.get(Visit, b.visit_id) for b in came}
        assert all(v is not None and v.booked and v.event_id == event_id for v in visits.values())
        assert {code: v.code for code, v in visits.items()} == story["laptop_visits"]
        assert {s.booked_from for v in visits.values() for s in v.steps} == {late.window.starts_at}
        assert sorted(v.name for v in visits.values()) == ["Warga 0", "Warga 1"]
        end = h.at_end_of_day(event_id)
        assert booking.booking_state(late, 15, end) == "no_show"
        assert booking.booking_state(late, 15, late.window.starts_at) == "booked"
        [row] = booked_vs_walk_in(event_id, at=end)
        assert (row.booked_visits, row.walk_in_visits, row.no_shows) == (2, 0, 1)
        assert codes[late.phone] == late.code


def test_the_same_check_in_again_changes_no_row(story):
    with h.on(story["server"]):
        before = h.table_contents()
        assert import_bundle(story["midday"], key=h.KEY).unchanged
        assert h.table_contents() == before
    with h.on(story["laptop"]):
        before = h.table_contents()
        assert import_bundle(story["checkout"], key=h.KEY).unchanged
        assert h.table_contents() == before


def test_the_server_takes_no_booking_change_while_the_event_is_out(story):
    with h.on(story["server"]):
        event_id = story["server_event"]
        assert checkout_of(event_id) is not None
        event = db.session.get(Event, event_id)
        assert not booking.booking_view(event).open
        late = db.session.scalar(sa.select(Booking).where(Booking.phone == "+6281211110003"))
        window_id = late.window_id
        token = late.token
        with pytest.raises(Conflict) as refused:
            booking.book(event_id, booking.BookingInput(window_id, h.service_ids("KTP-REKAM"),
                                                        phone="081299990000"))
        assert "dibawa ke lokasi" in refused.value.message and refused.value.status == 409
        with pytest.raises(Conflict):
            booking.cancel_booking(token)
        with pytest.raises(Conflict):
            booking.change_booking(token, window_id, h.service_ids("KTP-REKAM"))
        with pytest.raises(Conflict) as plan:
            booking.open_booking(event, booking.PlanInput(closes_on=event.date, closes_at=time(7), grace_minutes=15,
                                                          windows=[booking.WindowInput(time(14), time(16), {})]))
        assert h.DEVICE in plan.value.message


def test_a_bundle_of_the_previous_format_is_refused_and_writes_nothing(story):
    from botram.domain import field

    old = envelope.FORMAT - 1
    in_header = story["midday"].replace(b'"format": %d' % envelope.FORMAT, b'"format": %d' % old, 1)
    manifest = {"format": old, "kind": "checkin"}
    in_manifest = envelope.seal(field._pack(manifest, {}), h.KEY)
    with h.on(story["server"]):
        before = h.table_contents()
        for data in (in_header, in_manifest):
            with pytest.raises(BundleError) as refused:
                import_bundle(data, key=h.KEY)
            assert f"versi lama (format {old}, di sini format {envelope.FORMAT})" in refused.value.message
            assert "perbarui BOTRAM di perangkat yang membuatnya" in refused.value.message
        assert h.table_contents() == before


def test_purge_pii_on_the_laptop_clears_bookings_and_the_server_keeps_them_cleared(story):
    """Last in the module: it closes the event and turns its date back."""
    laptop, server = story["laptop"], story["server"]
    with h.on(laptop):
        event_id = story["laptop_event"]
        events.change_status(db.session.get(Event, event_id), "closed", by_user_id=h.user_id("koordinator"))
        day = db.session.get(Event, event_id).date
        db.session.execute(sa.update(Event).where(Event.id == event_id).values(date=day - timedelta(days=100)))
        db.session.commit()
        assert privacy.purge_pii(timedelta(days=90)).bookings == 3
        assert db.session.scalar(sa.select(sa.func.count(Booking.id)).where(
            Booking.event_id == event_id, sa.or_(Booking.phone.is_not(None), Booking.name.is_not(None)))) == 0
        evening = export_checkin(event_id, key=h.KEY)
    with h.on(server):
        report = import_bundle(evening, key=h.KEY)
        assert report.released
        rows = db.session.execute(sa.select(Booking.phone, Booking.name, Booking.nik, Booking.pii_purged_at)
                                  .where(Booking.event_id == story["server_event"])).all()
        assert len(rows) == 3 and all(r[:3] == (None, None, None) and r[3] is not None for r in rows)
    # the payload of the bundle itself holds no phone number once purged
    with h.on(laptop):
        later = export_checkin(story["laptop_event"], key=h.KEY)
    payload = envelope.open_sealed(later, h.KEY)
    import io
    import zipfile
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        rows = json.loads(archive.read("parts/booking.json"))
    assert len(rows) == 3 and not any(r["phone"] or r["name"] or r["nik"] for r in rows)
