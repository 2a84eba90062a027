"""Events and what they offer: the public schedule, an event's desks and its services."""
from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Desk, DeskState, Event, EventStatus, Role, Service
from . import bp
from .auth import api_public
from .errors import ApiError, get_or_404
from .schemas import DeskList, EventList, EventServiceList, EventsQuery
from .serialize import agency_ref, desk_json, event_summary
from .spec import TAGS, answers, api_spec

# Roles that plan events and therefore also see drafts (the same roles that see the events pages).
DRAFT_VIEWERS = (Role.ADMIN.value, Role.KOORDINATOR.value, Role.KEUANGAN.value)


def sees_drafts() -> bool:
    return current_user.is_authenticated and current_user.role in DRAFT_VIEWERS


def visible_event_or_404(event_id: int) -> Event:
    """The event, if the caller may see it; a draft is 'not found' to the public (its existence is not news)."""
    event = get_or_404(Event, event_id, _("Kegiatan tidak ditemukan."))
    if event.status == EventStatus.DRAFT.value and not sees_drafts():
        raise ApiError(404, _("Kegiatan tidak ditemukan."))
    return event


def _event_desks(event: Event) -> list[Desk]:
    return list(db.session.scalars(
        sa.select(Desk).where(Desk.event_id == event.id).order_by(Desk.number)
        .options(selectinload(Desk.agency), selectinload(Desk.services).selectinload(Service.agency))
    ))


@bp.get("/events")
@api_public
@api_spec.validate(resp=answers(200, EventList), tags=[TAGS["events"]], operation_id="listEvents")
def events(query: EventsQuery):
    """The schedule of BOTRAM events

    Public: open and closed events, past and upcoming, by date then opening time. Drafts are not public: they
    are listed only for a caller signed in as admin, koordinator or keuangan. Filters combine; a bad value
    answers 400.
    """
    status, start, end = query.status, query.from_, query.to
    if start and end and start > end:
        raise ApiError(400, _("Tanggal 'from' tidak boleh sesudah tanggal 'to'."), field="to")
    stmt = (sa.select(Event).order_by(Event.date, Event.opens_at, Event.id)
            .options(selectinload(Event.kecamatan), selectinload(Event.desa)))
    if not sees_drafts():
        stmt = stmt.where(Event.status != EventStatus.DRAFT.value)
    if status:
        stmt = stmt.where(Event.status == status)
    if start:
        stmt = stmt.where(Event.date >= start)
    if end:
        stmt = stmt.where(Event.date <= end)
    return jsonify([event_summary(e) for e in db.session.scalars(stmt)])


@bp.get("/events/<int:event_id>/desks")
@api_public
@api_spec.validate(resp=answers(200, DeskList), tags=[TAGS["events"]], operation_id="listEventDesks")
def event_desks(event_id: int):
    """The desks of an event

    Public for open and closed events (the board shows them); a draft event is 404 unless the caller may see
    drafts. Ordered by desk number, with their agency, services, state and hours.
    """
    event = visible_event_or_404(event_id)
    return jsonify([desk_json(d) for d in _event_desks(event)])


@bp.get("/events/<int:event_id>/services")
@api_public
@api_spec.validate(resp=answers(200, EventServiceList), tags=[TAGS["events"]], operation_id="listEventServices")
def event_services(event_id: int):
    """The services offered at an event

    The union of the event's desks' services, each once, in desk order (what a ticket kiosk offers). Same
    visibility as the desks.
    """
    event = visible_event_or_404(event_id)
    offered: dict[int, dict] = {}
    for desk in _event_desks(event):
        for service in desk.services:
            entry = offered.setdefault(service.id, {
                "id": service.id, "code": service.code, "name": service.name,
                "agency": agency_ref(service.agency), "open_desks": 0,
            })
            if desk.state == DeskState.OPEN.value:
                entry["open_desks"] += 1
    return jsonify(list(offered.values()))
