"""The coordinator's live view of an event day: per service and per desk how the day is going, the closing
forecast of every service (domain/forecast.py) and the alerts. A reading module: no writes, no Flask request.

Everything is computed from the steps' timestamps and the audit log's desk entries as of a moment `at`, so
the event report can ask "what did the forecast say at 11.00?" without any stored snapshot: waiting at `at`
= arrived by then and not yet called; a desk's pace = what it finished by then; a desk's state and hours at
`at` = the audit log's last `desk.state` entry before it and the `old_*` times of its first `desk.hours`
entry after it. For the live view (`at` None) the steps' current states are used directly.

The state is computed once per (event, queue version, minute) per process and shared by every open live view
(`cached_live_state`), like the board's: several coordinators watching cost one computation.
"""
from __future__ import annotations

import statistics
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import ACTIVE_STEP_STATES, AuditLog, Desk, DeskState, Event, EventStatus, Service, Step, StepStatus, \
    Visit
from . import forecast as fc
from .clock import now as clock_now, to_wib

SERVED_WINDOW = timedelta(minutes=30)
WAIT_WINDOW = timedelta(minutes=60)
RATE_SAMPLE = 20             # a desk's pace is measured on its latest finished services, up to this many
IDLE_ALERT_MINUTES = 10
PAUSE_ALERT_MINUTES = 20
PAST_EVENTS = 10             # past events of the same kind of venue whose arrivals make the hourly pattern

# The kind of venue, read from the venue's words (the event has no field for it): BOTRAM days are held in
# markets, village halls, fields, offices of the kecamatan, schools and mosques.
VENUE_KINDS = (("pasar", ("pasar",)), ("balai", ("balai", "aula", "gedung")), ("lapangan", ("lapangan", "alun")),
               ("kantor", ("kantor", "kecamatan")), ("sekolah", ("sekolah", "sd ", "smp", "sma")),
               ("masjid", ("masjid", "musala", "mushola")))


def venue_kind(venue: str) -> str:
    """The kind of venue named in `venue` (lower-case keyword match), "lain" when none fits."""
    text = f" {venue.lower()} "
    for kind, words in VENUE_KINDS:
        if any(word in text for word in words):
            return kind
    return "lain"


def _minutes_into(event: Event, moment: datetime) -> float:
    """Minutes since midnight WIB of the event's day, held within that day: looking at an event on another
    day sees it before it began (0) or after it ended (24.00), never a clock time of today on its timeline."""
    from datetime import time as time_of_day

    from .clock import wib_to_utc

    minutes = (moment - wib_to_utc(event.date, time_of_day(0))).total_seconds() / 60
    return min(max(minutes, 0.0), 24 * 60.0)


def minutes_of_day(moment: datetime) -> float:
    local = to_wib(moment)
    return local.hour * 60 + local.minute + local.second / 60


@dataclass(frozen=True)
class LiveService:
    id: int
    name: str
    agency: str
    agency_color: str
    waiting: int
    served_recent: int               # finished in the last 30 minutes
    median_wait: float | None        # minutes, of those called in the last hour
    longest_wait: float | None       # minutes, the longest wait of those still waiting
    forecast: fc.Forecast
    fix_desk_id: int | None = None   # the desk `forecast.fix` extends


@dataclass(frozen=True)
class LiveDesk:
    id: int
    number: int
    label: str
    agency: str
    agency_color: str
    state: str
    busy: bool                       # calling or serving someone now
    per_hour: float
    measured: int
    opens_wib: str
    closes_wib: str
    idle_minutes: float | None       # open, nobody at the desk, people waiting for its services
    paused_minutes: float | None


@dataclass(frozen=True)
class Alert:
    kind: str                        # idle, unserved, paused
    desk_number: int | None = None
    service: str | None = None
    minutes: int | None = None
    low: int | None = None
    high: int | None = None
    closes: str | None = None


@dataclass(frozen=True)
class LiveState:
    event_id: int
    version: int
    at: datetime
    at_wib: str
    used_pattern: bool
    pattern_events: int
    services: list[LiveService] = field(default_factory=list)
    desks: list[LiveDesk] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)

    def rendered(self, key: str, render) -> str:
        """`render()` once per state and `key` (template and locale), shared by every live view."""
        cache = self.__dict__.setdefault("_rendered", {})
        if key not in cache:
            cache[key] = render()
        return cache[key]


