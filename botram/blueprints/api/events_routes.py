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
from .errors import ApiError
from .params import get_or_404, query_choice, query_date
from .serialize import agency_ref, desk_json, event_summary

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
def events():
    """The schedule: open and closed events (drafts too for planners), by date; ?status=&from=&to= filter."""
    status = query_choice("status", [s.value for s in EventStatus])
    start, end = query_date("from"), query_date("to")
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
def event_desks(event_id: int):
    """The desks set up at an event, by number, with their agency, services, state and hours."""
    event = visible_event_or_404(event_id)
    return jsonify([desk_json(d) for d in _event_desks(event)])


@bp.get("/events/<int:event_id>/services")
@api_public
def event_services(event_id: int):
    """Services offered at the event: the union of its desks' services, in desk order, each once."""
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
