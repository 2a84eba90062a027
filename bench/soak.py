"""A whole event day compressed into minutes against `botram serve`, with a server restart in the middle.

    .venv/bin/python bench/soak.py                       # SQLite: 1,500 visits, 10 desks, 5 boards, 100 phones
    .venv/bin/python bench/soak.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/botram_soak
    .venv/bin/python bench/soak.py --visits 300 --seconds 60 --no-restart     # a quick look

Who takes part (all over HTTP, each with its own keep-alive connection):
- reception: 2 kiosks issue `--visits` tickets through POST /api/v1/events/<id>/visits, spread over the run,
  1 to 3 services each (only services some desk offers), some with a priority group;
- desks: `--desks` officers (device tokens) loop call-next → finish until the day is over and no one waits;
- boards: `--boards` displays poll GET /api/v1/events/<id>/board and /board/<id>/panel every second;
- projectors: `--streams` boards hold /board/<id>/stream open all day, as the projector page does, and
  reconnect when the server restarts (the issue's "50 boards and status pages connected at once");
- phones: `--status-pages` citizens poll /status/<token> every few seconds; half of the served citizens answer
  the SKM survey (POST /api/v1/visits/<token>/survey).
Halfway through, the server is stopped and started again (clients pause, then reconnect), as when the laptop
at the venue is restarted: no ticket may be lost and the desks and boards carry on.

At the end it checks the database and prints: errors (must be 0), lost and duplicated tickets and calls
(must be 0), latency percentiles per endpoint, and the server's memory at start, before the restart and at
the end. Exit status 1 when errors, lost or duplicated tickets were found.
"""
from __future__ import annotations

import argparse
import http.client
import random
import re
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the project root, not bench/ (see bench/queue.py)

from bench._server import Client, Server, demo_database, describe  # noqa: E402

PASSWORD = "soak-sandi-1"
SCORES = ("persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi", "perilaku", "sarana", "pengaduan")


def prepare(env: dict, desks: int) -> tuple[int, str, list[tuple[int, str]]]:
    """The demo event with `desks` open desks (each offering all of its agency's services), a token for
    reception and one per desk officer."""
    import os

    import sqlalchemy as sa

    os.environ.update(env)
    from botram import create_app
    from botram.domain.tokens import issue_token
    from botram.domain.users import create_user
    from botram.extensions import db
    from botram.models import Agency, Desk, Event, User

    app = create_app()
    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.status == "open"))
        agencies = [a for a in db.session.scalars(sa.select(Agency).order_by(Agency.id)) if a.services]
        number = max(d.number for d in event.desks) + 1
        while len(event.desks) < desks:
            agency = agencies[len(event.desks) % len(agencies)]
            event.desks.append(Desk(agency=agency, number=number, label=f"Loket {number}", opens_at=event.opens_at,
                                    closes_at=event.closes_at, state="open", services=list(agency.services)))
            number += 1
        event.opens_at = min(event.opens_at, event.opens_at.replace(hour=0, minute=0))
        for desk in event.desks:
            desk.state = "open"
            desk.services = list(desk.agency.services)
        db.session.commit()
        reception = db.session.scalar(sa.select(User).where(User.username == "resepsionis"))
        reception_token = issue_token(reception, "soak kiosk")[1]
        tokens = []
        for desk in sorted(event.desks, key=lambda d: d.number)[:desks]:
            user = create_user(f"soak{desk.number}", f"Soak {desk.number}", PASSWORD, "petugas",
                               agency_id=desk.agency_id)
            tokens.append((desk.id, issue_token(user, "soak")[1]))
        db.session.commit()
        return event.id, reception_token, tokens


def verify(env: dict, event_id: int) -> dict:
    """What the database holds at the end."""
    import sqlalchemy as sa

    from botram import create_app
    from botram.extensions import db
    from botram.models import Step, SurveyResponse, Visit

    app = create_app()
    with app.app_context():
        visits = set(db.session.scalars(sa.select(Visit.id).where(Visit.event_id == event_id)))
        codes = db.session.execute(sa.select(Visit.code, sa.func.count()).where(Visit.event_id == event_id)
                                   .group_by(Visit.code).having(sa.func.count() > 1)).all()
        states = Counter(dict(db.session.execute(sa.select(Step.status, sa.func.count()).where(
            Step.event_id == event_id).group_by(Step.status)).all()))
        surveys = db.session.scalar(sa.select(sa.func.count(SurveyResponse.id)).where(
            SurveyResponse.event_id == event_id))
        db.engine.dispose()
    return {"visits": visits, "duplicate_codes": codes, "states": states, "surveys": surveys}