def _desk_entries(event_id: int):
    """The audit log's desk state and hours entries of the event, oldest first."""
    query = sa.select(AuditLog.entity_id, AuditLog.action, AuditLog.at, AuditLog.detail).where(
        AuditLog.event_id == event_id, AuditLog.entity == "desk",
        AuditLog.action.in_(("desk.state", "desk.hours"))).order_by(AuditLog.at, AuditLog.id)
    return db.session.execute(query).all()


def _past_pattern(event: Event) -> tuple[dict[int, float] | None, int]:
    """The hourly pattern of arrivals at the latest past events held at the same kind of venue."""
    kind = venue_kind(event.venue)
    candidates = db.session.execute(
        sa.select(Event.id, Event.venue).where(Event.id != event.id, Event.date < event.date,
                                               Event.status != EventStatus.DRAFT)
        .order_by(Event.date.desc()).limit(PAST_EVENTS * 5)).all()
    ids = [eid for eid, venue in candidates if venue_kind(venue) == kind][:PAST_EVENTS]
    if not ids:
        return None, 0
    days: dict[int, list[float]] = defaultdict(list)
    for eid, created in db.session.execute(
            sa.select(Visit.event_id, Visit.created_at).where(Visit.event_id.in_(ids))):
        days[eid].append(minutes_of_day(created))
    return fc.hourly_pattern(list(days.values())), len(days)


