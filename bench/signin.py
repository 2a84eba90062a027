"""The morning sign-in: N officers press "Masuk" at the same moment against `botram serve`.

    .venv/bin/python bench/signin.py                          # the server's defaults (what `make run` does)
    .venv/bin/python bench/signin.py --processes 1            # the old default: one process
    .venv/bin/python bench/signin.py --processes 2 --threads 16

Each officer is a thread with its own cookies: it opens the sign-in page first (as the laptops did while
the officers walked in), then all of them post the form at once and follow the redirect to their desk page;
an officer's wait is from the press to the desk page. Prints p50/p95/max of those waits, and, to show
where the time goes, what one password check costs in CPU on this machine and the CPU the server used.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench._server import Server, botram, env_for, fresh_database, percentile  # noqa: E402

PASSWORD = "pagi-hari-2026"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def prepare(env: dict, officers: int, method: str | None) -> list[str]:
    """`officers` desk officers with the production password hash (what `botram create-user` stores), or
    with a Werkzeug `method` (`scrypt`: what the hashes were before Argon2id)."""
    os.environ.update(env)
    from botram import create_app
    from botram.domain.users import create_user
    from botram.extensions import db
    from botram.models import Agency

    import sqlalchemy as sa

    app = create_app({"BOTRAM_PASSWORD_METHOD": method} if method else None)
    names = []
    with app.app_context():
        agency = db.session.scalar(sa.select(Agency).order_by(Agency.id))
        for n in range(1, officers + 1):
            create_user(f"pagi{n}", f"Petugas Pagi {n}", PASSWORD, "petugas", agency_id=agency.id)
            names.append(f"pagi{n}")
        db.session.commit()
    return names


def hash_cost(method: str | None) -> tuple[str, float]:
    """The stored hash's method and the CPU seconds one check of it takes here."""
    from werkzeug.security import generate_password_hash

    from botram.models.people import User

    user = User(username="x")
    if method:
        user.password_hash = generate_password_hash(PASSWORD, method=method)
    else:
        user.set_password(PASSWORD)  # outside an app: the production method
    started = time.process_time()
    for _ in range(5):
        assert user.check_password(PASSWORD)
    return user.password_hash.rsplit("$", 2)[0], (time.process_time() - started) / 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--officers", type=int, default=20)
    parser.add_argument("--processes", type=int, default=None, help="botram serve --processes (default: its own)")
    parser.add_argument("--threads", type=int, default=None, help="botram serve --threads (default: its own)")
    parser.add_argument("--rounds", type=int, default=3, help="mornings in a row (fresh browsers each time)")
    parser.add_argument("--hash", default=None, help="a Werkzeug method for the officers' hashes instead of the "
                                                     "production one (scrypt: the hashes before Argon2id)")
    args = parser.parse_args()

    url, workdir = fresh_database(args.database_url)
    env = env_for(url, workdir)
    for name in ("BOTRAM_PROCESSES", "BOTRAM_THREADS"):
        env.pop(name, None)
    botram(env, "init")
    names = prepare(env, args.officers, args.hash)
    method, cpu = hash_cost(args.hash)
    print(f"load average {os.getloadavg()[0]:.1f}; password hash: {method}; one check costs {cpu * 1000:.0f} ms of CPU here "
          f"({args.officers} checks: {cpu * args.officers:.2f} CPU-s, {os.cpu_count()} cores)")

    waits: list[float] = []
    failures: list[str] = []
    with Server(env, threads=args.threads, processes=args.processes) as server:
        base = f"http://127.0.0.1:{server.port}"
        for _round in range(args.rounds):
            openers, tokens = [], []
            for _name in names:
                opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
                page = opener.open(f"{base}/login", timeout=30).read().decode()
                openers.append(opener)
                tokens.append(_CSRF.search(page).group(1))
            barrier = threading.Barrier(len(names))
            cpu_before = server.cpu_seconds()
            lock = threading.Lock()
            round_waits: list[float] = []

            def officer(i: int) -> None:
                body = urllib.parse.urlencode({"csrf_token": tokens[i], "username": names[i],
                                               "password": PASSWORD}).encode()
                barrier.wait()
                started = time.perf_counter()
                try:
                    answer = openers[i].open(f"{base}/login", data=body, timeout=60)
                    answer.read()
                    ok = answer.status == 200 and "/login" not in answer.url
                except OSError as exc:
                    ok, answer = False, exc
                elapsed = time.perf_counter() - started
                with lock:
                    round_waits.append(elapsed)
                    if not ok:
                        failures.append(f"{names[i]}: {answer}")

            threads = [threading.Thread(target=officer, args=(i,)) for i in range(len(names))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            cpu_used = server.cpu_seconds() - cpu_before
            waits.extend(round_waits)
            ms = [w * 1000 for w in round_waits]
            print(f"round {_round + 1}: p50={percentile(ms, 50):.0f} ms p95={percentile(ms, 95):.0f} ms "
                  f"max={max(ms):.0f} ms  (server CPU {cpu_used:.2f} s)")
        processes = len(server.worker_pids()) or 1
    ms = [w * 1000 for w in waits]
    print(f"{args.officers} officers at once, {args.rounds} rounds, server worker processes={processes}: "
          f"p50={percentile(ms, 50):.0f} ms p95={percentile(ms, 95):.0f} ms max={max(ms):.0f} ms"
          + (f"  FAILED {len(failures)}: {failures[:3]}" if failures else ""))


if __name__ == "__main__":
    main()