class Day:
    """Shared state of the simulated day: latencies, errors, issued tickets, the restart gate."""

    def __init__(self, port: int):
        self.port = port
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.retries = 0
        self.issued: dict[int, dict] = {}          # visit id -> {"token", "steps"}
        self.called: list[int] = []                # step ids returned by call-next, every time
        self.finished: list[int] = []
        self.surveys = 0
        self.reception_done = threading.Event()
        self.stop = threading.Event()
        self.open_gate = threading.Event()
        self.open_gate.set()
        self.in_flight = 0

    def request(self, client: Client, method: str, path: str, body: dict | None = None):
        """One request through the restart gate; a connection dropped by the restart is reopened and retried
        (the gate guarantees the request was not being processed when the server went away)."""
        for attempt in range(20):
            self.open_gate.wait()
            with self.lock:
                self.in_flight += 1
            try:
                status, data, elapsed = client.request(method, path, body)
            except (OSError, ConnectionError, Exception) as exc:  # noqa: BLE001 - any transport failure
                client.conn.close()
                with self.lock:
                    self.retries += 1
                if attempt == 19:
                    self.error(f"{method} {path}: {type(exc).__name__}")
                    return None, None
                time.sleep(0.2)
                continue
            finally:
                with self.lock:
                    self.in_flight -= 1
            key = f"{method} " + re.sub(r"/\d+(?=/|$|\?)", "/{id}", re.sub(r"/[A-Za-z0-9_-]{20,}", "/{token}", path.split("?")[0]))
            with self.lock:
                self.latency[key].append(elapsed)
            if status >= 500:
                self.error(f"{method} {path}: {status} {data}")
            return status, data
        return None, None

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


def reception_loop(day: Day, token: str, event_id: int, services: list[int], count: int, seconds: float,
                   seed: int) -> None:
    rng = random.Random(seed)
    client = Client(day.port, token)
    gap = seconds / max(count, 1)
    started = time.monotonic()
    for i in range(count):
        wait = started + i * gap - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        picked = rng.sample(services, k=min(len(services), rng.choice((1, 1, 1, 2, 2, 3))))
        body = {"services": picked, "priority": rng.choice(["none"] * 9 + ["lansia"])}
        if rng.random() < 0.5:
            body["name"] = f"Warga {seed}-{i}"
        status, data = day.request(client, "POST", f"/api/v1/events/{event_id}/visits", body)
        if status == 201:
            with day.lock:
                day.issued[data["id"]] = {"token": data["status_url"].rstrip("/").rsplit("/", 1)[-1],
                                          "steps": [s["id"] for s in data["steps"]]}
        elif status is not None:
            day.error(f"issue visit: {status} {data}")


def desk_loop(day: Day, desk_id: int, token: str, think: float, seed: int) -> None:
    rng = random.Random(seed)
    client = Client(day.port, token)
    idle_since = None
    while not day.stop.is_set():
        status, data = day.request(client, "POST", f"/api/v1/desks/{desk_id}/call-next")
        if status == 204:
            if day.reception_done.is_set():
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > 3:  # nobody left for this desk
                    return
            time.sleep(0.3)
            continue
        if status != 200:
            if status is not None:
                day.error(f"call-next: {status} {data}")
            time.sleep(0.5)
            continue
        idle_since = None
        step_id = data["step_id"]
        with day.lock:
            day.called.append(step_id)
        time.sleep(think * rng.uniform(0.5, 1.5))
        status, data = day.request(client, "POST", f"/api/v1/steps/{step_id}/finish", {"outcome": "done"})
        if status == 200:
            with day.lock:
                day.finished.append(step_id)
        elif status is not None:
            day.error(f"finish: {status} {data}")


def board_loop(day: Day, event_id: int) -> None:
    client = Client(day.port)
    version = None
    while not day.stop.is_set():
        status, data = day.request(client, "GET", f"/api/v1/events/{event_id}/board")
        if status == 200:
            version = data.get("version", version)
        elif status is not None:
            day.error(f"board: {status}")
        status, _ = day.request(client, "GET", f"/board/{event_id}/panel" + (f"?v={version}" if version else ""))
        if status not in (200, 204, None):
            day.error(f"board panel: {status}")
        day.stop.wait(1.0)


