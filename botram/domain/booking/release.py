"""A booking not checked in releases its place when its window ends plus the event's grace, and counts as a
booking no-show. Computed on read (no sweep, nothing to schedule on a field laptop): the state of a booking is
`booked` until then, `no_show` after; the quota's `taken` keeps counting it, which is harmless because the
window is over and nobody can book a finished window."""
from __future__ import annotations

from datetime import datetime, timedelta

from ...models import Booking, BookingStatus
from ..clock import now


def is_no_show(booking: Booking, grace_minutes: int, at: datetime | None = None) -> bool:
    return (booking.status == BookingStatus.BOOKED
            and (at or now()) >= booking.window.ends_at + timedelta(minutes=grace_minutes))


def booking_state(booking: Booking, grace_minutes: int, at: datetime | None = None) -> str:
    """`booked`, `checked_in`, `cancelled` or `no_show`."""
    return "no_show" if is_no_show(booking, grace_minutes, at) else booking.status
