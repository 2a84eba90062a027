"""Messages about a booking (issue 22, docs/outbox.md "Booking messages"), for citizens who ticked "kirimi saya
pesan" when booking: the confirmation, a reminder the day before with what to bring, a note when the event is
cancelled or moved. Each is an outbox row keyed by the booking's UUID and the kind, so a booking gets each kind
at most once, on the server or on a field laptop alike.

- confirmation: written by `book`'s own unit of work (`queue_confirmed`): the booking and its message are
  committed together or not at all.
- moved / cancelled: written by the event's units of work (`update_event` when the date or venue changes,
  `change_status` closing an event before its day), for every active booking that asked for messages.
- reminder: a daily sweep the outbox worker runs (`ReminderSweep`, at most once a minute), not a row scheduled
  at booking time: a booking changed, cancelled or whose event moved needs no scheduled row to be found and
  corrected; the sweep reads what holds now. From REMINDER_HOUR WIB on the day before the event, every active
  booking made before that moment gets one.

Texts carry the code, the event, the day, the window, the venue and the services; never a name or NIK.
"""
from __future__ import annotations

import time as monotonic_time
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Booking, BookingStatus, Event, EventStatus, Outbox, Service
from .. import outbox
from ..clock import now, to_wib, wib_to_utc
from ..uow import unit_of_work
from . import texts

CONFIRMED = "message.booking.confirmed"
REMINDER = "message.booking.reminder"
MOVED = "message.booking.moved"
CANCELLED = "message.booking.cancelled"
REMINDER_HOUR = time(8)  # WIB, the day before: a morning message leaves the whole day to find the papers


def key(kind: str, booking_uuid: str) -> str:
    """At most one message of each kind per booking (the booking's UUID travels with a field bundle)."""
    return f"booking:{kind.rsplit('.', 1)[-1]}:{booking_uuid}"


def _window(booking: Booking) -> str:
    return f"{to_wib(booking.window.starts_at):%H.%M}–{to_wib(booking.window.ends_at):%H.%M}"


def _services(booking: Booking) -> str:
    return ", ".join(service.name for service in booking.services)


def _enqueue(kind: str, booking: Booking, text: str) -> None:
    outbox.enqueue(kind, key(kind, booking.uuid), {"phone": booking.phone, "text": text, "booking_code": booking.code},
                   event_id=booking.event_id)


def _wants(booking: Booking) -> bool:
    return bool(booking.notify and booking.phone and booking.status == BookingStatus.BOOKED)


def queue_confirmed(booking: Booking, event: Event, link: str | None) -> None:
    """Inside `book`'s unit of work, for a booking that asked for messages."""
    if not _wants(booking):
        return
    _enqueue(CONFIRMED, booking, texts.booking_confirmed(
        booking.locale, code=booking.code, event=event.title, day=event.date, window=_window(booking),
        venue=event.venue, services=_services(booking), link=link))


def _active_bookings(event_id: int) -> list[Booking]:
    return list(db.session.scalars(
        sa.select(Booking).where(Booking.event_id == event_id, Booking.status == BookingStatus.BOOKED,
                                 Booking.notify.is_(True), Booking.phone.is_not(None))
        .options(selectinload(Booking.window)).order_by(Booking.id)))


def queue_moved(event: Event) -> int:
    """Inside the unit of work that moved the event (another day or venue): one note per active booking."""
    bookings = _active_bookings(event.id)
    for booking in bookings:
        _enqueue(MOVED, booking, texts.booking_moved(booking.locale, code=booking.code, event=event.title,
                                                     day=event.date, venue=event.venue))
    return len(bookings)


def queue_cancelled(event: Event) -> int:
    """Inside the unit of work that closed the event before its day: the day will not take place."""
    bookings = _active_bookings(event.id)
    for booking in bookings:
        _enqueue(CANCELLED, booking, texts.booking_cancelled(booking.locale, code=booking.code, event=event.title,
                                                             day=event.date))
    return len(bookings)


def reminder_moment(day) -> datetime:
    """When the reminders of an event on `day` go: REMINDER_HOUR WIB the day before (as UTC)."""
    return wib_to_utc(day - timedelta(days=1), REMINDER_HOUR)


def reminders_due(at: datetime | None = None) -> list[tuple[str, dict, int]]:
    """(key, payload, event id) of every reminder that should have gone by `at` and has not (a read)."""
    at = at or now()
    tomorrow = to_wib(at).date() + timedelta(days=1)
    if at < reminder_moment(tomorrow):
        return []
    rows = list(db.session.scalars(
        sa.select(Booking).join(Event, Event.id == Booking.event_id)
        .where(Event.date == tomorrow, Event.status != EventStatus.CLOSED, Booking.status == BookingStatus.BOOKED,
               Booking.notify.is_(True), Booking.phone.is_not(None),
               Booking.created_at < reminder_moment(tomorrow))
        .options(selectinload(Booking.window), selectinload(Booking.services).selectinload(Service.requirements))
        .order_by(Booking.id)))
    if not rows:
        return []
    done = set(db.session.scalars(sa.select(Outbox.dedupe_key).where(
        Outbox.kind == REMINDER, Outbox.dedupe_key.in_([key(REMINDER, b.uuid) for b in rows]))))
    due = []
    for booking in rows:
        if key(REMINDER, booking.uuid) in done:
            continue
        event = db.session.get(Event, booking.event_id)
        bring: list[str] = []
        for service in booking.services:
            for requirement in service.requirements:
                if not requirement.optional and requirement.text not in bring:
                    bring.append(requirement.text)
        text = texts.booking_reminder(booking.locale, code=booking.code, event=event.title, day=event.date,
                                      window=_window(booking), venue=event.venue, bring=", ".join(bring))
        due.append((key(REMINDER, booking.uuid),
                    {"phone": booking.phone, "text": text, "booking_code": booking.code}, booking.event_id))
    return due


def queue_reminders(at: datetime | None = None) -> int:
    """The sweep: find what is due with a read, then write only those rows in a short unit of work (on SQLite
    the writer lock is held for the inserts, not for the search)."""
    due = reminders_due(at)
    db.session.rollback()
    return _enqueue_reminders(due) if due else 0


@unit_of_work(audited=False)
def _enqueue_reminders(due: list[tuple[str, dict, int]]) -> int:
    for dedupe_key, payload, event_id in due:
        outbox.enqueue(REMINDER, dedupe_key, payload, event_id=event_id)
    return len(due)


class ReminderSweep:
    """Run by the outbox worker before its passes, at most once every `every` seconds."""

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self._last = float("-inf")

    def __call__(self) -> int:
        if monotonic_time.monotonic() - self._last < self.every:
            return 0
        self._last = monotonic_time.monotonic()
        return queue_reminders()
