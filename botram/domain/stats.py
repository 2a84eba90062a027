"""The event report (laporan kegiatan) and `event_stats` for `GET /api/v1/events/<id>/stats`.

- Visits = tickets of the event; steps = one per requested service, counted by state.
- Wait time of a step = registration (arrived_at) → first call (called_at), for every step that was called.
  Service time = called_at → finished_at of done steps. Both in minutes: mean and 90th percentile
  (nearest-rank: the smallest value with at least 90 % of the values at or below it).
- Hours, capacity and unserved: see botram/domain/hours.py. IKM: botram/domain/skm.py.
Reads only; nothing here writes.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Agency, Event, Service, Step, StepStatus, Visit
from . import NotFound, skm
from .clock import now as clock_now
from .hours import HoursReport, hours_report

STATES = [s.value for s in StepStatus]
OUTCOMES = ("done", "incomplete", "referred")


def percentile(values: list[float], q: float = 0.9) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Durations:
    values: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return sum(self.values) / len(self.values) if self.values else None

    @property
    def p90(self) -> float | None:
        return percentile(self.values)

    def as_dict(self) -> dict:
        return {"count": self.count, "mean": _r1(self.mean), "p90": _r1(self.p90)}


@dataclass
class FixedDurations(Durations):
    """Durations as a summary row keeps them: the count, mean and 90th percentile, not every value."""

    fixed_count: int = 0
    fixed_mean: float | None = None
    fixed_p90: float | None = None

    @property
    def count(self) -> int:
        return self.fixed_count

    @property
    def mean(self) -> float | None:
        return self.fixed_mean

    @property
    def p90(self) -> float | None:
        return self.fixed_p90


def _r1(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


@dataclass
class GroupRow:
    id: int
    code: str
    name: str
    agency: str
    color: str
    visits: set = field(default_factory=set)
    states: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    wait: Durations = field(default_factory=Durations)
    service: Durations = field(default_factory=Durations)

    fixed_visits: int | None = None  # a summary's count of `visits` (the ids themselves are not kept)

    @property
    def visit_count(self) -> int:
        return self.fixed_visits if self.fixed_visits is not None else len(self.visits)

    @property
    def steps(self) -> int:
        return sum(v for k, v in self.states.items() if k != StepStatus.TRANSFERRED)

    @property
    def completed(self) -> int:
        """Steps finished with everything in order: a "belum lengkap" or "dirujuk" finish is not counted
        (the report shows those on their own)."""
        return self.outcomes["done"]


@dataclass
class EventReport:
    event: Event
    generated_at: datetime
    visits: int
    priority: Counter
    states: Counter
    outcomes: Counter
    wait: Durations
    service: Durations
    agencies: list[GroupRow]
    services: list[GroupRow]
    hours: HoursReport
    ikm: skm.IkmResult
    ikm_agencies: list[skm.GroupIkm]
    ikm_services: list[skm.GroupIkm]
    profile: dict
    next_locations: list[skm.NextLocation]
    comments: list
    channels: Counter

    @property
    def steps(self) -> int:
        return sum(v for k, v in self.states.items() if k != StepStatus.TRANSFERRED)

    @property
    def completed(self) -> int:
        """Steps finished with everything in order: a "belum lengkap" or "dirujuk" finish is not counted
        (the report shows those on their own)."""
        return self.outcomes["done"]


def event_report(event_id: int, *, at: datetime | None = None) -> EventReport:
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(_l("Kegiatan tidak ditemukan."))
    at = at or clock_now()
    rows = db.session.execute(
        sa.select(Step.visit_id, Step.status, Step.outcome, Step.arrived_at, Step.called_at, Step.finished_at,
                  Service.id, Service.code, Service.name, Agency.id, Agency.code, Agency.short_name, Agency.color)
        .join(Service, Service.id == Step.service_id).join(Agency, Agency.id == Service.agency_id)
        .where(Step.event_id == event_id)).all()
    states, outcomes = Counter({s: 0 for s in STATES}), Counter({o: 0 for o in OUTCOMES})
    wait, service = Durations(), Durations()
    by_service: dict[int, GroupRow] = {}
    by_agency: dict[int, GroupRow] = {}
    for (visit_id, status, outcome, arrived, called, finished, sid, scode, sname, aid, acode, aname,
         color) in rows:
        srow = by_service.get(sid)
        if srow is None:  # not setdefault, which built a GroupRow (two Counters, two Durations, a set) per step
            srow = by_service[sid] = GroupRow(sid, scode, sname, aname, color)
        arow = by_agency.get(aid)
        if arow is None:
            arow = by_agency[aid] = GroupRow(aid, acode, aname, aname, color)
        for group in (srow, arow):
            group.states[status] += 1
            if status != StepStatus.TRANSFERRED:
                group.visits.add(visit_id)
        states[status] += 1
        if status == StepStatus.DONE:
            outcomes[outcome or "done"] += 1
            srow.outcomes[outcome or "done"] += 1
            arow.outcomes[outcome or "done"] += 1
        if called is not None:
            minutes = max(0.0, (called - arrived).total_seconds() / 60)
            for target in (wait, srow.wait, arow.wait):
                target.values.append(minutes)
            if status == StepStatus.DONE and finished is not None:
                served = max(0.0, (finished - called).total_seconds() / 60)
                for target in (service, srow.service, arow.service):
                    target.values.append(served)
    priority = Counter(dict(db.session.execute(
        sa.select(Visit.priority, sa.func.count()).where(Visit.event_id == event_id).group_by(Visit.priority)).all()))
    channels = Counter(dict(db.session.execute(
        sa.select(skm.SurveyResponse.channel, sa.func.count()).where(skm.SurveyResponse.event_id == event_id)
        .group_by(skm.SurveyResponse.channel)).all()))
    ikm_agencies, ikm_services = skm.ikm_by_group(event_id)
    return EventReport(
        event=event, generated_at=at, visits=sum(priority.values()), priority=priority, states=states,
        outcomes=outcomes, wait=wait, service=service,
        agencies=sorted(by_agency.values(), key=lambda g: g.name),
        services=sorted(by_service.values(), key=lambda g: (g.agency, g.name)),
        hours=hours_report(event_id, at=at), ikm=skm.ikm_for_event(event_id), ikm_agencies=ikm_agencies,
        ikm_services=ikm_services, profile=skm.profile_tally(event_id),
        next_locations=skm.next_location_tally(event_id), comments=skm.comments(event_id), channels=channels)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def event_stats(event_id: int, *, at: datetime | None = None) -> dict:
    """What `GET /api/v1/events/<id>/stats` answers (docs/architecture.md, stable interfaces). Raises NotFound.

    No name, NIK, phone or comment text: only counts, times and scores."""
    return stats_payload(event_report(event_id, at=at))


def stats_payload(report: EventReport) -> dict:
    """An event report as the JSON of `event_stats`."""
    event = report.event
    hours = report.hours
    agency_names = {a.id: a.name for a in hours.agencies}

    def ikm_dict(result: skm.IkmResult) -> dict:
        return result.as_dict()

    return {
        "event": {"id": event.id, "title": event.title, "date": event.date.isoformat(), "status": event.status},
        "generated_at": _iso(report.generated_at),
        "visits": report.visits,
        "steps": {"total": report.steps, "by_state": dict(report.states)},
        "outcomes": dict(report.outcomes),
        "no_show": report.states[StepStatus.NO_SHOW],
        "wait_minutes": report.wait.as_dict(),
        "service_minutes": report.service.as_dict(),
        "services": [
            {"id": g.id, "code": g.code, "name": g.name, "agency": g.agency, "visits": g.visit_count,
             "steps": g.steps, "by_state": dict(g.states), "wait_minutes": g.wait.as_dict(),
             "service_minutes": g.service.as_dict()}
            for g in report.services],
        "agencies": [
            {"id": g.id, "code": g.code, "name": g.name, "visits": g.visit_count, "steps": g.steps,
             "by_state": dict(g.states), "wait_minutes": g.wait.as_dict(), "service_minutes": g.service.as_dict()}
            for g in report.agencies],
        "arrivals_per_hour": [
            {"hour": row.label, "start": _iso(row.start), "arrivals": row.arrivals, "open_desks": row.open_desks,
             "exceeded": [agency_names[aid] for aid in row.exceeded_agencies]}
            for row in hours.hours],
        "demand_exceeded": [
            {"hour": row.label, "agency": info.name, "demand": row.agencies[info.id].demand,
             "capacity": round(row.agencies[info.id].capacity, 1), "open_desks": row.agencies[info.id].open_desks}
            for info, row in hours.exceeded()],
        "unserved_at_closing": {
            "total": hours.unserved_total,
            "services": [{"service": r.service_name, "agency": r.agency_name, "count": r.count,
                          "arrived_after_close": r.arrived_after_close, "last_desk_closed_at": _iso(r.last_close)}
                         for r in hours.unserved]},
        "ikm": {
            **ikm_dict(report.ikm),
            "agencies": [{"agency": g.name, **ikm_dict(g.result)} for g in report.ikm_agencies],
            "services": [{"service": g.name, "agency": g.agency_name, **ikm_dict(g.result)}
                         for g in report.ikm_services],
        },
        "next_locations": [{"desa_code": n.code, "desa": n.desa, "kecamatan": n.kecamatan, "requests": n.requests}
                           for n in report.next_locations],
        "recommendations": [str(text) for text in hours.recommendations],  # lazy strings (domain.hours)
    }