class Streams:
    """Projector boards holding the event stream: how many are connected, and what each received."""

    def __init__(self, count: int):
        self.connected = 0
        self.peak = 0
        self.events = [0] * count
        self.reconnects = [0] * count


def stream_loop(day: Day, streams: Streams, event_id: int, index: int) -> None:
    while not day.stop.is_set():
        day.open_gate.wait()
        conn = http.client.HTTPConnection("127.0.0.1", day.port, timeout=40)  # keep-alive comes every 15 s
        counted = False
        try:
            conn.request("GET", f"/board/{event_id}/stream")
            response = conn.getresponse()
            if response.status != 200:
                day.error(f"board stream: {response.status}")
            else:
                with day.lock:
                    streams.connected += 1
                    streams.peak = max(streams.peak, streams.connected)
                counted = True
                while not day.stop.is_set():
                    line = response.fp.readline()
                    if not line:
                        break  # the server restarted or ended the stream: reconnect, as board.js does
                    if line.startswith(b"event: panel"):
                        streams.events[index] += 1
        except OSError:
            pass
        finally:
            if counted:
                with day.lock:
                    streams.connected -= 1
            conn.close()
        if not day.stop.is_set():
            streams.reconnects[index] += 1
            day.stop.wait(0.5)


def phone_loop(day: Day, phones: int, seed: int) -> None:
    """One thread stands for several phones: each of its citizens polls their status page every ~5 s and,
    once served, half of them answer the survey."""
    rng = random.Random(seed)
    client = Client(day.port)
    answered: set[int] = set()
    while not day.stop.is_set():
        with day.lock:
            finished = set(day.finished)
            mine = [(vid, v) for vid, v in list(day.issued.items())[seed::max(1, phones)]][-10:]
        for visit_id, visit in mine:
            status, _ = day.request(client, "GET", f"/status/{visit['token']}")
            if status not in (200, 204, None):
                day.error(f"status page: {status}")
            if visit_id not in answered and set(visit["steps"]) <= finished and visit_id % 2 == 0:
                answered.add(visit_id)
                body = {"scores": {key: rng.randint(2, 4) for key in SCORES}, "comment": "Cepat dan ramah"}
                status, data = day.request(client, "POST", f"/api/v1/visits/{visit['token']}/survey", body)
                if status in (200, 201):
                    with day.lock:
                        day.surveys += 1
                elif status is not None:
                    day.error(f"survey: {status} {data}")
        day.stop.wait(rng.uniform(4, 6))


