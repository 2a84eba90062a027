"""Service hours against demand: arrivals per hour, open desks per hour, capacity, unserved, advice.

Definitions (the event report prints them in words too):

- Hours are WIB clock hours [h:00, h+1:00). The range runs from the earliest of the event's and desks'
  opening and the first arrival to the latest closing or arrival.
- **Arrivals** in an hour = visits (tickets) created in that hour. **Demand** of an agency in an hour = the
  steps those arrivals asked of the agency's services (a transferred step is not counted twice).
- **Open desks** in an hour = desks whose planned hours [opens_at, closes_at) overlap the hour. The app keeps
  no history of pauses, so a desk counts as open for its hours as last set (an extension on the day counts).
- **Capacity** of an agency in an hour = Σ over its desks of (minutes open in that hour ÷ the agency's mean
  service minutes), i.e. open desks × 60 ÷ mean minutes for whole hours. The mean is measured at this event
  (called → finished of done steps); without any done step, the mean target minutes of its services.
- **Demand exceeded** in an hour when an agency's demand is greater than its capacity.
- **Unserved** = steps still waiting (never called) whose service's last desk (the latest `closes_at` of the
  event's desks offering it) has closed at report time, or that no desk offers at all.

`recommendations` turns these into plain Indonesian sentences for the next event.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Agency, Desk, Event, Service, Step, StepStatus, Visit, desk_service
from .clock import WIB, now as clock_now, to_wib

ORDINALS = {1: _l("loket pertama"), 2: _l("loket kedua"), 3: _l("loket ketiga"), 4: _l("loket keempat"),
            5: _l("loket kelima"), 6: _l("loket keenam")}


@dataclass
class AgencyInfo:
    id: int
    name: str
    color: str
    mean_minutes: float
    measured: bool          # mean from this event's done steps (else the services' target minutes)

    @property
    def per_desk_per_hour(self) -> float:
        return 60.0 / self.mean_minutes if self.mean_minutes > 0 else 0.0


@dataclass
class AgencyHour:
    demand: int = 0
    capacity: float = 0.0
    open_desks: int = 0

    @property
    def exceeded(self) -> bool:
        return self.demand > self.capacity + 1e-9


@dataclass
class HourRow:
    hour: int
    start: datetime  # aware UTC
    arrivals: int = 0
    open_desks: int = 0
    agencies: dict[int, AgencyHour] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.hour:02d}.00"

    @property
    def exceeded_agencies(self) -> list[int]:
        return [aid for aid, row in self.agencies.items() if row.exceeded]

    @property
    def exceeded(self) -> bool:
        return bool(self.exceeded_agencies)


@dataclass
class UnservedRow:
    service_id: int
    service_name: str
    agency_id: int
    agency_name: str
    count: int
    last_close: datetime | None     # None: no desk offers the service
    arrived_after_close: int = 0    # of `count`, arrived when the last desk had already closed


@dataclass
class HoursReport:
    hours: list[HourRow]
    agencies: list[AgencyInfo]
    unserved: list[UnservedRow]
    recommendations: list[str]
    at: datetime
    latest_close: datetime | None = None
    after_close: int = 0  # visits that arrived at or after the last desk's closing time

    @property
    def unserved_total(self) -> int:
        return sum(r.count for r in self.unserved)

    @property
    def max_arrivals(self) -> int:
        return max([h.arrivals for h in self.hours] + [0])

    @property
    def max_desks(self) -> int:
        return max([h.open_desks for h in self.hours] + [0])

    def exceeded(self) -> list[tuple[AgencyInfo, HourRow]]:
        by_id = {a.id: a for a in self.agencies}
        return [(by_id[aid], row) for row in self.hours for aid in row.exceeded_agencies]


def _hour_floor(value: datetime) -> datetime:
    local = to_wib(value)
    return local.replace(minute=0, second=0, microsecond=0)


def _overlap_minutes(start: datetime, end: datetime, lo: datetime, hi: datetime) -> float:
    return max(0.0, (min(end, hi) - max(start, lo)).total_seconds() / 60)


def _clock(value: datetime) -> str:
    return to_wib(value).strftime("%H.%M")


def hours_report(event_id: int, *, at: datetime | None = None) -> HoursReport:
    """Demand against capacity hour by hour, the unserved at closing, and advice, for one event."""
    at = at or clock_now()
    event = db.session.get(Event, event_id)
    desks = list(db.session.scalars(sa.select(Desk).where(Desk.event_id == event_id).order_by(Desk.number)))
    offered = defaultdict(set)  # service id -> desk ids
    for desk_id, service_id in db.session.execute(
            sa.select(desk_service.c.desk_id, desk_service.c.service_id)
            .join(Desk, Desk.id == desk_service.c.desk_id).where(Desk.event_id == event_id)):
        offered[service_id].add(desk_id)
    desk_by_id = {d.id: d for d in desks}

    steps = db.session.execute(
        sa.select(Step.id, Step.visit_id, Step.service_id, Step.status, Step.arrived_at, Step.called_at,
                  Step.finished_at, Service.agency_id, Service.name)
        .join(Service, Service.id == Step.service_id).where(Step.event_id == event_id)).all()
    arrivals = list(db.session.scalars(sa.select(Visit.created_at).where(Visit.event_id == event_id)))
    service_agency = {row.service_id: row.agency_id for row in steps}
    services = {s.id: s for s in db.session.scalars(
        sa.select(Service).where(Service.id.in_(set(offered) | set(service_agency))))}
    agency_ids = {d.agency_id for d in desks} | {s.agency_id for s in services.values()}
    agencies_db = {a.id: a for a in db.session.scalars(sa.select(Agency).where(Agency.id.in_(agency_ids)))}

    # Mean service minutes per agency: measured, else the target minutes of its offered services.
    measured: dict[int, list[float]] = defaultdict(list)
    for row in steps:
        if row.status == StepStatus.DONE and row.called_at and row.finished_at:
            measured[row.agency_id].append((row.finished_at - row.called_at).total_seconds() / 60)
    infos: dict[int, AgencyInfo] = {}
    for aid in sorted(agency_ids, key=lambda a: agencies_db[a].short_name):
        agency = agencies_db[aid]
        if measured[aid]:
            mean, is_measured = sum(measured[aid]) / len(measured[aid]), True
        else:
            targets = [s.target_minutes for s in services.values() if s.agency_id == aid and s.id in offered] or \
                      [s.target_minutes for s in services.values() if s.agency_id == aid] or [10]
            mean, is_measured = sum(targets) / len(targets), False
        infos[aid] = AgencyInfo(aid, agency.short_name, agency.color, max(mean, 0.5), is_measured)

    # The hour range.
    moments = [event.opens_at, event.closes_at] + [d.opens_at for d in desks] + [d.closes_at for d in desks] + arrivals
    first = _hour_floor(min(moments))
    last = _hour_floor(max(moments) - timedelta(microseconds=1))
    rows: list[HourRow] = []
    cursor = first
    while cursor <= last:
        start = cursor.astimezone(WIB)
        rows.append(HourRow(hour=start.hour, start=start,
                            agencies={aid: AgencyHour() for aid in infos}))
        cursor = cursor + timedelta(hours=1)
    index = {row.start: row for row in rows}

    by_moment: dict[datetime, HourRow] = {}  # a visit's steps arrive at its own moment: floor each moment once

    def hour_of(moment: datetime) -> HourRow:
        row = by_moment.get(moment)
        if row is None:
            row = by_moment[moment] = index[_hour_floor(moment)]
        return row

    for created in arrivals:
        hour_of(created).arrivals += 1
    for row in steps:
        if row.status == StepStatus.TRANSFERRED:
            continue
        hour_of(row.arrived_at).agencies[row.agency_id].demand += 1
    for row in rows:
        lo, hi = row.start, row.start + timedelta(hours=1)
        for desk in desks:
            minutes = _overlap_minutes(desk.opens_at, desk.closes_at, lo, hi)
            if minutes <= 0:
                continue
            row.open_desks += 1
            cell = row.agencies[desk.agency_id]
            cell.open_desks += 1
            cell.capacity += minutes / infos[desk.agency_id].mean_minutes

    # Unserved at closing.
    last_close = {sid: max(desk_by_id[d].closes_at for d in ids) for sid, ids in offered.items()}
    unserved: dict[int, UnservedRow] = {}
    for row in steps:
        if row.status != StepStatus.WAITING:
            continue
        closing = last_close.get(row.service_id)
        if closing is not None and closing > at:
            continue  # a desk for it is still (planned to be) open
        entry = unserved.get(row.service_id)
        if entry is None:
            entry = unserved[row.service_id] = UnservedRow(
                row.service_id, row.name, row.agency_id, agencies_db[row.agency_id].short_name, 0, closing)
        entry.count += 1
        if closing is None or row.arrived_at >= closing:
            entry.arrived_after_close += 1
    unserved_rows = sorted(unserved.values(), key=lambda r: (-r.count, r.agency_name, r.service_name))

    latest_close = max((d.closes_at for d in desks), default=None)
    report = HoursReport(hours=rows, agencies=list(infos.values()), unserved=unserved_rows, recommendations=[],
                         at=at, latest_close=latest_close,
                         after_close=sum(1 for a in arrivals if latest_close and a >= latest_close))
    report.recommendations = recommendations(report)
    return report


def _desks_word(n: int) -> str:
    return ORDINALS[n] if n in ORDINALS else _l("loket ke-%(n)d", n=n)


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else str(_l("%(names)s dan %(last)s", names=", ".join(names[:-1]),
                                                     last=names[-1]))


def recommendations(report: HoursReport) -> list[str]:
    """Plain-Indonesian advice for the next event, computed from the report. Lazy strings: shown in the language
    of the request that reads them (Indonesian outside a request)."""
    advice: list[str] = []
    closed_runs: dict[tuple[datetime, datetime], list[tuple[str, int]]] = defaultdict(list)
    for info in report.agencies:
        # Runs of consecutive hours in which this agency's demand exceeded its capacity.
        runs: list[list[HourRow]] = []
        for row in report.hours:
            cell = row.agencies[info.id]
            if cell.exceeded and cell.demand > 0:
                # A run continues in the next hour while desks stay open (or stay closed).
                if runs and runs[-1][-1].start + timedelta(hours=1) == row.start and \
                        (runs[-1][-1].agencies[info.id].open_desks == 0) == (cell.open_desks == 0):
                    runs[-1].append(row)
                else:
                    runs.append([row])
        for run in runs:
            start, end = run[0].start, run[-1].start + timedelta(hours=1)
            needed = max(math.ceil(r.agencies[info.id].demand / info.per_desk_per_hour) for r in run)
            have = min(r.agencies[info.id].open_desks for r in run)
            if have == 0:
                closed_runs[(start, end)].append((info.name, sum(r.agencies[info.id].demand for r in run)))
                continue
            peak = max(run, key=lambda r: r.agencies[info.id].demand - r.agencies[info.id].capacity)
            cell = peak.agencies[info.id]
            detail = _l("pukul %(hour)s: %(demand)d layanan diminta, kapasitas sekitar %(capacity)d per jam dengan "
                        "%(desks)d loket", hour=peak.label, demand=cell.demand, capacity=math.floor(cell.capacity),
                        desks=cell.open_desks)
            if needed <= have:
                advice.append(_l("%(agency)s perlu menambah jam layanan atau mempercepat pelayanan pukul "
                                 "%(start)s–%(end)s (%(detail)s).", agency=info.name, start=_clock(start),
                                 end=_clock(end), detail=detail))
            elif needed == have + 1:
                advice.append(_l("%(agency)s perlu %(desk)s dibuka pukul %(start)s sampai %(end)s (%(detail)s).",
                                 agency=info.name, desk=_desks_word(needed), start=_clock(start), end=_clock(end),
                                 detail=detail))
            else:
                advice.append(_l("%(agency)s perlu %(needed)d loket terbuka pukul %(start)s–%(end)s, %(more)d lebih "
                                 "banyak dari hari ini (%(detail)s).", agency=info.name, needed=needed,
                                 start=_clock(start), end=_clock(end), more=needed - have, detail=detail))
    for (start, end), items in sorted(closed_runs.items()):
        total = sum(n for _name, n in items)
        advice.append(_l("%(agencies)s perlu loket yang tetap buka pukul %(start)s–%(end)s: %(total)d layanan "
                         "diminta saat loketnya sudah tutup.", agencies=_names([name for name, _n in items]),
                         start=_clock(start), end=_clock(end), total=total))
    by_close: dict[datetime | None, list[UnservedRow]] = defaultdict(list)
    for row in report.unserved:
        by_close[row.last_close].append(row)
    for closing in sorted(by_close, key=lambda c: (c is None, c or report.at)):
        rows = by_close[closing]
        total = sum(r.count for r in rows)
        if closing is None:
            advice.append(_l("%(total)d warga meminta layanan yang tidak dibuka di loket mana pun (%(services)s): "
                             "sediakan loketnya pada kegiatan berikutnya.", total=total,
                             services=_names(sorted({r.service_name for r in rows}))))
        elif report.latest_close and closing < report.latest_close:
            services = _names([f"{r.service_name} ({r.agency_name})" for r in rows])
            advice.append(_l("%(services)s hanya dilayani sampai pukul %(closing)s; %(total)d warga masih menunggu: "
                             "sediakan layanan itu di loket yang buka sampai pukul %(latest)s.", services=services,
                             closing=_clock(closing), total=total, latest=_clock(report.latest_close)))
        else:
            counts: dict[str, int] = defaultdict(int)
            for r in rows:
                counts[r.agency_name] += r.count
            listing = _names([f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1])])
            advice.append(_l("Saat loket terakhir tutup pukul %(closing)s, %(total)d warga masih menunggu "
                             "(%(listing)s): perpanjang jam loket atau tambah loket sampai antrean habis.",
                             closing=_clock(closing), total=total, listing=listing))
    if report.after_close and report.latest_close:
        advice.append(_l("%(n)d warga datang setelah loket terakhir tutup pukul %(latest)s: buka layanan lebih "
                         "lama untuk warga yang pulang kerja.", n=report.after_close,
                         latest=_clock(report.latest_close)))
    if not advice and any(h.arrivals for h in report.hours):
        advice.append(_l("Kapasitas loket mencukupi sepanjang hari: pertahankan jumlah dan jam loket yang sama."))
    return advice
