"""On the day: reception (or a device) checks a booking in by its code (typed, or scanned: the scanner types
the code and Enter) or by the phone number; the booking becomes a visit with its ticket through the one
ticket path (queue.issue), marked `booked`.

A booker checked in by the start of their window gets `booked_from` = the window's start on each step: the
queue's order (queue/order.py) calls them within their window as far as capacity allows. One who comes after
the window started is a walk-in (no `booked_from`), as Qmatic and QLess do with late arrivals. After the window's
end plus the grace the booking has released its place (a booking no-show) and cannot be checked in: reception
registers the citizen as any walk-in.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import Booking, BookingStatus, Event
from .. import Conflict, DomainError, NotFound, audit
from ..clock import now
from ..queue.issue import IssuedVisit, _issue_visit
from ..queue_rules import QueueRules, current_rules
from ..uow import unit_of_work
from .book import clean_code, normalise_phone
from .plan import plan_of
from .release import is_no_show


def find_for_check_in(event_id: int, text: str | None) -> list[Booking]:
    """Bookings of the event waiting to be checked in matching a code, or a phone number (a phone may hold
    more than one: reception picks)."""
    raw = (text or "").strip()
    if not raw:
        raise DomainError(_l("Ketik atau pindai kode pemesanan, atau nomor HP."), field="code")
    query = sa.select(Booking).where(Booking.event_id == event_id).order_by(Booking.id)
    code = clean_code(raw)
    found = list(db.session.scalars(query.where(Booking.code == code))) if code.isalnum() else []
    if not found and sum(ch.isdigit() for ch in raw) >= 8:
        try:
            phone = normalise_phone(raw)
        except DomainError:
            phone = None
        if phone:
            found = list(db.session.scalars(query.where(Booking.phone == phone)))
    if not found:
        raise NotFound(_l("Pemesanan dengan kode atau nomor itu tidak ada di kegiatan ini."), field="code")
    return found


@unit_of_work
def check_in(booking_id: int, *, by_user_id: int, event_id: int | None = None,
             rules: QueueRules | None = None) -> IssuedVisit:
    """Turn the booking into a visit (one waiting step per booked service) and return the issued ticket.
    `event_id`: where the check-in happens (the kiosk): a booking of another event is refused there."""
    rules = rules or current_rules()
    booking = db.session.scalar(sa.select(Booking).where(Booking.id == booking_id).with_for_update()
                                .execution_options(populate_existing=True))
    if booking is None:
        raise NotFound(_l("Pemesanan tidak ditemukan."), field="code")
    if event_id is not None and booking.event_id != event_id:
        other = db.session.get(Event, booking.event_id)
        raise Conflict(_l("Pemesanan %(code)s untuk kegiatan lain: %(event)s, %(date)s. Kode ini tidak berlaku "
                          "di sini.", code=booking.code, event=other.title, date=other.date.strftime("%d-%m-%Y")),
                       field="code")
    if booking.status == BookingStatus.CHECKED_IN:
        raise Conflict(_l("Pemesanan %(code)s sudah didaftarkan.", code=booking.code), field="code")
    if booking.status == BookingStatus.CANCELLED:
        raise Conflict(_l("Pemesanan %(code)s sudah dibatalkan.", code=booking.code), field="code")
    plan = plan_of(booking.event_id)
    grace = plan.grace_minutes if plan else 0
    at = now()
    if is_no_show(booking, grace, at):
        raise Conflict(_l("Jendela waktu pemesanan %(code)s sudah lewat; daftarkan sebagai pengunjung biasa.",
                          code=booking.code), field="code")
    issued = _issue_visit(booking.event_id, [s.id for s in booking.services], priority="none",
                          name=booking.name, nik=booking.nik, phone=booking.phone if booking.notify else None,
                          by_user_id=by_user_id, max_per_nik=rules.max_tickets_per_nik,
                          notify=booking.notify, locale=booking.locale)  # asked for messages: "near", "called" too
    visit = issued.visit
    visit.booked = True
    on_time = at <= booking.window.starts_at
    if on_time:
        for step in visit.steps:
            step.booked_from = booking.window.starts_at
    booking.status = BookingStatus.CHECKED_IN
    booking.checked_in_at = at
    booking.visit_id = visit.id
    db.session.flush()
    audit.record("booking.check_in", "booking", booking.id, user_id=by_user_id, event_id=booking.event_id,
                 code=booking.code, visit=visit.code, on_time=on_time)
    return issued
