"""Booking before the day (pendaftaran daring), docs/booking.md.

- `plan`: the coordinator opens booking for an event: windows, a quota per service and window capped at a
  share of the window's capacity, a closing time, a grace; what is left to book.
- `book`: a citizen books, changes or cancels (phone required, anti-tout and throttling).
- `checkin`: reception turns a booking into a visit with its ticket, on the day.
- `release`: what a booking not checked in has become once its window ended (a booking no-show).
"""
from .. import DomainError
from .plan import (DEFAULT_WINDOWS, PlanInput, WindowInput, booking_view, open_booking, plan_of,
                   window_capacity)
from .book import BookingInput, book, booking_by_token, cancel_booking, change_booking
from .checkin import check_in, find_for_check_in
from .release import booking_state, is_no_show

__all__ = ["DomainError", "DEFAULT_WINDOWS", "PlanInput", "WindowInput", "booking_view", "open_booking", "plan_of",
           "window_capacity", "BookingInput", "book", "booking_by_token", "cancel_booking", "change_booking",
           "check_in", "find_for_check_in", "booking_state", "is_no_show"]
