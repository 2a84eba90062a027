"""Call-next latency and throughput with N desks working at once over HTTP against `botram serve`.

    .venv/bin/python bench/queue.py                      # SQLite, 20 desks, 2,000 waiting steps
    .venv/bin/python bench/queue.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/botram_bench

Each desk is a thread with its own keep-alive connection and its officer's device token; it loops
call-next → finish until the time is up. Prints call-next p50/p95/p99 and calls per second.

--same-service: the contest with FQM (issue 25): 5 desks (--desks) on ONE service, 200 waiting (--waiting),
every desk pressing call-next at the same instant (a barrier) round after round until the queue is empty.
Prints call-next p50/p95 and how many visitors were called twice (must be 0).

--think S: seconds a desk spends with each visitor between finish and the next call (random 0.5×–1.5×).
The default 1 s is already far faster than a real desk (minutes per citizen) and shows the latency an
officer feels; --think 0 hammers the server with back-to-back calls and shows its saturation throughput.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from pathlib import Path

# The script's own folder comes first on sys.path, and this file's name would shadow the standard
# library's `queue` (which psycopg imports): put the project root there instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench._server import Client, Server, botram, demo_database, describe, env_for, fresh_database  # noqa: E402


def prepare(env: dict, desks: int, waiting: int, notify: bool = False) -> tuple[int, list[tuple[int, str]]]:
    """Add `desks` desks to the demo event, `waiting` waiting steps, and a token per desk officer."""
    import os

    import sqlalchemy as sa

    os.environ.update(env)
    from botram import create_app
    from botram.domain import queue
    from botram.domain.tokens import issue_token
    from botram.domain.users import create_user
    from botram.extensions import db
    from botram.models import Agency, Desk, Event, Service, User

    app = create_app()
    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.status == "open"))
        agencies = db.session.scalars(sa.select(Agency).order_by(Agency.id)).all()
        existing = {d.number for d in event.desks}
        number = max(existing) + 1
        while len(event.desks) < desks:
            agency = agencies[len(event.desks) % len(agencies)]
            event.desks.append(Desk(agency=agency, number=number, label=f"Loket {number}", opens_at=event.opens_at,
                                    closes_at=event.closes_at, state="open",
                                    services=[s for s in agency.services]))
            number += 1
        for desk in event.desks:
            desk.state = "open"
            desk.services = list(desk.agency.services)
        db.session.commit()
        reception = db.session.scalar(sa.select(User).where(User.username == "resepsionis"))
        services = db.session.scalars(sa.select(Service).order_by(Service.id)).all()
        made = 0
        i = 0
        while made < waiting:
            picked = [services[i % len(services)].id]
            if i % 3 == 0:
                picked.append(services[(i * 7 + 3) % len(services)].id)
            picked = list(dict.fromkeys(picked))
            queue.issue_visit(event.id, picked, priority="lansia" if i % 11 == 0 else "none",
                              by_user_id=reception.id, phone=f"0812{i:08d}" if notify else None, notify=notify)
            made += len(picked)
            i += 1
        tokens = []
        for desk in sorted(event.desks, key=lambda d: d.number):
            user = create_user(f"bench{desk.number}", f"Bench {desk.number}", "bench-sandi-1", "petugas",
                               agency_id=desk.agency_id)
            _token, raw = issue_token(user, "bench")
            tokens.append((desk.id, raw))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # Autovacuum analyses freshly loaded tables within about a minute; without statistics the planner
            # takes the 2,000 steps for one row and joins them to visits by a scan per step.
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        return event.id, tokens


def prepare_same_service(env: dict, desks: int, waiting: int) -> list[tuple[int, str]]:
    """`desks` open desks of one agency all serving one service, `waiting` tickets for it, a token per desk."""
    import os

    import sqlalchemy as sa

    os.environ.update(env)
    from botram import create_app
    from botram.domain import queue
    from botram.domain.tokens import issue_token
    from botram.domain.users import create_user
    from botram.extensions import db
    from botram.models import Desk, Event, User

    app = create_app()
    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.status == "open"))
        first = sorted(event.desks, key=lambda d: d.number)[0]
        service = first.services[0]
        number = max(d.number for d in event.desks) + 1
        made = []
        for i in range(desks):
            desk = Desk(agency=first.agency, number=number + i, label=f"Loket {number + i}", opens_at=event.opens_at,
                        closes_at=event.closes_at, state="open", services=[service])
            event.desks.append(desk)
            made.append(desk)
        db.session.commit()
        reception = db.session.scalar(sa.select(User).where(User.username == "resepsionis"))
        for _ in range(waiting):
            queue.issue_visit(event.id, [service.id], by_user_id=reception.id)
        tokens = []
        for desk in made:
            user = create_user(f"bench{desk.number}", f"Bench {desk.number}", "bench-sandi-1", "petugas",
                               agency_id=desk.agency_id)
            _token, raw = issue_token(user, "bench")
            tokens.append((desk.id, raw))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        return tokens


def same_service(args, env: dict) -> None:
    tokens = prepare_same_service(env, args.desks, args.waiting)
    call_times: list[float] = []
    codes: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(tokens))
    done = threading.Event()

    def desk_loop(desk_id: int, token: str, port: int) -> None:
        client = Client(port, token)
        client.request("GET", "/api/v1/events?status=open")  # the connection and the token's first use
        try:
            while not done.is_set():
                barrier.wait()
                status, body, elapsed = client.request("POST", f"/api/v1/desks/{desk_id}/call-next")
                with lock:
                    call_times.append(elapsed)
                if status == 204:
                    done.set()
                elif status != 200:
                    with lock:
                        errors.append(f"{status} {body}")
                else:
                    with lock:
                        codes.append(body["visit_code"])
                    client.request("POST", f"/api/v1/steps/{body['step_id']}/finish", {"outcome": "done"})
                barrier.wait()
        except threading.BrokenBarrierError:
            pass
        barrier.abort()

    with Server(env, processes=args.processes) as server:
        threads = [threading.Thread(target=desk_loop, args=(d, t, server.port)) for d, t in tokens]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    print(f"same service, simultaneous presses: {len(tokens)} desks, {args.waiting} waiting, "
          f"server processes={args.processes}")
    print(f"call-next (client-side, HTTP included): {describe(call_times)}")
    print(f"visitors called: {len(codes)} of {args.waiting}; called twice: {len(codes) - len(set(codes))}; "
          f"refused: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))


def _prepared(args, url: str, env: dict) -> list[tuple[int, str]]:
    """init, seed-demo and the waiting visitors; with --template DIR (SQLite) made once into DIR and copied
    from there on later runs, so that a short measured run is not mostly its own preparation (the shared
    machine's benches must end within a minute)."""
    import json
    import shutil

    template = Path(args.template) / f"d{args.desks}-w{args.waiting}{'-notify' if args.notify else ''}" \
        if args.template and url.startswith("sqlite:///") else None
    database = Path(url.removeprefix("sqlite:///")) if template else None
    if template is not None and (template / "tokens.json").exists():
        shutil.copy(template / "bench.sqlite", database)
        return [tuple(pair) for pair in json.loads((template / "tokens.json").read_text())]
    botram(env, "init")
    botram(env, "seed-demo", "--password", "bench-sandi-1")
    _event_id, tokens = prepare(env, args.desks, args.waiting, notify=args.notify)
    if template is not None:
        template.mkdir(parents=True, exist_ok=True)
        import sqlite3

        source, target = sqlite3.connect(database), sqlite3.connect(template / "bench.sqlite")
        with target:
            source.backup(target)
        source.close()
        target.close()
        (template / "tokens.json").write_text(json.dumps(tokens))
    return tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--desks", type=int, default=20)
    parser.add_argument("--waiting", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--think", type=float, default=1.0)
    parser.add_argument("--processes", type=int, default=2, help="botram serve --processes (one per core)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of work before figures are kept")
    parser.add_argument("--same-service", action="store_true", help="5 desks, one service, pressing at once")
    parser.add_argument("--notify", action="store_true",
                        help="every visitor ticked 'kirimi pesan', and the server's outbox process sends to a local "
                             "json:// gateway (bench/notify.py compares the two)")
    parser.add_argument("--separate-worker", action="store_true",
                        help="with --notify: the server starts no outbox process (BOTRAM_OUTBOX_WORKER=0) and one "
                             "`botram outbox run` started by the bench sends instead (no wake pipe: it polls)")
    parser.add_argument("--template", default=None,
                        help="SQLite: a folder keeping the prepared database between runs (made on the first)")
    parser.add_argument("--prepare-only", action="store_true", help="with --template: make it, measure nothing")
    args = parser.parse_args()
    if args.same_service:
        _, env = demo_database(args.database_url)
        same_service(args, env)
        os.system("uptime")
        return

    url, workdir = fresh_database(args.database_url)
    env = env_for(url, workdir)
    gateway = None
    if args.notify:
        from tests.notify_gateway import Gateway

        gateway = Gateway()
        env["BOTRAM_NOTIFY_URLS"] = gateway.url
    started = time.perf_counter()
    tokens = _prepared(args, url, env)
    if args.prepare_only:
        return
    print(f"database: {url.split('@')[-1]}  desks={len(tokens)}  waiting steps={args.waiting}  think={args.think} s  "
          f"server processes={args.processes} "
          f"(prepared in {time.perf_counter() - started:.1f} s)")

    call_times: list[float] = []
    finish_times: list[float] = []
    errors: list[str] = []
    served: list[int] = []
    lock = threading.Lock()
    clock = {}

    def desk_loop(desk_id: int, token: str, port: int) -> None:
        client = Client(port, token)
        if args.think:
            time.sleep(random.uniform(0, args.think))  # desks do not all press in the same millisecond
        while time.monotonic() < clock["stop"]:
            status, body, elapsed = client.request("POST", f"/api/v1/desks/{desk_id}/call-next")
            measured = time.monotonic() - elapsed >= clock["measure"]
            if measured:
                with lock:
                    call_times.append(elapsed)
            if status == 204:
                break
            if status != 200:
                with lock:
                    errors.append(f"call-next {status} {body}")
                break
            status, body, elapsed = client.request("POST", f"/api/v1/steps/{body['step_id']}/finish",
                                                   {"outcome": "done"})
            with lock:
                if measured:
                    finish_times.append(elapsed)
                    served.append(1)
                if status != 200:
                    errors.append(f"finish {status} {body}")
            if args.think:
                time.sleep(args.think * random.uniform(0.5, 1.5))

    outbox_process = None
    if args.notify and args.separate_worker:
        import subprocess

        from bench._server import BOTRAM

        outbox_process = subprocess.Popen([BOTRAM, "outbox", "run"], env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)
        env = {**env, "BOTRAM_OUTBOX_WORKER": "0"}
    with Server(env, processes=args.processes) as server:
        # The first seconds open the pool's connections and fill SQLAlchemy's statement cache: a server in
        # the middle of an event day has done that long ago, so those calls count as errors but not as figures.
        clock["measure"] = time.monotonic() + args.warmup
        clock["stop"] = clock["measure"] + args.seconds
        threads = [threading.Thread(target=desk_loop, args=(d, t, server.port)) for d, t in tokens]
        for t in threads:
            t.start()
        time.sleep(max(0.0, clock["measure"] - time.monotonic()))
        cpu_at_start = server.cpu_seconds()
        for t in threads:
            t.join()
        cpu = server.cpu_seconds() - cpu_at_start
        wall = min(time.monotonic(), clock["stop"]) - clock["measure"]
    if outbox_process is not None:
        outbox_process.terminate()
        outbox_process.wait(10)
    if gateway is not None:
        print(f"messages received by the gateway: {len(gateway.messages())}")
    print(f"call-next: {describe(call_times)}")
    print(f"finish:    {describe(finish_times)}")
    print(f"throughput: {len(served) / wall:.1f} visitors served per second "
          f"({len(call_times) / wall:.1f} call-next per second) over {wall:.1f} s after {args.warmup:g} s warm-up")
    requests = len(call_times) + len(finish_times)
    print(f"server CPU: {cpu / wall * 100:.0f}% of one core, {cpu * 1000 / max(requests, 1):.1f} ms per request")
    print(f"errors: {len(errors)}" + (f"  first: {errors[0]}  (server log: {server.log_path})" if errors else ""))


if __name__ == "__main__":
    main()
