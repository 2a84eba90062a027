"""An announced event tomorrow with booking opened: what the booking tests start from."""
from __future__ import annotations

from datetime import time, timedelta

from botram.domain import booking, events
from botram.domain.clock import today_wib
from botram.extensions import db
from botram.models import EventStatus

from .factories import make_desk, make_event, service


def booked_event(quotas: dict[str, int] | None = None, *, windows=booking.DEFAULT_WINDOWS, grace: int = 15,
                 desks: int = 2, day=None, codes=("KK", "KTP-REKAM")):
    """A draft tomorrow (or `day`), announced, two Disdukcapil desks 08–16 offering KTP-REKAM and KK, booking
    open until the day before at 20.00 WIB, with `quotas` (service code -> places) in every window."""
    day = day or today_wib() + timedelta(days=1)
    event = make_event(day=day, status=EventStatus.DRAFT)
    for n in range(desks):
        make_desk(event, n + 1, "DISDUKCAPIL", list(codes), state="closed")
    events.set_announced(event, True)
    quotas = quotas if quotas is not None else {"KTP-REKAM": 5, "KK": 5}
    ids = {service(code).id: places for code, places in quotas.items()}
    booking.open_booking(event, booking.PlanInput(
        closes_on=day - timedelta(days=1), closes_at=time(20), grace_minutes=grace,
        windows=[booking.WindowInput(a, b, dict(ids)) for a, b in windows]))
    db.session.commit()
    return event


def window_at(event, hour: int):
    view = booking.booking_view(event)
    from botram.domain.clock import to_wib
    return next(w for w in view.windows if to_wib(w.starts_at).hour == hour)


def booking_to_check_in(event_id: int, n: int) -> str:
    """A booking of `event_id` waiting to be checked in, written as rows (test setup, like the factories): a
    window starting in an hour whatever the time of day, so a world built at any hour has one. Its code."""
    import secrets
    from datetime import timedelta

    import sqlalchemy as sa

    from botram.domain.booking.book import new_code
    from botram.domain.clock import now
    from botram.models import Booking, BookingPlan, BookingQuota, BookingWindow, Desk, desk_service

    plan = db.session.scalar(sa.select(BookingPlan).where(BookingPlan.event_id == event_id))
    if plan is None:
        plan = BookingPlan(event_id=event_id, closes_at=now() + timedelta(hours=1), grace_minutes=15)
        db.session.add(plan)
        db.session.flush()
    start = now() + timedelta(hours=1)
    window = BookingWindow(plan_id=plan.id, event_id=event_id, starts_at=start, ends_at=start + timedelta(hours=2))
    db.session.add(window)
    db.session.flush()
    service_id = db.session.scalar(sa.select(desk_service.c.service_id).join(Desk, Desk.id == desk_service.c.desk_id)
                                   .where(Desk.event_id == event_id).limit(1))
    db.session.add(BookingQuota(window_id=window.id, service_id=service_id, quota=1, taken=1))
    booking = Booking(event_id=event_id, window_id=window.id, code=new_code(), token=secrets.token_urlsafe(32),
                      phone=f"+62812{n:08d}", status="booked", origin="")
    db.session.add(booking)
    db.session.flush()
    from botram.models import Service
    booking.services = [db.session.get(Service, service_id)]
    db.session.commit()
    return booking.code
