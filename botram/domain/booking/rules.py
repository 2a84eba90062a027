"""Booking's settings as one object, read from the configuration (defaults in botram/settings.py only)."""
from __future__ import annotations

from dataclasses import dataclass, replace

from flask import current_app, has_app_context


@dataclass(frozen=True)
class BookingRules:
    share_percent: int
    """The largest share of a window's capacity a quota may take."""
    grace_minutes: int
    """Default minutes after a window's end before an unused booking releases its place."""
    max_per_phone: int
    max_per_nik: int
    throttle_per_hour: int

    @classmethod
    def defaults(cls, **changes) -> "BookingRules":
        from ...settings import Settings

        f = Settings.model_fields
        return replace(cls(share_percent=f["booking_share_percent"].default,
                           grace_minutes=f["booking_grace_minutes"].default,
                           max_per_phone=f["max_bookings_per_phone"].default,
                           max_per_nik=f["max_tickets_per_nik"].default,
                           throttle_per_hour=f["booking_throttle_per_hour"].default), **changes)


def current() -> BookingRules:
    if not has_app_context():
        return BookingRules.defaults()
    c = current_app.config
    return BookingRules(share_percent=c["BOTRAM_BOOKING_SHARE_PERCENT"],
                        grace_minutes=c["BOTRAM_BOOKING_GRACE_MINUTES"],
                        max_per_phone=c["BOTRAM_MAX_BOOKINGS_PER_PHONE"],
                        max_per_nik=c["BOTRAM_MAX_TICKETS_PER_NIK"],
                        throttle_per_hour=c["BOTRAM_BOOKING_THROTTLE_PER_HOUR"])
