"""Booking over JSON (docs/booking.md): the public reads and books, the private token sees or cancels,
reception (or a kiosk's device token) checks a booking in. Rules in botram.domain.booking. No phone, name or
NIK ever leaves through here."""
from __future__ import annotations

import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from ...domain import booking
from ...domain.booking.plan import plan_of
from ...domain.booking.release import booking_state
from ...extensions import db
from ...domain.booking.book import clean_code
from ...models import Booking, Event
from ...permissions import may_register_visitors
from ..public.routes import public_url, status_url as public_status_url
from . import bp
from .auth import api_public, api_requires
from .errors import ApiError
from .events_routes import visible_event_or_404
from .schemas import Extra, BookingAnswer, BookingRequest, CheckInAnswer, EventBooking, Visit
from .spec import TAGS, answer, answers, api_spec

BOOKING = [TAGS["booking"]]


def _booking_answer(found, code: int = 200):
    plan = plan_of(found.event_id)
    return answer(BookingAnswer, Extra(found, url=public_url("booking.show", token=found.token),
                                       status=booking_state(found, plan.grace_minutes if plan else 0),
                                       window_starts_at=found.window.starts_at, window_ends_at=found.window.ends_at,
                                       services=[s.code for s in found.services]), code)


@bp.get("/events/<int:event_id>/booking")
@api_public
@api_spec.validate(resp=answers(200, EventBooking), tags=BOOKING, operation_id="getEventBooking")
def event_booking(event_id: int):
    """An event's booking windows and the places left per service

    Public for announced, open and closed events. `open` says whether booking is open now.
    """
    event = visible_event_or_404(event_id)
    view = booking.booking_view(event)
    return answer(EventBooking, {"event_id": event.id, "open": view.open,
                                 "closes_at": view.closes_at.isoformat() if view.closes_at else None,
                                 "windows": [{"id": w.id, "starts_at": w.starts_at.isoformat(),
                                              "ends_at": w.ends_at.isoformat(),
                                              "quotas": [{"service_id": q.service_id, "service": q.service,
                                                          "quota": q.quota, "left": q.left} for q in w.quotas]}
                                             for w in view.windows]})


@bp.post("/bookings")
@api_public
@api_spec.validate(resp=answers(201, BookingAnswer, errors=(404, 409, 422, 429), description="The booking."),
                   tags=BOOKING, operation_id="createBooking")
def create_booking(json: BookingRequest):
    """Book a place

    Public and throttled (BOTRAM_BOOKING_THROTTLE_PER_HOUR per address and per phone: 429). A full window is
    409; the anti-tout rule (per NIK and per phone) and bad input 422.
    """
    event = db.session.get(Event, json.event_id)
    if event is None:
        raise ApiError(404, _("Kegiatan tidak ditemukan."))
    made = booking.book(event.id, booking.BookingInput(
        window_id=json.window_id, service_ids=list(json.services), package_id=json.package_id, phone=json.phone,
        name=json.name, nik=json.nik, origin=request.remote_addr))
    return _booking_answer(made, 201)


def _by_token(token: str):
    found = booking.booking_by_token(token)
    if found is None:
        raise ApiError(404, _("Pemesanan tidak ditemukan."))
    return found


@bp.get("/bookings/<token>")
@api_public
@api_spec.validate(resp=answers(200, BookingAnswer), tags=BOOKING, operation_id="getBooking")
def get_booking(token: str):
    """A booking, by the secret token of its private link"""
    return _booking_answer(_by_token(token))


@bp.delete("/bookings/<token>")
@api_public
@api_spec.validate(resp=answers(200, BookingAnswer, errors=(409,), description="The cancelled booking."),
                   tags=BOOKING, operation_id="cancelBooking")
def cancel_booking(token: str):
    """Cancel a booking, by its token; its places are given back"""
    found = _by_token(token)
    return _booking_answer(booking.cancel_booking(found.token))


@bp.post("/bookings/<code>/check-in")
@api_requires(may_register_visitors)
@api_spec.validate(resp=answers(201, CheckInAnswer, errors=(409, 422), description="The ticket."),
                   tags=BOOKING, operation_id="checkInBooking")
def check_in(code: str):
    """Check a booking in by its code: it becomes a visit with its ticket

    Reception or a kiosk's device token. The event must be open; a booking checked in after its window began
    is a walk-in; after its window's end plus the grace it has been released (409).
    """
    found = db.session.scalar(sa.select(Booking).where(Booking.code == clean_code(code)))
    if found is None:
        raise ApiError(404, _("Pemesanan tidak ditemukan."))
    issued = booking.check_in(found.id, by_user_id=current_user.id)
    visit = issued.visit
    ticket = Visit.model_validate(Extra(visit, status_url=public_status_url(visit.public_token),
                                        warnings=issued.warnings))
    return answer(CheckInAnswer, {"booking_code": found.code, "visit": ticket.model_dump()}, 201)
