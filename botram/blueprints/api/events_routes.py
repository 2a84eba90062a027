"""Events and what they offer: the public schedule, an event's desks and its services."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Desk, DeskState, Event, Service
from . import bp
from ...domain.visibility import is_public, public_clause
from ...permissions import may_read_events
from .auth import api_public
from .errors import ApiError, get_or_404
from .schemas import DeskList, EventList, EventServiceList, EventsQuery, Extra
from .spec import TAGS, answer, answers, api_spec

def sees_drafts() -> bool:
    # Drafts to those who see the events pages, where drafts are listed.
    return may_read_events(current_user)


def visible_event_or_404(event_id: int) -> Event:
    """The event, if the caller may see it; a draft is 'not found' to the public (its existence is not news)."""
    event = get_or_404(Event, event_id, _("Kegiatan tidak ditemukan."))
    if not is_public(event) and not sees_drafts():
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
        stmt = stmt.where(public_clause())
    if status:
        stmt = stmt.where(Event.status == status)
    if start:
        stmt = stmt.where(Event.date >= start)
    if end:
        stmt = stmt.where(Event.date <= end)
    return answer(EventList, list(db.session.scalars(stmt)))


@bp.get("/events/<int:event_id>/desks")
@api_public
@api_spec.validate(resp=answers(200, DeskList), tags=[TAGS["events"]], operation_id="listEventDesks")
def event_desks(event_id: int):
    """The desks of an event

    Public for open and closed events (the board shows them); a draft event is 404 unless the caller may see
    drafts. Ordered by desk number, with their agency, services, state and hours.
    """
    event = visible_event_or_404(event_id)
    return answer(DeskList, _event_desks(event))


@bp.get("/events/<int:event_id>/services")
@api_public
@api_spec.validate(resp=answers(200, EventServiceList), tags=[TAGS["events"]], operation_id="listEventServices")
def event_services(event_id: int):
    """The services offered at an event

    The union of the event's desks' services, each once, in desk order (what a ticket kiosk offers). Same
    visibility as the desks.
    """
    event = visible_event_or_404(event_id)
    offered: dict[int, Service] = {}
    open_desks: dict[int, int] = {}
    for desk in _event_desks(event):
        for service in desk.services:
            offered.setdefault(service.id, service)
            open_desks[service.id] = open_desks.get(service.id, 0) + (desk.state == DeskState.OPEN)
    return answer(EventServiceList, [Extra(s, open_desks=open_desks[s.id]) for s in offered.values()])