def live_state(event: Event, at: datetime | None = None) -> LiveState:
    """The live view's state of `event` now (`at` None) or as it was at `at` (the report's looking back)."""
    live = at is None
    moment = at or clock_now()
    now_min = _minutes_into(event, moment)
    desks = db.session.scalars(sa.select(Desk).where(Desk.event_id == event.id)
                               .options(selectinload(Desk.services), selectinload(Desk.agency))
                               .order_by(Desk.number)).all()
    services: dict[int, Service] = {}
    for desk in desks:
        for service in desk.services:
            services.setdefault(service.id, service)
    steps = db.session.execute(
        sa.select(Step.service_id, Step.status, Step.arrived_at, Step.called_at, Step.finished_at, Step.desk_id,
                  Step.transferred_from_id).where(Step.event_id == event.id)).all()
    for service in db.session.scalars(sa.select(Service).where(
            Service.id.in_({s.service_id for s in steps} - set(services)))):
        services[service.id] = service  # asked for at reception, yet no desk offers it

    # Desk states and hours as of `moment`, from the audit log (the live view: the rows themselves).
    state_at = {d.id: d.state for d in desks}
    state_since: dict[int, datetime] = {}
    hours_at = {d.id: (d.opens_at, d.closes_at) for d in desks}
    later_hours: dict[int, dict] = {}
    for desk_id, action, when, detail in _desk_entries(event.id):
        detail = detail or {}
        if action == "desk.state" and when <= moment:
            state_since[desk_id] = when
            if not live and detail.get("after"):
                state_at[desk_id] = detail["after"]
        elif action == "desk.hours" and when > moment and desk_id not in later_hours:
            later_hours[desk_id] = detail
    if not live:
        for desk in desks:
            if desk.id not in state_since:
                state_at[desk.id] = DeskState.CLOSED
            detail = later_hours.get(desk.id)
            if detail and detail.get("old_opens") and detail.get("old_closes"):
                hours_at[desk.id] = tuple(_on_day(event, detail[k], desk) for k in ("old_opens", "old_closes"))

    def waiting_at(row) -> bool:
        if live:
            return row.status == StepStatus.WAITING
        if row.arrived_at > moment or row.status == StepStatus.CANCELLED or row.transferred_from_id is not None:
            return False
        return row.called_at is None or row.called_at > moment

    waiting: dict[int, list] = defaultdict(list)
    arrivals: dict[int, list[float]] = defaultdict(list)
    served_recent: dict[int, int] = defaultdict(int)
    waits: dict[int, list[float]] = defaultdict(list)
    finished_by_desk: dict[int, list[tuple[datetime, float]]] = defaultdict(list)
    last_finish: dict[int, datetime] = {}
    busy: set[int] = set()
    for row in steps:
        if row.arrived_at <= moment and row.transferred_from_id is None:
            arrivals[row.service_id].append(minutes_of_day(row.arrived_at))
        if waiting_at(row):
            waiting[row.service_id].append(row.arrived_at)
        if live and row.status in ACTIVE_STEP_STATES and row.desk_id is not None:
            busy.add(row.desk_id)
        if row.finished_at is not None and row.finished_at <= moment and row.called_at is not None:
            if row.status == StepStatus.DONE and moment - row.finished_at <= SERVED_WINDOW:
                served_recent[row.service_id] += 1
            if moment - row.finished_at <= WAIT_WINDOW:
                waits[row.service_id].append(max(0.0, (row.called_at - row.arrived_at).total_seconds() / 60))
            if row.desk_id is not None:
                finished_by_desk[row.desk_id].append(
                    (row.finished_at, (row.finished_at - row.called_at).total_seconds() / 60))
                last_finish[row.desk_id] = max(last_finish.get(row.desk_id, row.finished_at), row.finished_at)

    pattern, pattern_events = _past_pattern(event)
    opened = minutes_of_day(min([event.opens_at] + [h[0] for h in hours_at.values()]))
    arrivals_until = _minutes_into(event, event.closes_at)  # reception registers until the event's closing

    capacities: dict[int, fc.DeskCapacity] = {}
    desk_rows: list[LiveDesk] = []
    for desk in desks:
        finished = [minutes for _, minutes in sorted(finished_by_desk[desk.id])[-RATE_SAMPLE:]]
        targets = [s.target_minutes for s in desk.services] or [10]
        per_hour, measured = fc.rate_per_hour(finished, sum(targets) / len(targets))
        opens, closes = hours_at[desk.id]
        state = state_at[desk.id]
        capacities[desk.id] = fc.DeskCapacity(number=desk.number, opens=minutes_of_day(opens),
                                              closes=minutes_of_day(closes), per_hour=per_hour,
                                              measured=measured, state=state)
        people_waiting = any(waiting[s.id] for s in desk.services)
        idle = paused = None
        if state == DeskState.OPEN and desk.id not in busy and people_waiting and opens <= moment < closes:
            # idle "while people wait": from the latest of its opening, its last finish, its last state change
            # and the moment someone first waited for one of its services
            first_waiting = min(t for s in desk.services for t in waiting[s.id])
            since = max([opens, first_waiting] + [t for t in (last_finish.get(desk.id), state_since.get(desk.id))
                                                  if t])
            idle = max(0.0, (moment - since).total_seconds() / 60)
        if state == DeskState.PAUSED and desk.id in state_since:
            paused = max(0.0, (moment - state_since[desk.id]).total_seconds() / 60)
        desk_rows.append(LiveDesk(
            id=desk.id, number=desk.number, label=desk.label, agency=desk.agency.short_name,
            agency_color=desk.agency.color, state=state, busy=desk.id in busy, per_hour=per_hour,
            measured=measured, opens_wib=fc.hhmm(minutes_of_day(opens)), closes_wib=fc.hhmm(minutes_of_day(closes)),
            idle_minutes=idle, paused_minutes=paused))

    # What each service still needs decides how a shared desk's time is split between its services.
    offered = {d.id: {s.id for s in d.services} for d in desks}
    days: dict[int, fc.ServiceDay] = {}
    demand: dict[int, float] = {}
    for sid in services:
        service_desks = [capacities[d] for d, offered_ids in offered.items() if sid in offered_ids]
        days[sid] = fc.ServiceDay(now=now_min, opened=opened, waiting=len(waiting[sid]), arrivals=arrivals[sid],
                                  desks=service_desks, pattern=pattern, arrivals_until=arrivals_until)
        demand[sid] = len(waiting[sid]) + fc.expected_arrivals(days[sid], arrivals_until)[0]
    shares = fc.desk_shares(offered, demand)
    desk_by_number = {d.number: d.id for d in desks}
    service_rows: list[LiveService] = []
    for sid, service in services.items():
        day = days[sid]
        shared = [fc.DeskCapacity(**{**c.__dict__, "share": shares[desk_id, sid]})
                  for desk_id, c in capacities.items() if sid in offered[desk_id]]
        result = fc.forecast(fc.ServiceDay(**{**day.__dict__, "desks": shared}))
        fix_desk = desk_by_number.get(result.fix.desk_number) if result.fix and result.fix.desk_number else None
        sample = waits[sid]
        service_rows.append(LiveService(
            id=sid, name=service.name, agency=service.agency.short_name, agency_color=service.agency.color,
            waiting=len(waiting[sid]), served_recent=served_recent[sid],
            median_wait=statistics.median(sample) if sample else None,
            longest_wait=max(((moment - t).total_seconds() / 60 for t in waiting[sid]), default=None),
            forecast=result, fix_desk_id=fix_desk))
    service_rows.sort(key=lambda s: (-s.forecast.unserved, s.agency, s.name))

    alerts: list[Alert] = []
    for service in service_rows:
        if service.forecast.at_risk:
            alerts.append(Alert("unserved", service=service.name, low=service.forecast.low,
                                high=service.forecast.high, closes=service.forecast.closes_hhmm))
    for desk in desk_rows:
        if desk.idle_minutes is not None and desk.idle_minutes >= IDLE_ALERT_MINUTES:
            alerts.append(Alert("idle", desk_number=desk.number, minutes=int(desk.idle_minutes)))
        if desk.paused_minutes is not None and desk.paused_minutes > PAUSE_ALERT_MINUTES:
            alerts.append(Alert("paused", desk_number=desk.number, minutes=int(desk.paused_minutes)))
    return LiveState(event_id=event.id, version=event.queue_version, at=moment,
                     at_wib=to_wib(moment).strftime("%H.%M"), used_pattern=pattern is not None,
                     pattern_events=pattern_events, services=service_rows, desks=desk_rows, alerts=alerts)


