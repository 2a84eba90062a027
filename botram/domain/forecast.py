"""The closing forecast of one service: how many of those waiting and still to come will not be served by the
time its last desk closes, with a range, and what would fix it. docs/forecast.md explains the model.

Pure functions on plain numbers (times are minutes since midnight WIB), so the live view, the event report
("what the forecast said at 11.00") and bench/forecast_backtest.py all run the same arithmetic. No database,
no Flask here.

In short: expected arrivals until the event closes = arrivals so far scaled by the hourly pattern of past
events at the same kind of venue (without one: the last hour's pace, held); capacity = Σ over the service's desks of
(measured people per minute × the share of the desk's time this service gets × minutes still open);
unserved = waiting + expected arrivals − capacity, never below 0. The range widens with the arrivals' Poisson
noise, the pattern's uncertainty and how few services the rates were measured from.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

RECENT_MINUTES = 60.0       # the window for the pace of arrivals when there is no past pattern
PAUSE_ASSUMED_MINUTES = 15.0  # a paused desk is assumed back this long after now (a short break)
EXTEND_STEP_MINUTES = 30    # extensions are offered in half hours
MAX_EXTENSION_MINUTES = 120  # beyond this, one desk staying late is not the fix: open another
LATEST_CLOSE = 23 * 60 + 59  # a desk never closes past midnight of the event's day
Z80 = 1.2816                # the range is a central 80 % band
ARRIVAL_SPREAD_PATTERN = 0.15  # relative error of the arrivals expected from a past pattern
ARRIVAL_SPREAD_PACE = 0.30     # ... and from the last hour's pace held until closing
RATE_SPREAD_FLOOR = 0.10       # relative error of a desk's pace even when measured on many services
RATE_SPREAD_PER_SAMPLE = 0.6   # coefficient of variation of one service's duration (÷ √n measured)


@dataclass(frozen=True)
class DeskCapacity:
    """One desk as the forecast of one service sees it."""

    number: int
    opens: float            # minutes since midnight WIB
    closes: float
    per_hour: float         # people this desk finishes per hour (measured, else from the target minutes)
    measured: int           # how many finished services `per_hour` was measured on (0: a target, not a fact)
    state: str = "open"     # open, paused, closed
    share: float = 1.0      # share of the desk's time that goes to this service (it may serve several)

    def available_from(self, now: float) -> float:
        start = max(now, self.opens)
        if self.state == "paused":
            start = max(start, now + PAUSE_ASSUMED_MINUTES)
        return start

    def capacity(self, now: float, until: float | None = None) -> float:
        """People of this service the desk can still finish between now and its closing (or `until`)."""
        end = self.closes if until is None else min(self.closes, until)
        minutes = max(0.0, end - self.available_from(now))
        return self.per_hour / 60.0 * self.share * minutes


@dataclass(frozen=True)
class Fix:
    """What would serve everyone: stay open longer at one desk (applied with one press), or open another."""

    kind: str                      # "extend" or "add_desk"
    desk_number: int | None = None
    new_closes: float | None = None  # minutes since midnight WIB

    @property
    def new_closes_hhmm(self) -> str:
        return hhmm(self.new_closes) if self.new_closes is not None else ""


@dataclass(frozen=True)
class Forecast:
    closes: float | None           # the last desk's closing for this service; None: no desk offers it
    waiting: int
    expected_arrivals: float
    capacity: float
    unserved: float                # the middle estimate
    low: int
    high: int
    used_pattern: bool
    fix: Fix | None = None

    @property
    def at_risk(self) -> bool:
        """Whether the view should raise an alert: the middle estimate is at least one person."""
        return round(self.unserved) >= 1

    @property
    def closes_hhmm(self) -> str:
        return hhmm(self.closes) if self.closes is not None else ""


@dataclass(frozen=True)
class ServiceDay:
    """What the forecast of one service needs to know at `now`."""

    now: float
    opened: float                   # when the event opened (arrivals are counted from here)
    waiting: int
    arrivals: list[float]           # arrival times so far (minutes since midnight WIB) of this service
    desks: list[DeskCapacity] = field(default_factory=list)
    pattern: dict[int, float] | None = None  # share of a day's arrivals per WIB hour at past events
    # when people stop coming (the event's planned closing); None: when the service's last desk closes.
    # A desk kept open past it serves the backlog only, so the fix the forecast offers is the fix it then sees.
    arrivals_until: float | None = None


def hhmm(minutes: float) -> str:
    minutes = int(round(minutes))
    return f"{minutes // 60:02d}.{minutes % 60:02d}"


def _pattern_share(pattern: dict[int, float], lo: float, hi: float) -> float:
    """The pattern's share of a day's arrivals between `lo` and `hi` (minutes), hours counted pro rata."""
    total = 0.0
    for hour, share in pattern.items():
        start, end = hour * 60.0, hour * 60.0 + 60.0
        overlap = max(0.0, min(hi, end) - max(lo, start))
        total += share * overlap / 60.0
    return total


def expected_arrivals(day: ServiceDay, until: float) -> tuple[float, bool]:
    """Arrivals expected from now until `until`, and whether a past pattern was used.

    With a pattern (and at least 5 % of its day behind us): the arrivals so far × remaining share ÷ elapsed
    share, so an after-work wave seen at past events is expected even at 10.00. Without: the pace of the last
    hour (or since opening), held until `until`.
    """
    if until <= day.now:
        return 0.0, False
    so_far = sum(1 for t in day.arrivals if t <= day.now)
    if day.pattern:
        elapsed = _pattern_share(day.pattern, day.opened, day.now)
        remaining = _pattern_share(day.pattern, day.now, until)
        if elapsed >= 0.05:
            return so_far * remaining / elapsed, True
    window = min(RECENT_MINUTES, day.now - day.opened)
    if window <= 0:
        return 0.0, False
    recent = sum(1 for t in day.arrivals if day.now - window < t <= day.now)
    return recent / window * (until - day.now), False


def service_closing(desks: list[DeskCapacity]) -> float | None:
    return max((d.closes for d in desks), default=None)


def forecast(day: ServiceDay) -> Forecast:
    """The closing forecast of one service (module docstring)."""
    closes = service_closing(day.desks)
    if closes is None:  # no desk offers it: everyone waiting and to come is unserved, the fix is a desk
        return Forecast(closes=None, waiting=day.waiting, expected_arrivals=0.0, capacity=0.0,
                        unserved=float(day.waiting), low=day.waiting, high=day.waiting, used_pattern=False,
                        fix=Fix("add_desk") if day.waiting else None)
    arrivals, used_pattern = expected_arrivals(day, closes if day.arrivals_until is None else day.arrivals_until)
    capacity = sum(d.capacity(day.now) for d in day.desks)
    middle = max(0.0, day.waiting + arrivals - capacity)
    spread_arrivals = math.sqrt(arrivals + ((ARRIVAL_SPREAD_PATTERN if used_pattern else ARRIVAL_SPREAD_PACE)
                                            * arrivals) ** 2)
    spread_capacity = math.sqrt(sum(
        (d.capacity(day.now) * (RATE_SPREAD_FLOOR + RATE_SPREAD_PER_SAMPLE / math.sqrt(max(d.measured, 1)))) ** 2
        for d in day.desks))
    spread = math.sqrt(spread_arrivals ** 2 + spread_capacity ** 2)
    raw = day.waiting + arrivals - capacity
    low = max(0, math.floor(raw - Z80 * spread))
    high = max(0, math.ceil(raw + Z80 * spread))
    result = Forecast(closes=closes, waiting=day.waiting, expected_arrivals=arrivals, capacity=capacity,
                      unserved=middle, low=low, high=high, used_pattern=used_pattern)
    if not result.at_risk:
        return result
    return Forecast(**{**result.__dict__, "fix": suggest_fix(day.desks, middle, day.now)})


def suggest_fix(desks: list[DeskCapacity], unserved: float, now: float) -> Fix:
    """Extend the desk that closes last (the fastest of those) by whole half hours until its extra time covers
    `unserved`; when that takes more than MAX_EXTENSION_MINUTES or runs past midnight, open another desk."""
    last = max(desks, key=lambda d: (d.closes, d.per_hour * d.share))
    per_minute = last.per_hour / 60.0 * last.share
    if per_minute <= 0:
        return Fix("add_desk")
    needed = unserved / per_minute
    # the extra time starts at the closing, or when the desk is back if it is away past its closing
    start = max(last.closes, last.available_from(now))
    steps = max(1, math.ceil((start - last.closes + needed) / EXTEND_STEP_MINUTES))
    minutes = steps * EXTEND_STEP_MINUTES
    if minutes > MAX_EXTENSION_MINUTES or last.closes + minutes > LATEST_CLOSE:
        return Fix("add_desk")
    return Fix("extend", desk_number=last.number, new_closes=last.closes + minutes)


def desk_shares(desk_services: dict[int, set[int]], demand: dict[int, float]) -> dict[tuple[int, int], float]:
    """The share of each desk's time each of its services gets: in proportion to what each still needs
    (waiting + expected); equal shares when none needs anything. Keys are (desk id, service id)."""
    shares: dict[tuple[int, int], float] = {}
    for desk_id, services in desk_services.items():
        total = sum(max(0.0, demand.get(s, 0.0)) for s in services)
        for service_id in services:
            shares[desk_id, service_id] = (max(0.0, demand.get(service_id, 0.0)) / total if total > 0
                                           else 1.0 / len(services))
    return shares


def rate_per_hour(durations_minutes: list[float], target_minutes: float) -> tuple[float, int]:
    """A desk's pace: 60 ÷ the mean minutes from call to finish of what it finished (the latest ones the
    caller passes), else 60 ÷ the target minutes of its services. Returns (people per hour, measured count)."""
    usable = [m for m in durations_minutes if m > 0]
    if usable:
        return 60.0 / max(0.5, sum(usable) / len(usable)), len(usable)
    return (60.0 / target_minutes if target_minutes > 0 else 0.0), 0


def hourly_pattern(days: list[list[float]]) -> dict[int, float] | None:
    """The mean share of a day's arrivals per WIB hour over past days (each a list of arrival minutes)."""
    shares: dict[int, float] = {}
    counted = 0
    for arrivals in days:
        if not arrivals:
            continue
        counted += 1
        for t in arrivals:
            hour = int(t // 60)
            shares[hour] = shares.get(hour, 0.0) + 1.0 / len(arrivals)
    if not counted:
        return None
    return {hour: share / counted for hour, share in sorted(shares.items())}
