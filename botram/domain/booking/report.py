"""Booked vs walk-in, per service (reads only): visits, the wait from arrival to the first call, and booking
no-shows (computed on read, release.py).

- `booked_vs_walk_in`: the event report's rows (median waits).
- `booking_totals`: the same figures as sums that add up over events (visits, waits counted and summed, no-shows)
  for the regency view, which adds them from the event summaries (domain/summaries.py).
Only events that opened booking have figures: elsewhere every visitor walked in and nothing is compared.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from statistics import median

import sqlalchemy as sa

from ...extensions import db
from ...models import Booking, Service, Step, Visit
from .plan import plan_of
from .release import booking_state


@dataclass(frozen=True)
class BookedRow:
    service: str
    booked_visits: int
    walk_in_visits: int
    booked_wait: float | None     # median minutes from arrival to the call
    walk_in_wait: float | None
    no_shows: int
    service_id: int = 0


def _per_service(event_id: int, at: datetime | None) -> dict[int, dict] | None:
    """{service id: {"b", "w": visits, "bw", "ww": waits in minutes, "ns": no-shows}}; None without booking."""
    plan = plan_of(event_id)
    if plan is None:
        return None
    per: dict[int, dict] = {}
    for service_id, booked, arrived, called in db.session.execute(
            sa.select(Step.service_id, Visit.booked, Step.arrived_at, Step.called_at)
            .join(Visit, Visit.id == Step.visit_id).where(Step.event_id == event_id)):
        row = per.setdefault(service_id, {"b": 0, "w": 0, "bw": [], "ww": [], "ns": 0})
        row["b" if booked else "w"] += 1
        if called is not None:
            row["bw" if booked else "ww"].append((called - arrived).total_seconds() / 60)
    for found in db.session.scalars(sa.select(Booking).where(Booking.event_id == event_id)):
        if booking_state(found, plan.grace_minutes, at) == "no_show":
            for service in found.services:
                per.setdefault(service.id, {"b": 0, "w": 0, "bw": [], "ww": [], "ns": 0})["ns"] += 1
    # a service nobody booked and no booker asked for compares nothing
    return {sid: r for sid, r in per.items() if r["b"] or r["ns"]}


def rows_from(per: dict[int, dict]) -> list[BookedRow]:
    names = dict(db.session.execute(sa.select(Service.id, Service.name).where(Service.id.in_(list(per)))).all())
    rows = [BookedRow(names.get(sid, ""), r["b"], r["w"], round(median(r["bw"]), 1) if r["bw"] else None,
                      round(median(r["ww"]), 1) if r["ww"] else None, r["ns"], sid)
            for sid, r in per.items()]
    return sorted(rows, key=lambda r: r.service)


def booked_vs_walk_in(event_id: int, at: datetime | None = None) -> list[BookedRow]:
    """One row per service that had a booking or a booked visit; empty when the event had no booking."""
    return rows_from(_per_service(event_id, at) or {})


# [booked visits, walk-in visits, booked waits counted, their sum (minutes), walk-in waits counted, their sum,
# booking no-shows]: what adds up over events
TOTAL_FIELDS = ("booked", "walk_in", "booked_waits", "booked_wait_sum", "walk_in_waits", "walk_in_wait_sum",
                "no_shows")


def booking_totals(event_id: int, at: datetime | None = None) -> dict[int, list] | None:
    """{service id: TOTAL_FIELDS values} of one event; None when it had no booking."""
    per = _per_service(event_id, at)
    return None if per is None else _totals(per)


def _totals(per: dict[int, dict]) -> dict[int, list]:
    return {sid: [r["b"], r["w"], len(r["bw"]), round(sum(r["bw"]), 3), len(r["ww"]), round(sum(r["ww"]), 3),
                  r["ns"]] for sid, r in per.items()}


def summary_of(event_id: int, at: datetime | None = None) -> dict:
    """What an event summary keeps (`EventSummary.booking`): the report's rows by service id and the totals."""
    per = _per_service(event_id, at)
    if per is None:
        return {"rows": [], "totals": {}}
    rows = rows_from(per)
    totals = _totals(per)
    return {"rows": [[r.service_id, r.booked_visits, r.walk_in_visits, r.booked_wait, r.walk_in_wait, r.no_shows]
                     for r in rows],
            "totals": {str(sid): values for sid, values in totals.items()}}
