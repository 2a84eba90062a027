"""Booking's public pages under load, against `botram serve`: 200 people opening the schedule and booking
within a minute.

    .venv/bin/python bench/booking.py                  # SQLite
    .venv/bin/python bench/booking.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/botram_bench

The demo's coming draft is announced and its booking opened with every quota at its cap (set up through the
domain, before the server starts). Then `--people` citizens arrive spread over `--seconds` (default 200 in 60),
each on their own connection: GET /jadwal, GET /jadwal/<id> (what to bring), GET /jadwal/<id>/pesan (the
form), GET /api/v1/events/<id>/booking (places left), then POST /api/v1/bookings for a service and window with
places left. p50/p95 of each page and of the booking write are printed. Every citizen comes from 127.0.0.1,
so the per-address throttle is raised for the run (BOTRAM_BOOKING_THROTTLE_PER_HOUR).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench._server import Client, Server, demo_database, describe  # noqa: E402


def open_booking(env: dict) -> int:
    """Announce the demo's coming draft and open booking with every quota at its cap; its id."""
    os.environ.update(env)
    import sqlalchemy as sa

    from botram import create_app
    from botram.domain import booking, events
    from botram.domain.booking.plan import _desks, event_services, quota_cap, window_capacity
    from botram.domain.booking.rules import current
    from botram.domain.clock import wib_to_utc
    from botram.extensions import db
    from botram.models import Event, EventStatus

    app = create_app()
    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.status == EventStatus.DRAFT).order_by(Event.date))
        events.set_announced(event, True)
        desks, rules = _desks(event.id), current()
        windows = []
        for starts, ends in booking.DEFAULT_WINDOWS:
            a, b = wib_to_utc(event.date, starts), wib_to_utc(event.date, ends)
            windows.append(booking.WindowInput(starts, ends, {
                s.id: quota_cap(window_capacity(desks, s, a, b), rules) for s in event_services(event.id)}))
        from datetime import time as clock_time, timedelta
        booking.open_booking(event, booking.PlanInput(event.date - timedelta(days=1), clock_time(20), 15, windows))
        return event.id


def citizen(port: int, event_id: int, n: int, timings: dict[str, list[float]], failures: list[str],
            lock: threading.Lock) -> None:
    client = Client(port)
    seen = {}
    for name, path in (("/jadwal", "/jadwal"), ("/jadwal/<id>", f"/jadwal/{event_id}"),
                       ("/jadwal/<id>/pesan", f"/jadwal/{event_id}/pesan"),
                       ("GET booking", f"/api/v1/events/{event_id}/booking")):
        status, data, elapsed = client.request("GET", path)
        seen[name] = data
        with lock:
            timings[name].append(elapsed)
            if status != 200:
                failures.append(f"{name}: {status}")
    rng = random.Random(n)
    open_places = [(w["id"], s["service_id"]) for w in seen["GET booking"]["windows"] for s in w["services"]
                   if s["left"] > 0]
    window_id, service_id = rng.choice(open_places)
    status, data, elapsed = client.request("POST", "/api/v1/bookings", {
        "event_id": event_id, "window_id": window_id, "services": [service_id], "phone": f"0812{n:08d}"})
    with lock:
        timings["POST /api/v1/bookings"].append(elapsed)
        if status not in (201, 409):  # 409: the place went to someone else meanwhile
            failures.append(f"POST: {status} {data}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--processes", type=int, default=2, help="botram serve --processes (one per core)")
    args = parser.parse_args()

    url, env = demo_database(args.database_url, BOTRAM_BOOKING_THROTTLE_PER_HOUR="10000")
    event_id = open_booking(env)

    names = ["/jadwal", "/jadwal/<id>", "/jadwal/<id>/pesan", "GET booking", "POST /api/v1/bookings"]
    timings: dict[str, list[float]] = {name: [] for name in names}
    failures: list[str] = []
    lock = threading.Lock()
    with Server(env, processes=args.processes) as server:
        started = time.monotonic()
        threads = []
        for n in range(args.people):
            delay = started + n * args.seconds / args.people - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t = threading.Thread(target=citizen, args=(server.port, event_id, n, timings, failures, lock))
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
        took = time.monotonic() - started
    print(f"{args.people} people in {took:.1f} s ({'PostgreSQL' if args.database_url else 'SQLite'}, "
          f"{args.processes} processes), load average {os.getloadavg()[0]:.2f}")
    for name in names:
        print(f"{name:24} {describe(timings[name])}")
    if failures:
        print(f"{len(failures)} failures, e.g. {failures[:3]}")
        sys.exit(1)


if __name__ == "__main__":
    main()