def _on_day(event: Event, hhmm: str, desk: Desk) -> datetime:
    from datetime import time as time_of_day

    from .clock import wib_to_utc

    hour, minute = (int(part) for part in hhmm.split(":"))
    return wib_to_utc(event.date, time_of_day(hour, minute))


# ------------------------------------------------------------------ the report: then against what happened

@dataclass(frozen=True)
class LookBack:
    """What the forecast said for one service at one hour, against the unserved count of the day."""

    service: str
    low: int
    high: int
    middle: float
    actual: int

    @property
    def inside(self) -> bool:
        return self.low <= self.actual <= self.high


LOOK_BACK_HOURS = (11, 13)


def look_back(event: Event, unserved_by_service: dict[int, int]) -> dict[int, list[LookBack]]:
    """Per hour of LOOK_BACK_HOURS already past: every service's forecast made then, and the day's actual
    unserved count (the hours report's). Only services that had someone waiting or unserved are listed."""
    from datetime import time as time_of_day

    from .clock import wib_to_utc

    result: dict[int, list[LookBack]] = {}
    for hour in LOOK_BACK_HOURS:
        moment = wib_to_utc(event.date, time_of_day(hour, 0))
        if moment > clock_now() or moment < event.opens_at:
            continue
        then = live_state(event, at=moment)
        rows = [LookBack(service=s.name, low=s.forecast.low, high=s.forecast.high, middle=s.forecast.unserved,
                         actual=unserved_by_service.get(s.id, 0))
                for s in then.services if s.waiting or s.forecast.unserved or unserved_by_service.get(s.id)]
        result[hour] = rows
    return result


# ------------------------------------------------------------------ computed once per version and minute

class _LiveCache:
    def __init__(self, size: int = 32):
        self.size = size
        self.states: "OrderedDict[tuple[int, int, int], LiveState]" = OrderedDict()
        self.lock = threading.Lock()
        self.computing: dict[int, threading.Lock] = {}

    def computing_lock(self, event_id: int) -> threading.Lock:
        with self.lock:
            return self.computing.setdefault(event_id, threading.Lock())


def minute_bucket(moment: datetime | None = None) -> int:
    """The minute a live state belongs to: idle and waiting times move with the clock, not only with the queue."""
    return int((moment or clock_now()).timestamp() // 60)


def cached_live_state(event: Event) -> LiveState:
    """The live state of `event` at its current version and this minute, computed once per process."""
    extensions = current_app.extensions
    cache: _LiveCache = extensions.setdefault("botram_live_states", _LiveCache())
    key = (event.id, event.queue_version, minute_bucket())
    with cache.lock:
        state = cache.states.get(key)
    if state is not None:
        return state
    with cache.computing_lock(event.id):
        with cache.lock:
            state = cache.states.get(key)
        if state is None:
            state = live_state(event)
            with cache.lock:
                cache.states[key] = state
                while len(cache.states) > cache.size:
                    cache.states.popitem(last=False)
    return state
