"""Booking messages (issue 22, docs/outbox.md "Booking messages"), delivered to a real HTTP gateway on 127.0.0.1:
the booking form's tick (only with a gateway), the confirmation with the private link, the day-before reminder
with what to bring (the worker's sweep), a note when the event moves or is cancelled; at most once per booking
per kind, English when the citizen chose it, never a name or NIK."""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from botram.domain import booking, events, outbox
from botram.domain.clock import to_wib, today_wib
from botram.domain.notify import booking as messages
from botram.extensions import db
from botram.models import Booking, Event, Outbox, Visit
from botram.outbox_worker import Worker, install_senders

from .booking_world import booked_event, booking_to_check_in, window_at
from .factories import make_desk, make_event, make_user, service

NAME, NIK = "Siti Aminah", "3216014501900001"


def _deliver(app) -> None:
    worker = Worker(app)
    install_senders(app, worker)
    while outbox.deliver_due():
        pass


def _book(client, event, n: int, *, tick: bool, window_hour: int = 10, **extra):
    data = {"services": [service("KTP-REKAM").id, service("KK").id], "window": window_at(event, window_hour).id,
            "phone": f"0812{n:08d}", "name": NAME, "nik": NIK if n == 1 else "", **extra}
    if tick:
        data["notify"] = "y"
    return client.post(f"/jadwal/{event.id}/pesan", data=data)


def _rows(kind: str) -> list[Outbox]:
    return list(db.session.scalars(sa.select(Outbox).where(Outbox.kind == kind).order_by(Outbox.id)))


def test_the_tick_is_offered_only_with_a_gateway(app, client):
    event = booked_event()
    assert 'name="notify"' not in client.get(f"/jadwal/{event.id}/pesan").get_data(as_text=True)
    # Without a gateway a tick sent anyway is ignored: the booking is made, nothing is queued.
    assert _book(client, event, 1, tick=True).status_code == 303
    assert db.session.scalar(sa.select(Booking.notify)) is False and not _rows(messages.CONFIRMED)
    app.config["BOTRAM_NOTIFY_URLS"] = "json://127.0.0.1:9/sms/{phone}"
    page = client.get(f"/jadwal/{event.id}/pesan").get_data(as_text=True)
    assert 'name="notify"' in page and "checked" not in page.split('name="notify"')[1].split(">")[0]


def test_a_ticked_booking_gets_one_confirmation_with_code_window_services_and_link(app, client, gateway):
    event_id = booked_event().id
    event = db.session.get(Event, event_id)
    assert _book(client, event, 1, tick=True).status_code == 303
    assert _book(client, event, 2, tick=False).status_code == 303
    ticked = db.session.scalar(sa.select(Booking).where(Booking.phone == "+6281200000001"))
    assert ticked.notify and ticked.locale == "id"
    code, token = ticked.code, ticked.token
    _deliver(app)
    got = gateway.messages()
    assert [m["to"] for m in got] == ["+6281200000001"]  # none for the booking without the tick
    text = got[0]["text"]
    event = db.session.get(Event, event_id)
    window = window_at(event, 10)
    assert code in text and event.title in text and event.venue in text
    assert f"{to_wib(window.starts_at):%H.%M}–{to_wib(window.ends_at):%H.%M} WIB" in text
    assert service("KTP-REKAM").name in text and service("KK").name in text
    assert f"/pesan/{token}" in text
    assert NAME not in text and NIK not in text
    assert [r.status for r in _rows(messages.CONFIRMED)] == ["sent"]


def test_english_when_the_citizen_booked_in_english(app, client, gateway):
    event = booked_event()
    client.post("/lang/en")
    assert _book(client, event, 3, tick=True).status_code == 303
    _deliver(app)
    [message] = gateway.messages()
    assert "booking" in message["text"] and "is confirmed" in message["text"] and "pemesanan" not in message["text"]


def test_a_landline_with_the_tick_is_refused_at_the_phone_field(app, client, gateway):
    event = booked_event()
    refused = _book(client, event, 4, tick=True, phone="021 8900 1234")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="phone-error"' in page and "bukan telepon rumah" in page
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0 and not _rows(messages.CONFIRMED)


