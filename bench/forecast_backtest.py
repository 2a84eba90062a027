"""Backtest of the closing forecast (botram/domain/forecast.py) on generated event days.

    .venv/bin/python bench/forecast_backtest.py [--days 60] [--seed 1]

Each generated day is one service at an event open 08.00–16.00 WIB with three desks: arrivals are a Poisson
stream whose hourly rate follows the day's shape (a morning rush, an after-work wave, a flat day with a desk
that pauses 10.30–12.00), served first come first served by whichever desk is free, durations log-normal around
each desk's own mean. A desk starts no one at or after its closing; whoever is still waiting then is unserved.

At 10.00, 11.00, 12.00, 13.00 and 14.00 the forecast sees only what the live view would: arrivals so far,
those waiting, each desk's finished services (its pace) and state, and the hourly pattern of five earlier
days of the same shape (the "past events at the same kind of venue"). It is compared with the day's actual
unserved count. Printed per hour of forecast: mean absolute error of the middle estimate, and how often the
truth fell inside the range (the range is meant as an 80 % band); also without the past pattern.
Pure arithmetic, no server, no database: a few seconds.
"""
from __future__ import annotations

import argparse
import math
import random
import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

from botram.domain.forecast import DeskCapacity, ServiceDay, forecast, hourly_pattern, rate_per_hour  # noqa: E402

OPEN, CLOSE = 8 * 60, 16 * 60
FORECAST_HOURS = (10, 11, 12, 13, 14)
DESK_MEANS = (5.5, 6.5, 8.0)  # minutes per person at each desk: ~28 people an hour together

SHAPES: dict[str, dict[int, float]] = {
    # arrivals per hour, from the opening hour
    "pagi ramai": {8: 55, 9: 50, 10: 38, 11: 28, 12: 20, 13: 18, 14: 15, 15: 10},
    "gelombang sore": {8: 15, 9: 18, 10: 20, 11: 22, 12: 25, 13: 35, 14: 50, 15: 45},
    "loket jeda": {8: 30, 9: 32, 10: 32, 11: 30, 12: 30, 13: 30, 14: 28, 15: 25},
}
PAUSES = {"loket jeda": (1, 10 * 60 + 30, 12 * 60)}  # desk index, from, to


def arrivals_for(shape: dict[int, float], rng: random.Random) -> list[float]:
    level = rng.uniform(0.8, 1.25)  # days differ in size, not only in noise
    times: list[float] = []
    for hour, per_hour in shape.items():
        t = hour * 60.0
        while True:
            t += rng.expovariate(per_hour * level / 60.0)
            if t >= hour * 60 + 60:
                break
            times.append(t)
    return times


def simulate(times: list[float], shape_name: str, rng: random.Random):
    """FIFO over three desks. Returns per customer (arrival, start or None, finish or None, desk or None)."""
    pause = PAUSES.get(shape_name)
    free = [float(OPEN)] * len(DESK_MEANS)
    served = []
    for arrival in times:
        best = None
        for i in range(len(DESK_MEANS)):
            start = max(arrival, free[i])
            if pause and pause[0] == i and pause[1] <= start < pause[2]:
                start = pause[2]
            if start < CLOSE and (best is None or start < best[0]):
                best = (start, i)
        if best is None:
            served.append((arrival, None, None, None))
            continue
        start, i = best
        sigma = 0.5
        duration = rng.lognormvariate(math.log(DESK_MEANS[i]) - sigma ** 2 / 2, sigma)
        free[i] = start + duration
        served.append((arrival, start, start + duration, i))
    return served


def forecast_at(now: float, day, shape_name: str, pattern) -> tuple[float, int, int]:
    pause = PAUSES.get(shape_name)
    waiting = sum(1 for a, s, _f, _d in day if a <= now and (s is None or s > now))
    desks = []
    for i, mean in enumerate(DESK_MEANS):
        finished = [f - s for _a, s, f, d in day if d == i and f is not None and f <= now][-20:]
        per_hour, measured = rate_per_hour(finished, 10.0)
        state = "paused" if pause and pause[0] == i and pause[1] <= now < pause[2] else "open"
        desks.append(DeskCapacity(number=i + 1, opens=OPEN, closes=CLOSE, per_hour=per_hour, measured=measured,
                                  state=state))
    result = forecast(ServiceDay(now=now, opened=OPEN, waiting=waiting, arrivals=[a for a, *_ in day if a <= now],
                                 desks=desks, pattern=pattern))
    return result.unserved, result.low, result.high


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=60, help="generated days per shape")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    totals = {h: {"pattern": [], "pace": []} for h in FORECAST_HOURS}
    print(f"{args.days} days per shape, 3 desks, 08.00-16.00; range = 80 % band\n")
    for shape_name, shape in SHAPES.items():
        per_hour = {h: {"pattern": [], "pace": []} for h in FORECAST_HOURS}
        actuals = []
        for _ in range(args.days):
            past = [arrivals_for(shape, rng) for _ in range(5)]
            pattern = hourly_pattern(past)
            times = arrivals_for(shape, rng)
            day = simulate(times, shape_name, rng)
            actual = sum(1 for _a, s, _f, _d in day if s is None)
            actuals.append(actual)
            for hour in FORECAST_HOURS:
                for kind, used in (("pattern", pattern), ("pace", None)):
                    middle, low, high = forecast_at(hour * 60.0, day, shape_name, used)
                    per_hour[hour][kind].append((abs(middle - actual), low <= actual <= high))
                    totals[hour][kind].append((abs(middle - actual), low <= actual <= high))
        print(f"{shape_name}: actual unserved mean {sum(actuals) / len(actuals):.1f} "
              f"(min {min(actuals)}, max {max(actuals)})")
        _table(per_hour)
    print("all shapes")
    _table(totals)


def _table(rows) -> None:
    print("  hour   MAE pattern  in range   |  MAE pace only  in range")
    for hour, kinds in rows.items():
        cells = []
        for kind in ("pattern", "pace"):
            errors = [e for e, _ in kinds[kind]]
            hits = [h for _, h in kinds[kind]]
            cells.append(f"{sum(errors) / len(errors):8.1f}  {100 * sum(hits) / len(hits):8.0f} %")
        print(f"  {hour:02d}.00 {cells[0]}   | {cells[1]}")
    print()


if __name__ == "__main__":
    main()