def start(server: Server, extra_seconds: float = 90) -> None:
    """Start (or restart) the server on its port, giving a loaded machine more than _server's 30 s."""
    import urllib.request

    try:
        server.__enter__()
        return
    except RuntimeError:
        deadline = time.monotonic() + extra_seconds
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"server exited with {server.process.returncode}; see {server.log_path}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.2)
        raise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--visits", type=int, default=1500)
    parser.add_argument("--desks", type=int, default=10)
    parser.add_argument("--boards", type=int, default=5)
    parser.add_argument("--status-pages", type=int, default=100)
    parser.add_argument("--streams", type=int, default=50, help="projector boards holding the event stream")
    parser.add_argument("--processes", type=int, default=2, help="botram serve --processes (one per core)")
    parser.add_argument("--seconds", type=float, default=180, help="how long reception keeps issuing tickets")
    parser.add_argument("--think", type=float, default=0.4, help="seconds a desk spends per citizen")
    parser.add_argument("--no-restart", action="store_true")
    args = parser.parse_args()

    url, env = demo_database(args.database_url, PASSWORD)
    event_id, reception_token, desk_tokens = prepare(env, args.desks)
    print(f"database: {url.split('@')[-1]}  visits={args.visits} desks={len(desk_tokens)} boards={args.boards} "
          f"streams={args.streams} phones={args.status_pages} over {args.seconds:.0f} s, "
          f"restart={'no' if args.no_restart else 'halfway'}, server processes={args.processes} × 64 threads")

    server = Server(env, processes=args.processes)
    start(server)
    day = Day(server.port)
    memory = {"start": server.rss_mb()}
    try:
        status, offered, _ = Client(server.port).request("GET", f"/api/v1/events/{event_id}/services")
        services = [s["id"] for s in offered]
        threads = [threading.Thread(target=reception_loop, args=(day, reception_token, event_id, services,
                                                                 args.visits // 2 + (k < args.visits % 2),
                                                                 args.seconds, k)) for k in range(2)]
        desks = [threading.Thread(target=desk_loop, args=(day, d, t, args.think, i))
                 for i, (d, t) in enumerate(desk_tokens)]
        phone_threads = max(1, min(20, args.status_pages // 5))
        others = [threading.Thread(target=board_loop, args=(day, event_id), daemon=True)
                  for _ in range(args.boards)]
        others += [threading.Thread(target=phone_loop, args=(day, phone_threads, k), daemon=True)
                   for k in range(phone_threads)]
        streams = Streams(args.streams)
        others += [threading.Thread(target=stream_loop, args=(day, streams, event_id, k), daemon=True)
                   for k in range(args.streams)]
        began = time.perf_counter()
        for t in threads + desks + others:
            t.start()

        if not args.no_restart:
            time.sleep(args.seconds / 2)
            day.open_gate.clear()
            while True:  # let requests in flight finish: the restart must not cut one in half
                with day.lock:
                    if day.in_flight == 0:
                        break
                time.sleep(0.01)
            memory["before restart"] = server.rss_mb()
            down = time.perf_counter()
            server.__exit__(None, None, None)
            start(server)
            print(f"server restarted in {time.perf_counter() - down:.1f} s "
                  f"(tickets issued so far: {len(day.issued)})")
            day.open_gate.set()

        for t in threads:
            t.join()
        day.reception_done.set()
        for t in desks:
            t.join()
        connected_at_end = streams.connected
        day.stop.set()
        time.sleep(1.5)
        wall = time.perf_counter() - began
        memory["end"] = server.rss_mb()
    finally:
        day.stop.set()
        day.open_gate.set()
        server.__exit__(None, None, None)

    found = verify(env, event_id)
    issued_ids = set(day.issued)
    issued_steps = {s for v in day.issued.values() for s in v["steps"]}
    lost_visits = issued_ids - found["visits"]
    extra_visits = found["visits"] - issued_ids
    called_twice = [s for s, n in Counter(day.called).items() if n > 1]
    finished_twice = [s for s, n in Counter(day.finished).items() if n > 1]
    not_served = issued_steps - set(day.finished)
    waiting_left = found["states"].get("waiting", 0) + found["states"].get("called", 0) + \
        found["states"].get("serving", 0)

    print(f"\nday over in {wall:.0f} s: {len(issued_ids)} tickets, {len(issued_steps)} steps, "
          f"{len(day.finished)} served, {day.surveys} survey answers ({found['surveys']} stored)")
    print(f"{'endpoint':<48} latency")
    for key in sorted(day.latency):
        print(f"  {key:<46} {describe(day.latency[key])}")
    print("server memory: " + ", ".join(f"{k} {v:.0f} MB" for k, v in memory.items()))
    print(f"reconnects after the restart: {day.retries}")
    if args.streams:
        received = sorted(streams.events)
        print(f"projector streams: {streams.peak} of {args.streams} connected at the peak, {connected_at_end} at the "
              f"end of the day; panels received per board min/median/max {received[0]}/"
              f"{received[len(received) // 2]}/{received[-1]}; reconnects {sum(streams.reconnects)}")
    problems = {
        "errors": len(day.errors),
        "lost tickets (issued, not in the database)": len(lost_visits),
        "duplicated tickets (in the database, never issued)": len(extra_visits),
        "duplicate ticket codes": len(found["duplicate_codes"]),
        "steps called twice": len(called_twice),
        "steps finished twice": len(finished_twice),
        "steps never served": len(not_served),
        "steps still waiting/called at the end": waiting_left,
        "survey answers not stored": day.surveys - found["surveys"],
        "projector streams not connected at the end": args.streams - connected_at_end if args.streams else 0,
    }
    for name, value in problems.items():
        print(f"{name:<52} {value}")
    for text in day.errors[:20]:
        print("  error:", text)
    return 1 if any(problems.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
