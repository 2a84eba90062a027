"""The regency view across events: coverage of the 23 kecamatan and 187 desa, visits per event, the trend
over months, the calendar of coming events, and where citizens asked BOTRAM to go next.

An event counts as *held* when it is open or closed and its date is today or earlier; drafts and future
dates are *planned*. A desa is *visited* when a held event took place there (the event's desa), a kecamatan
when a held event took place in it. Reads only.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from ..extensions import db
from ..models import Event, EventStatus, Region, Service
from . import skm, summaries
from .clock import today_wib
from .reference import BEKASI_REGENCY

HELD = (EventStatus.OPEN, EventStatus.CLOSED)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]


@dataclass
class DesaCoverage:
    code: str
    name: str
    events: int = 0
    visits: int = 0
    last_date: date | None = None
    planned: int = 0
    requested: int = 0

    @property
    def visited(self) -> bool:
        return self.events > 0


@dataclass
class KecamatanCoverage:
    code: str
    name: str
    desa: list[DesaCoverage] = field(default_factory=list)
    events: int = 0
    visits: int = 0
    last_date: date | None = None
    planned: int = 0
    requested: int = 0

    @property
    def visited(self) -> bool:
        return self.events > 0

    @property
    def visited_desa(self) -> int:
        return sum(1 for d in self.desa if d.visited)


@dataclass
class EventRow:
    event: Event
    visits: int
    done: int
    ikm: skm.IkmResult


@dataclass
class MonthRow:
    year: int
    month: int
    events: int = 0
    visits: int = 0

    @property
    def label(self) -> str:
        return f"{MONTHS[self.month - 1]} {self.year}"


@dataclass(frozen=True)
class BookedTotal:
    """One service's booked vs walk-in figures over the view's events."""

    service_id: int
    service: str
    booked_visits: int
    walk_in_visits: int
    booked_wait: float | None      # mean minutes from arrival to the call
    walk_in_wait: float | None
    no_shows: int


@dataclass
class RegencyView:
    kecamatan: list[KecamatanCoverage]
    events: list[EventRow]
    trend: list[MonthRow]
    upcoming: list[Event]
    requests: list[skm.NextLocation]
    ikm: skm.IkmResult
    today: date
    booking: list[BookedTotal] = field(default_factory=list)

    @property
    def desa_total(self) -> int:
        return sum(len(k.desa) for k in self.kecamatan)

    @property
    def desa_visited(self) -> int:
        return sum(k.visited_desa for k in self.kecamatan)

    @property
    def kecamatan_visited(self) -> int:
        return sum(1 for k in self.kecamatan if k.visited)

    @property
    def visits_total(self) -> int:
        return sum(r.visits for r in self.events)


def _held(event: Event, today: date) -> bool:
    return event.status in HELD and event.date <= today


def regency_view(year: int | None = None, today: date | None = None) -> RegencyView:
    """Everything the regency page shows; `year` narrows events, trend and requests to one year."""
    today = today or today_wib()
    kecamatan = db.session.scalars(sa.select(Region).where(
        Region.level == 3, Region.parent_code == BEKASI_REGENCY).order_by(Region.name)).all()
    desa = db.session.scalars(sa.select(Region).where(Region.level == 4).order_by(Region.name)).all()
    query = sa.select(Event).order_by(Event.date.desc(), Event.id.desc())
    if year:
        query = query.where(Event.date >= date(year, 1, 1), Event.date <= date(year, 12, 31))
    events = db.session.scalars(query).all()
    # Visits, done steps, respondents and score totals per held event (the IKM needs nothing else): closed
    # events from their summaries, open ones counted by the database (botram/domain/summaries.py).
    totals = summaries.event_totals([e.id for e in events if _held(e, today)])
    visits = {event_id: t[0] for event_id, t in totals.items()}
    done = {event_id: t[1] for event_id, t in totals.items()}
    answers = {event_id: t[2] for event_id, t in totals.items() if t[2][0]}

    desa_rows = {d.code: DesaCoverage(d.code, d.label) for d in desa}
    kec_rows = {k.code: KecamatanCoverage(k.code, k.name) for k in kecamatan}
    for d in desa:
        if d.parent_code in kec_rows:
            kec_rows[d.parent_code].desa.append(desa_rows[d.code])

    held_rows: list[EventRow] = []
    for event in events:
        kec = kec_rows.get(event.kecamatan_code)
        place = desa_rows.get(event.desa_code) if event.desa_code else None
        if _held(event, today):
            count = visits.get(event.id, 0)
            n, sums = answers.get(event.id, (0, {}))
            held_rows.append(EventRow(event, count, done.get(event.id, 0),
                                      skm.ikm_from_totals(n, sums, population=count)))
            for target in (kec, place):
                if target is None:
                    continue
                target.events += 1
                target.visits += count
                target.last_date = max(target.last_date or event.date, event.date)
        elif event.date >= today:
            for target in (kec, place):
                if target is not None:
                    target.planned += 1

    requests = summaries.next_locations([e.id for e in events]) if year else skm.next_location_tally()
    for request in requests:
        if request.code in desa_rows:
            desa_rows[request.code].requested += request.requests
            parent = request.code.rsplit(".", 1)[0]
            if parent in kec_rows:
                kec_rows[parent].requested += request.requests

    trend = _trend(held_rows)
    upcoming = db.session.scalars(sa.select(Event).where(Event.date >= today).order_by(Event.date, Event.id)).all()
    upcoming = [e for e in upcoming if not (e.status == EventStatus.CLOSED)]
    respondents, totals = 0, Counter()
    for row in held_rows:
        n, sums = answers.get(row.event.id, (0, {}))
        respondents += n
        totals.update(sums)
    overall = skm.ikm_from_totals(respondents, totals, population=sum(r.visits for r in held_rows))
    return RegencyView(kecamatan=list(kec_rows.values()), events=held_rows, trend=trend, upcoming=upcoming,
                       requests=requests, ikm=overall, today=today,
                       booking=booked_totals(summaries.booking_totals([r.event.id for r in held_rows])))


def booked_totals(totals: dict[int, list]) -> list[BookedTotal]:
    """`summaries.booking_totals` as rows by service name; a wait is the mean over the waits measured."""
    names = dict(db.session.execute(sa.select(Service.id, Service.name).where(Service.id.in_(list(totals)))).all())

    def mean(count, total):
        return round(total / count, 1) if count else None

    rows = [BookedTotal(sid, names.get(sid, ""), booked, walk_in, mean(bn, bsum), mean(wn, wsum), no_shows)
            for sid, (booked, walk_in, bn, bsum, wn, wsum, no_shows) in totals.items()]
    return sorted(rows, key=lambda r: r.service)


def _trend(rows: list[EventRow]) -> list[MonthRow]:
    """Held events and visits per month, from the first held event's month to the last, gaps as zero."""
    if not rows:
        return []
    months: dict[tuple[int, int], MonthRow] = {}
    first = min(r.event.date for r in rows)
    last = max(r.event.date for r in rows)
    y, m = first.year, first.month
    while (y, m) <= (last.year, last.month):
        months[(y, m)] = MonthRow(y, m)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    for row in rows:
        month = months[(row.event.date.year, row.event.date.month)]
        month.events += 1
        month.visits += row.visits
    return list(months.values())


def event_years() -> list[int]:
    return sorted({d.year for d in db.session.scalars(sa.select(Event.date).distinct())}, reverse=True)