def test_the_reminder_goes_once_the_day_before_with_what_to_bring(app, client, gateway):
    day = today_wib() + timedelta(days=2)
    event = booked_event(day=day)
    for n, tick in ((1, True), (2, True), (3, False)):
        assert _book(client, event, n, tick=tick).status_code == 303
    cancelled = db.session.scalar(sa.select(Booking).where(Booking.phone == "+6281200000002"))
    booking.cancel_booking(cancelled.token)
    moment = messages.reminder_moment(day)
    assert messages.queue_reminders(moment - timedelta(minutes=1)) == 0  # not before 08.00 WIB the day before
    assert messages.queue_reminders(moment + timedelta(minutes=1)) == 1  # the active ticked booking only
    assert messages.queue_reminders(moment + timedelta(hours=3)) == 0  # once
    _deliver(app)
    reminders = [m for m in gateway.messages() if "besok" in m["text"]]
    assert [m["to"] for m in reminders] == ["+6281200000001"]
    bring = [r.text for r in service("KK").requirements + service("KTP-REKAM").requirements if not r.optional]
    assert bring and "Bawa: " in reminders[0]["text"] and bring[0] in reminders[0]["text"]
    assert NAME not in reminders[0]["text"] and NIK not in reminders[0]["text"]


def test_the_worker_sends_the_reminders_by_its_own_sweep(app, client, gateway, monkeypatch):
    """The sweep is the worker's: a worker pass on the day before queues and sends them with nothing else."""
    event = booked_event(day=today_wib() + timedelta(days=2))
    assert _book(client, event, 1, tick=True).status_code == 303
    # The sweep's clock at 08.01 WIB the day before (whatever the hour the test runs at)
    monkeypatch.setattr(messages, "now", lambda: messages.reminder_moment(event.date) + timedelta(minutes=1))
    worker = Worker(app)
    install_senders(app, worker)
    worker.run_once()
    worker.run_once()
    db.session.rollback()  # the worker wrote in its own app context: end this session's older read
    assert len(_rows(messages.REMINDER)) == 1 and _rows(messages.REMINDER)[0].status == "sent"
    assert any("besok" in m["text"] for m in gateway.messages())


def test_a_moved_or_cancelled_event_tells_each_ticked_booking_once(app, client, gateway):
    event = booked_event()
    for n, tick in ((1, True), (2, False)):
        assert _book(client, event, n, tick=tick).status_code == 303
    coordinator = make_user("koordinator").id
    fresh = db.session.get(Event, event.id)

    def edit(venue: str) -> None:
        events.update_event(fresh, events.EventInput(
            title=fresh.title, date=fresh.date, venue=venue, kecamatan_code=fresh.kecamatan_code,
            desa_code=fresh.desa_code, opens=to_wib(fresh.opens_at).time(), closes=to_wib(fresh.closes_at).time()),
            by_user_id=coordinator)

    edit(fresh.venue)  # nothing moved: nothing to say
    assert not _rows(messages.MOVED)
    edit("Aula Kecamatan Cikarang Timur")
    edit("Lapangan Desa Jatireja")  # at most once per booking per kind
    assert len(_rows(messages.MOVED)) == 1
    events.change_status(fresh, "open", by_user_id=coordinator)
    events.change_status(fresh, "closed", by_user_id=coordinator)  # before its day: cancelled
    assert len(_rows(messages.CANCELLED)) == 1
    _deliver(app)
    kinds = Counter(m["to"] for m in gateway.messages())
    assert kinds == {"+6281200000001": 3}  # confirmation, moved, cancelled; none for the unticked booking
    moved = next(m["text"] for m in gateway.messages() if "pindah" in m["text"])
    assert "Aula Kecamatan Cikarang Timur" in moved
    assert any("dibatalkan" in m["text"] for m in gateway.messages())


def test_checking_in_a_ticked_booking_carries_the_opt_in_to_the_visit(app, gateway):
    """On the day the citizen who asked for messages gets "near" and "called" too, without ticking again."""
    event = make_event()
    make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM"])
    code = booking_to_check_in(event.id, 1)
    db.session.execute(sa.update(Booking).where(Booking.code == code).values(notify=True, locale="en"))
    db.session.commit()
    made = db.session.scalar(sa.select(Booking).where(Booking.code == code))
    issued = booking.check_in(made.id, by_user_id=make_user("resepsionis").id)
    visit = db.session.get(Visit, issued.visit.id)
    assert visit.notify and visit.phone == "+6281200000001" and visit.locale == "en"
