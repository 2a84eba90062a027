"""The queue's order, defined once (docs/queue-domain.md, "The order"): call_next, the desk's waiting list, the
wait estimate and the status page's "people ahead" all take it from here, bookings included.

1. Waiting steps of a desk's services are taken by KEY: priority rank (a priority group before everyone else),
   then the booked band (a booked step whose window has begun, `booked_from <= now`, is *due* and comes
   before every walk-in of its rank), then its queue time (a booked step's window start, else its arrival;
   a transferred step keeps its original arrival), then id. A booked step not yet due therefore waits as if
   it had arrived at its window's start: early, it may be called early when the desk runs dry.
2. Fairness cap for priority: after `priority_cap` priority calls in a row, a desk takes the first regular
   visitor by KEY before the next priority one (when a regular visitor waits).
3. Fairness cap for walk-ins: after `booking_cap` due booked calls in a row, a desk takes the first walk-in
   (a step that is not due) by KEY before the next due booked one (when a walk-in waits). Bound: at a desk,
   between two calls of walk-ins at most `booking_cap` due booked visitors are called (plus priority ones,
   which rule 2 bounds); so walk-ins are never starved by bookings.
4. A visit called or served at another desk is skipped and keeps its place.

Only a booker checked in by the start of their window has `booked_from` (domain/booking/checkin.py); a late one
is a walk-in. `call_sequence` plays rules 1-3 forward for one desk; "people ahead" is a step's place in it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

import sqlalchemy as sa

from ...models import Priority, Step
from ...models.types import UTCDateTime

REGULAR = Priority.NONE.rank
DUE, NOT_DUE = 0, 1


def _at(at):
    """`at` as an SQL value: a bound parameter named by a string (prepared statements), else the moment."""
    return sa.bindparam(at, type_=UTCDateTime()) if isinstance(at, str) else sa.literal(at, UTCDateTime())


def band(source, at):
    """DUE for a booked step whose window has begun at `at`, else NOT_DUE (rule 1)."""
    return sa.case((sa.and_(source.booked_from.is_not(None), source.booked_from <= _at(at)), DUE), else_=NOT_DUE)


def queue_time(source):
    return sa.func.coalesce(source.booked_from, source.arrived_at)


def key_columns(table=None, at: "datetime | str | None" = None) -> tuple:
    """KEY as columns of the step table (Core) or of the Step model (ORM), for ORDER BY, at the moment `at`
    (a datetime, or the name of a bound parameter; default now)."""
    from ..clock import now

    source = table.c if table is not None else Step
    return source.priority_rank, band(source, now() if at is None else at), queue_time(source), source.id


def python_key(rank: int, booked_from, arrived_at, step_id: int, at: datetime) -> tuple:
    """KEY in Python, for rows already loaded (the desk's list merges two queries)."""
    due = booked_from is not None and booked_from <= at
    return rank, DUE if due else NOT_DUE, booked_from or arrived_at, step_id


def regular_first(streak: int, cap: int) -> bool:
    """Rule 2: this desk owes the oldest regular visitor the next call."""
    return streak >= cap


def next_streak(streak: int, rank: int) -> int:
    """The desk's run of priority calls after it called a step of `rank`."""
    return 0 if rank == REGULAR else streak + 1


def walk_in_first(booked_streak: int, booking_cap: int) -> bool:
    """Rule 3: this desk owes the oldest walk-in the next call."""
    return booked_streak >= booking_cap


def next_booked_streak(booked_streak: int, due: bool) -> int:
    """The desk's run of due booked calls after a call (any other call ends it)."""
    return booked_streak + 1 if due else 0


@dataclass(frozen=True)
class Waiting:
    """A waiting step as the order needs it: rows already sorted by KEY (`due`: rule 1's booked band)."""
    step_id: int
    visit_id: int
    service_id: int
    rank: int
    due: bool = False


def pick(pending: Sequence[Waiting], *, streak: int, cap: int, booked_streak: int = 0,
         booking_cap: int | None = None) -> int:
    """The index in `pending` (sorted by KEY) a desk calls next: rules 2 and 3 over rule 1."""
    wants_regular = regular_first(streak, cap)
    wants_walk_in = booking_cap is not None and walk_in_first(booked_streak, booking_cap)
    for regular, walk_in in ((wants_regular, wants_walk_in), (wants_regular, False), (False, wants_walk_in)):
        if not (regular or walk_in):
            continue
        found = next((i for i, row in enumerate(pending)
                      if (not regular or row.rank == REGULAR) and (not walk_in or not row.due)), None)
        if found is not None:
            return found
    return 0


def call_sequence(waiting: Sequence[Waiting], *, streak: int, cap: int, booked_streak: int = 0,
                  booking_cap: int | None = None) -> list[Waiting]:
    """The order one desk calls `waiting` (sorted by KEY) in, starting from its current streaks, if nothing
    else arrives, no booked window begins meanwhile and every visitor answers: rules 1-3, exactly as call_next
    applies them."""
    pending = list(waiting)
    called: list[Waiting] = []
    while pending:
        row = pending.pop(pick(pending, streak=streak, cap=cap, booked_streak=booked_streak,
                               booking_cap=booking_cap))
        called.append(row)
        streak = next_streak(streak, row.rank)
        booked_streak = next_booked_streak(booked_streak, row.due)
    return called


def ahead_of(step_id: int, visit_id: int, waiting: Sequence[Waiting], *, streak: int, cap: int,
             booked_streak: int = 0, booking_cap: int | None = None) -> list[Waiting]:
    """The steps of other visits called before `step_id`, in call order."""
    ahead: list[Waiting] = []
    for row in call_sequence(waiting, streak=streak, cap=cap, booked_streak=booked_streak,
                             booking_cap=booking_cap):
        if row.step_id == step_id:
            return ahead
        if row.visit_id != visit_id:
            ahead.append(row)
    return ahead


def waiting_rows(event_id: int, service_ids: Iterable[int], at: datetime | None = None) -> list[Waiting]:
    """Every waiting step of the event for these services, by KEY at `at` (default now)."""
    from ...extensions import db
    from ..clock import now
    from .shared import WAITING

    ids = sorted(set(service_ids))
    if not ids:
        return []
    at = at or now()
    rows = db.session.execute(
        sa.select(Step.id, Step.visit_id, Step.service_id, Step.priority_rank, band(Step, at) == DUE)
        .where(Step.event_id == event_id, Step.service_id.in_(ids), Step.status == WAITING)
        .order_by(*key_columns(at=at)))
    return [Waiting(*row[:4], due=bool(row[4])) for row in rows]
