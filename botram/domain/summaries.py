"""A closed event's figures, computed once into an `EventSummary` row and read by the reports.

A closed event's steps and answers change only through a few doors, and each refreshes its summary inside its
own unit of work: closing (`events.change_status`), a field check-in (`field._finish`), a survey answer typed
in after the day (`skm._save`), the PII purge (`privacy.purge_pii`) and a restore from a backup
(`refresh_closed_events`, run by `botram restore`). Pages then read one row per event instead of every step:
`event_report` for the report and its XLSX, `event_totals` for the regency view. Open and draft events (and a
closed event whose row is missing, e.g. just after the upgrade) keep the live computation.

The row keeps figures by ids (agencies, services); names and colours come from the catalogue when the report
is shown, so a renamed agency appears under its new name as it would in a fresh report.
`tests/test_summaries.py` proves a summary equals a fresh computation after every one of those changes.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Agency, BookingPlan, Event, EventStatus, EventSummary, Service, Step, StepStatus, SurveyResponse, Visit
from . import NotFound, skm, stats
from .clock import now as clock_now
from .hours import AgencyHour, AgencyInfo, HourRow, HoursReport, UnservedRow, recommendations
from .uow import unit_of_work


# ---------------------------------------------------------------------------------------------- writing

def _durations(d: stats.Durations) -> list:
    return [d.count, d.mean, d.p90]


def _group(g: stats.GroupRow) -> dict:
    return {"id": g.id, "visits": g.visit_count, "states": dict(g.states), "outcomes": dict(g.outcomes),
            "wait": _durations(g.wait), "service": _durations(g.service)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _totals(groups: dict) -> dict:
    """{id: (n, sums)} → JSON: {"id": [n, sums]}."""
    return {str(k): [n, sums] for k, (n, sums) in groups.items()}


def figures(report: stats.EventReport) -> dict:
    """The JSON a summary row keeps of an event report (what `report_from` turns back into one)."""
    event_id = report.event.id
    hours = report.hours
    (pop_agency, agency_totals), (pop_service, service_totals) = skm.group_totals(event_id)
    event_totals = skm.score_totals(where=[SurveyResponse.event_id == event_id]).get(None, (0, {}))
    counts = skm.profile_counts(event_id)
    return {
        "priority": dict(report.priority), "states": dict(report.states), "outcomes": dict(report.outcomes),
        "wait": _durations(report.wait), "service": _durations(report.service),
        "agencies": [_group(g) for g in report.agencies], "services": [_group(g) for g in report.services],
        "hours": {
            "rows": [{"hour": h.hour, "start": _iso(h.start), "arrivals": h.arrivals, "open_desks": h.open_desks,
                      "agencies": {str(aid): [c.demand, c.capacity, c.open_desks] for aid, c in h.agencies.items()}}
                     for h in hours.hours],
            "agencies": [[a.id, a.mean_minutes, a.measured] for a in hours.agencies],
            "unserved": [[u.service_id, u.agency_id, u.count, _iso(u.last_close), u.arrived_after_close]
                         for u in hours.unserved],
            "at": _iso(hours.at), "latest_close": _iso(hours.latest_close), "after_close": hours.after_close},
        "ikm": {"n": event_totals[0], "sums": event_totals[1], "population": report.ikm.population},
        "ikm_groups": {"agency": [{str(k): v for k, v in pop_agency.items()}, _totals(agency_totals)],
                       "service": [{str(k): v for k, v in pop_service.items()}, _totals(service_totals)]},
        "profile": {name: [[code, n] for code, n in c.items()] for name, c in counts.items()},
        "next_locations": [[n.code, n.desa, n.kecamatan, n.requests] for n in report.next_locations],
        "comments": [[c.comment, _iso(c.created_at)] for c in report.comments],
        "channels": dict(report.channels),
        "look_back": {str(hour): [[r.service, r.low, r.high, r.middle, r.actual] for r in rows]
                      for hour, rows in _look_back_live(report).items()},
    }


def _look_back_live(report: stats.EventReport) -> dict:
    # what the live view's forecast said at 11.00 and 13.00, against those left when the last desk closed
    # (the forecast counts arrivals until the closing, so those who came after it are not in its truth)
    from . import live  # live reads the queue through modules that import this one's callers

    actual = {r.service_id: r.count - r.arrived_after_close for r in report.hours.unserved}
    return live.look_back(report.event, actual)


def look_back(report: stats.EventReport) -> dict:
    """The event report's look-back at the live forecast (`live.look_back`): from the summary of a closed event
    (two replays of the day's queue, computed once), else live."""
    from . import live

    if report.event.status == EventStatus.CLOSED:
        row = db.session.get(EventSummary, report.event.id)
        if row is not None and "look_back" in row.figures:
            return {int(hour): [live.LookBack(*r) for r in rows] for hour, rows in row.figures["look_back"].items()}
    return _look_back_live(report)


@unit_of_work(audited=False)
def refresh(event_id: int, *, at: datetime | None = None) -> EventSummary | None:
    """Compute a closed event's summary afresh (nothing for an event that is not closed). Called inside the
    unit of work that changed the event, which it joins: the row commits, or rolls back, with the change itself.
    Not audited on its own: the change that asked for it is."""
    event = db.session.get(Event, event_id)
    if event is None or event.status != EventStatus.CLOSED:
        return None
    db.session.flush()  # the change this unit made is what the summary must count
    report = stats.event_report(event_id, at=at or clock_now())
    data = figures(report)
    from .booking import report as booking_report  # booking reaches the queue, whose modules import this one's callers

    # computed before the row is touched: a query after it would autoflush the row half-written, and a caller
    # that expires the session afterwards (a field import) would lose what was set after that flush
    booking = booking_report.summary_of(event_id, at=report.generated_at)
    row = db.session.get(EventSummary, event_id)
    if row is None:
        row = EventSummary(event_id=event_id)
        db.session.add(row)
    row.computed_at = report.generated_at
    row.visits = report.visits
    row.done_steps = report.states[StepStatus.DONE]
    row.respondents = data["ikm"]["n"]
    row.score_totals = data["ikm"]["sums"]
    row.requests = data["next_locations"]
    row.figures = data
    row.booking = booking
    return row


@unit_of_work(audited=False)
def refresh_closed_events(*, only_missing: bool = False) -> int:
    """Recompute the summary of every closed event (or only of those without one): after a restore from a
    backup, whose rows may predate the summaries, and after the upgrade that added them (`botram init`).
    Bookkeeping, not a person's action: nothing a person sees changes but how fast it comes."""
    query = sa.select(Event.id).where(Event.status == EventStatus.CLOSED).order_by(Event.id)
    if only_missing:
        query = query.where(Event.id.not_in(sa.select(EventSummary.event_id)))
    else:
        db.session.execute(sa.delete(EventSummary))
    ids = list(db.session.scalars(query))
    for event_id in ids:
        refresh(event_id)
    return len(ids)


# ---------------------------------------------------------------------------------------------- reading

def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _fixed(values: list) -> stats.FixedDurations:
    count, mean, p90 = values
    return stats.FixedDurations(fixed_count=count, fixed_mean=mean, fixed_p90=p90)


def _ints(groups: dict) -> dict:
    return {int(k): v for k, v in groups.items()}


def report_from(event: Event, row: EventSummary) -> stats.EventReport:
    """The event report as the summary row holds it, with today's names of agencies and services."""
    data = row.figures
    agencies = {a.id: a for a in db.session.scalars(sa.select(Agency))}
    service_ids = {g["id"] for g in data["services"]} | {u[0] for u in data["hours"]["unserved"]}
    services = {s.id: s for s in db.session.scalars(sa.select(Service).where(Service.id.in_(service_ids)))}

    def group(g: dict, kind: str) -> stats.GroupRow:
        if kind == "service":
            s = services[g["id"]]
            a = agencies[s.agency_id]
            row_ = stats.GroupRow(s.id, s.code, s.name, a.short_name, a.color)
        else:
            a = agencies[g["id"]]
            row_ = stats.GroupRow(a.id, a.code, a.short_name, a.short_name, a.color)
        row_.fixed_visits = g["visits"]
        row_.states, row_.outcomes = Counter(g["states"]), Counter(g["outcomes"])
        row_.wait, row_.service = _fixed(g["wait"]), _fixed(g["service"])
        return row_

    h = data["hours"]
    infos = [AgencyInfo(aid, agencies[aid].short_name, agencies[aid].color, mean, measured)
             for aid, mean, measured in h["agencies"]]
    hours = HoursReport(
        hours=[HourRow(hour=r["hour"], start=_when(r["start"]), arrivals=r["arrivals"], open_desks=r["open_desks"],
                       agencies={int(aid): AgencyHour(demand, capacity, desks)
                                 for aid, (demand, capacity, desks) in r["agencies"].items()})
               for r in h["rows"]],
        agencies=infos,
        unserved=[UnservedRow(sid, services[sid].name, aid, agencies[aid].short_name, count, _when(close), after)
                  for sid, aid, count, close, after in h["unserved"]],
        recommendations=[], at=_when(h["at"]), latest_close=_when(h["latest_close"]), after_close=h["after_close"])
    hours.recommendations = recommendations(hours)
    ikm = data["ikm"]
    (pop_a, tot_a), (pop_s, tot_s) = data["ikm_groups"]["agency"], data["ikm_groups"]["service"]
    ikm_agencies, ikm_services = skm.groups_from_totals(
        (_ints(pop_a), {k: tuple(v) for k, v in _ints(tot_a).items()}),
        (_ints(pop_s), {k: tuple(v) for k, v in _ints(tot_s).items()}))
    profile = {name: Counter({code: n for code, n in pairs}) for name, pairs in data["profile"].items()}
    return stats.EventReport(
        event=event, generated_at=row.computed_at, visits=row.visits, priority=Counter(data["priority"]),
        states=Counter(data["states"]), outcomes=Counter(data["outcomes"]), wait=_fixed(data["wait"]),
        service=_fixed(data["service"]),
        agencies=[group(g, "agency") for g in data["agencies"]],
        services=[group(g, "service") for g in data["services"]],
        hours=hours, ikm=skm.ikm_from_totals(ikm["n"], ikm["sums"], population=ikm["population"]),
        ikm_agencies=ikm_agencies, ikm_services=ikm_services, profile=skm.profile_rows(profile),
        next_locations=[skm.NextLocation(*n) for n in data["next_locations"]],
        comments=[skm.Comment(text, _when(at)) for text, at in data["comments"]],
        channels=Counter(data["channels"]))


def event_report(event_id: int) -> stats.EventReport:
    """The event report: from the summary when the event is closed and has one, else computed live."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(stats._l("Kegiatan tidak ditemukan."))
    if event.status == EventStatus.CLOSED:
        row = db.session.get(EventSummary, event_id)
        if row is not None:
            return report_from(event, row)
    return stats.event_report(event_id)


def event_totals(event_ids: list[int]) -> dict[int, tuple[int, int, tuple[int, dict]]]:
    """{event id: (visits, done steps, (respondents, score totals))} for the regency view: closed events from
    their summaries, the others (open, or closed without a row yet) counted live, only those events."""
    result: dict[int, tuple[int, int, tuple[int, dict]]] = {}
    if not event_ids:
        return result
    closed = sa.select(Event.id).where(Event.status == EventStatus.CLOSED)
    for event_id, visits, done, n, sums in db.session.execute(
            sa.select(EventSummary.event_id, EventSummary.visits, EventSummary.done_steps, EventSummary.respondents,
                      EventSummary.score_totals).where(EventSummary.event_id.in_(closed))):
        result[event_id] = (visits, done, (n, sums))
    live = [i for i in event_ids if i not in result]
    if live:
        visits = dict(db.session.execute(sa.select(Visit.event_id, sa.func.count()).where(Visit.event_id.in_(live))
                                         .group_by(Visit.event_id)).all())
        done = dict(db.session.execute(sa.select(Step.event_id, sa.func.count()).where(
            Step.event_id.in_(live), Step.status == StepStatus.DONE).group_by(Step.event_id)).all())
        answers = skm.score_totals(SurveyResponse.event_id, where=[SurveyResponse.event_id.in_(live)])
        for event_id in live:
            result[event_id] = (visits.get(event_id, 0), done.get(event_id, 0), answers.get(event_id, (0, {})))
    return result


def booked_rows(event_id: int) -> list:
    """The event report's booked vs walk-in rows (`booking.report.BookedRow`): from the summary of a closed
    event, else computed live."""
    from .booking import report as booking_report

    event = db.session.get(Event, event_id)
    if event is not None and event.status == EventStatus.CLOSED:
        row = db.session.get(EventSummary, event_id)
        if row is not None and row.booking is not None:
            names = dict(db.session.execute(sa.select(Service.id, Service.name).where(
                Service.id.in_([r[0] for r in row.booking["rows"]]))).all())
            rows = [booking_report.BookedRow(names.get(sid, ""), b, w, bw, ww, ns, sid)
                    for sid, b, w, bw, ww, ns in row.booking["rows"]]
            return sorted(rows, key=lambda r: r.service)
    return booking_report.booked_vs_walk_in(event_id)


def booking_totals(event_ids: list[int]) -> dict[int, list]:
    """Booked vs walk-in summed over these events, {service id: booking_report.TOTAL_FIELDS values}: closed
    events from their summaries' `booking` column, the others (and summaries from before it) computed live.
    Events that never opened booking add nothing."""
    from .booking import report as booking_report

    result: dict[int, list] = {}

    def add(totals: dict) -> None:
        for sid, values in totals.items():
            into = result.setdefault(int(sid), [0] * len(booking_report.TOTAL_FIELDS))
            for i, value in enumerate(values):
                into[i] += value

    if not event_ids:
        return result
    summarised = set()
    closed = sa.select(Event.id).where(Event.status == EventStatus.CLOSED, Event.id.in_(event_ids))
    for event_id, booking in db.session.execute(
            sa.select(EventSummary.event_id, EventSummary.booking).where(EventSummary.event_id.in_(closed),
                                                                         EventSummary.booking.is_not(None))):
        summarised.add(event_id)
        add(booking["totals"])
    live = [i for i in event_ids if i not in summarised]
    if live:
        for event_id in db.session.scalars(sa.select(BookingPlan.event_id).where(BookingPlan.event_id.in_(live))):
            add(booking_report.booking_totals(event_id) or {})
    return result


def next_locations(event_ids: list[int]) -> list[skm.NextLocation]:
    """Where citizens asked BOTRAM to go next, over these events, most requested first: closed events from their
    summaries' `requests`, the others counted live. (Over every event one GROUP BY over the answers is
    cheaper than adding up a thousand summaries: `skm.next_location_tally()`.)"""
    counts: Counter = Counter()
    names: dict[str, tuple[str, str]] = {}
    summarised = set()
    closed = sa.select(Event.id).where(Event.status == EventStatus.CLOSED, Event.id.in_(event_ids))
    for event_id, rows in db.session.execute(
            sa.select(EventSummary.event_id, EventSummary.requests).where(EventSummary.event_id.in_(closed))):
        summarised.add(event_id)
        for code, desa, kecamatan, n in rows:
            counts[code] += n
            names[code] = (desa, kecamatan)
    live = [i for i in event_ids if i not in summarised]
    if live:
        for row in skm.next_location_tally(event_ids=live):
            counts[row.code] += row.requests
            names[row.code] = (row.desa, row.kecamatan)
    return skm.ranked([skm.NextLocation(code, *names[code], n) for code, n in counts.items()])
