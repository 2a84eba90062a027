"""The public schedule: which BOTRAM days are coming, where, with which services, at which hours, and what
each service asks citizens to bring. Reads only (no writes, no Flask request); the schedule pages, the
iCalendar feed and the poster all take their facts from here, so they never disagree.

Rules:
- Which events are public is `visibility.is_public`: open and closed events, and drafts the coordinator
  announced (bookable before the day); other drafts are never public (the API answers 404 for them too).
- The schedule lists events from today (WIB) on; a past event leaves the schedule but keeps its own page, so
  a poster's QR code printed weeks ago still opens something that says the day is over.
- There is no cancelled state: `closed` is final. An event closed before its day is how a day is called off,
  and the schedule says it is cancelled; one closed on its day has ended (`ScheduledEvent.phase`).
- A service's hours are those of the desks offering it at the event: from the earliest desk opening to the
  latest desk closing (desk hours follow the people and may run past the event's planned hours).
- What to bring is the service's requirement checklist in the catalogue's order, optional documents marked.

Every read loads the events, their regions, desks, services, agencies and requirements in a fixed number of
queries whatever the number of events (selectinload), never one query per event or per service.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import Desk, Event, EventStatus, Region, Service
from . import events
from .clock import today_wib
from .visibility import public_clause
from .reference import BEKASI_REGENCY

# The calendar keeps recent days too: a day a subscriber attended should not vanish from their calendar the
# morning after. Older ones drop out so the feed stays small on a phone.
FEED_DAYS_BACK = 90


@dataclass(frozen=True)
class Requirement:
    text: str
    where_to_get: str
    optional: bool


@dataclass(frozen=True)
class ScheduledService:
    id: int
    code: str
    name: str
    description: str
    agency: str
    agency_color: str
    opens_at: datetime
    closes_at: datetime
    desk_numbers: tuple[int, ...]
    requirements: tuple[Requirement, ...]


@dataclass(frozen=True)
class ScheduledEvent:
    id: int
    title: str
    date: date
    venue: str
    kecamatan_code: str
    kecamatan: str
    desa: str
    desa_kind: str
    opens_at: datetime
    closes_at: datetime
    status: str
    services: tuple[ScheduledService, ...]

    def phase(self, today: date | None = None) -> str:
        """Where the day stands for a citizen: `coming`, `today` (open today), `ended` (closed today, its
        service is over), `cancelled` (closed before its day: there is no other way to call a day off),
        `past`."""
        today = today or today_wib()
        if self.date < today:
            return "past"
        if self.status == EventStatus.CLOSED.value:
            return "ended" if self.date == today else "cancelled"
        return "today" if self.date == today else "coming"


def _query():
    return (sa.select(Event).where(public_clause())
            .options(joinedload(Event.kecamatan), joinedload(Event.desa),
                     selectinload(Event.desks).selectinload(Desk.services).selectinload(Service.agency),
                     selectinload(Event.desks).selectinload(Desk.services).selectinload(Service.requirements))
            .order_by(Event.date, Event.opens_at, Event.id))


def _services(event: Event) -> tuple[ScheduledService, ...]:
    by_service: dict[int, tuple[Service, list[Desk]]] = {}
    for desk in event.desks:
        for service in desk.services:
            by_service.setdefault(service.id, (service, []))[1].append(desk)
    found = []
    for service, desks in by_service.values():
        found.append(ScheduledService(
            id=service.id, code=service.code, name=service.name, description=service.description,
            agency=service.agency.short_name, agency_color=service.agency.color,
            opens_at=min(d.opens_at for d in desks), closes_at=max(d.closes_at for d in desks),
            desk_numbers=tuple(sorted(d.number for d in desks)),
            requirements=tuple(Requirement(r.text, r.where_to_get, r.optional) for r in service.requirements)))
    return tuple(sorted(found, key=lambda s: (s.agency, s.name)))


def _describe(event: Event) -> ScheduledEvent:
    return ScheduledEvent(
        id=event.id, title=event.title, date=event.date, venue=event.venue,
        kecamatan_code=event.kecamatan_code, kecamatan=event.kecamatan.name,
        desa=event.desa.name if event.desa else "", desa_kind=event.desa.kind if event.desa else "",
        opens_at=event.opens_at, closes_at=event.closes_at, status=event.status, services=_services(event))


def _since(day: date, kecamatan_code: str | None) -> list[ScheduledEvent]:
    query = _query().where(Event.date >= day)
    if kecamatan_code:
        query = query.where(Event.kecamatan_code == kecamatan_code)
    return [_describe(e) for e in db.session.scalars(query).unique()]


def coming_events(kecamatan_code: str | None = None, *, today: date | None = None) -> list[ScheduledEvent]:
    """The public events from today (WIB) on, by date, optionally in one kecamatan."""
    return _since(today or today_wib(), kecamatan_code)


def feed_events(kecamatan_code: str | None = None, *, today: date | None = None) -> list[ScheduledEvent]:
    """What the iCalendar feed carries: the coming events and those of the last FEED_DAYS_BACK days."""
    return _since((today or today_wib()) - timedelta(days=FEED_DAYS_BACK), kecamatan_code)


def public_event(event_id: int) -> ScheduledEvent | None:
    """One public event (past ones too: a printed poster's QR code keeps working); None for a draft or none."""
    event = db.session.scalars(_query().where(Event.id == event_id)).unique().one_or_none()
    return _describe(event) if event is not None else None


def kecamatan_choices() -> list[Region]:
    """Every kecamatan of the regency, by name: the filter offers all 23 so a citizen sees there is none
    near them yet rather than guessing why their kecamatan is missing."""
    return events.kecamatan_list()


def kecamatan_named(code: str | None) -> Region | None:
    """The kecamatan of the regency with this code, or None (unknown, a desa, another regency, junk)."""
    if not code or len(code) > 13:
        return None
    region = db.session.get(Region, code)
    return region if region is not None and region.level == 3 and region.parent_code == BEKASI_REGENCY else None
