"""Projector board latency and board endpoint throughput, against `botram serve`.

    .venv/bin/python bench/board.py                  # SQLite
    .venv/bin/python bench/board.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/botram_bench

1. Opens N boards (default 10) in headless Chromium (Debian's /usr/bin/chromium), then makes C calls
   (default 50) through the API. For each call it measures the time from the call-next response returning
   to the code appearing on every board (each page records the moment with a MutationObserver), and prints
   p50/p95 over all (board, call) pairs. `--mode desk` (default) is one desk's rhythm: call, serve 0.35 s,
   finish and call the next at once (the finish and the call a few milliseconds apart). `--mode burst` is
   five desks pressing within 100 ms, round after round: the boards coalesce, and every call must still
   appear on every board.
   `--nodes 2` (PostgreSQL) starts two `botram serve` on the one database: the boards on the first, the
   calls on the second, so a call reaches the boards through PostgreSQL NOTIFY.
   The same calls are also timed to a plain HTTP client holding the board's event stream (no browser):
   that figure is the server's part; the rest is the browsers' (ten Chromiums on the server's machine).
2. Hammers the public board endpoint (GET /api/v1/events/<id>/board) and a trivial route (/healthz) with
   the same number of keep-alive clients for the same time, and prints requests per second and their ratio.
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import sys
import threading
import time
from pathlib import Path

# The script's own folder comes first on sys.path, and this file's name would shadow the standard
# library's `queue` (which psycopg imports): put the project root there instead.
sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench._server import Client, Server, botram, demo_database, percentile  # noqa: E402

WATCH = """
window.__seen = {};
new MutationObserver(function () {
  document.querySelectorAll('.latest-code, .recent-code, [data-code]').forEach(function (el) {
    var code = el.getAttribute('data-code') || el.textContent;
    if (!(code in window.__seen)) window.__seen[code] = Date.now();
  });
}).observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
"""


def listen(port: int, event_id: int, version: int, arrivals: list[float]) -> None:
    """Hold the board's event stream like a projector would (saying the version its page was drawn with, so
    the stream sends only what is newer) and note when each new panel arrives."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", f"/board/{event_id}/stream?v={version}")
    response = conn.getresponse()
    while True:
        line = response.fp.readline()
        if not line:
            return
        if line.startswith(b"event: panel"):
            arrivals.append(time.time() * 1000)


def first_after(arrivals: list[float], at: float) -> float | None:
    later = [a for a in arrivals if a >= at - 2]
    return min(later) - at if later else None


def throughput(port: int, path: str, clients: int, seconds: float) -> float:
    done = [0] * clients
    stop_at = time.monotonic() + seconds

    def loop(i: int) -> None:
        client = Client(port)
        while time.monotonic() < stop_at:
            status, _body, _elapsed = client.request("GET", path)
            if status == 200:
                done[i] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds


def desk_rhythm(port: int, token: str, desk: dict, calls: int) -> dict[str, float]:
    """One desk: call, serve 0.35 s, finish and call the next at once. {code: when call-next returned}."""
    desk_client = Client(port, token)
    returned: dict[str, float] = {}
    for _ in range(calls):
        status, called, _e = desk_client.request("POST", f"/api/v1/desks/{desk['id']}/call-next")
        assert status == 200, called
        returned[called["visit_code"]] = time.time() * 1000
        time.sleep(0.35)
        desk_client.request("POST", f"/api/v1/steps/{called['step_id']}/finish", {"outcome": "done"})
    return returned


def bursts(port: int, token: str, desks: list[dict], calls: int) -> dict[str, float]:
    """Rounds of every desk pressing call-next within 100 ms, then finishing after a moment."""
    import random

    clients = [Client(port, token) for _ in desks]
    returned: dict[str, float] = {}
    for _ in range(max(1, calls // len(desks))):
        called_steps: list[int] = []

        def press(client: Client, desk: dict) -> None:
            time.sleep(random.uniform(0, 0.1))
            status, called, _e = client.request("POST", f"/api/v1/desks/{desk['id']}/call-next")
            assert status == 200, called
            returned[called["visit_code"]] = time.time() * 1000
            called_steps.append(called["step_id"])

        presses = [threading.Thread(target=press, args=(c, d)) for c, d in zip(clients, desks)]
        for t in presses:
            t.start()
        for t in presses:
            t.join()
        time.sleep(0.4)
        for client, step_id in zip(clients, called_steps):
            client.request("POST", f"/api/v1/steps/{step_id}/finish", {"outcome": "done"})
        time.sleep(0.3)
    return returned


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--boards", type=int, default=10)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--mode", choices=("desk", "burst"), default="desk")
    parser.add_argument("--burst-desks", type=int, default=5)
    parser.add_argument("--nodes", type=int, choices=(1, 2), default=1,
                        help="2: boards on one botram serve, calls on another (PostgreSQL)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--processes", type=int, default=2, help="botram serve --processes (one per core)")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()
    if args.nodes == 2 and not args.database_url:
        parser.error("--nodes 2 needs --database-url (PostgreSQL): two servers share one database")

    url, env = demo_database(args.database_url)
    reception = botram(env, "create-token", "resepsionis").strip()
    officer = botram(env, "create-token", "petugas5").strip()
    coordinator = botram(env, "create-token", "koordinator").strip()

    from playwright.sync_api import sync_playwright

    with contextlib.ExitStack() as stack:
        server = stack.enter_context(Server(env, processes=args.processes))
        caller = stack.enter_context(Server(env, processes=args.processes)) if args.nodes == 2 else server
        p = stack.enter_context(sync_playwright())
        api = Client(server.port, reception)
        _s, events, _e = api.request("GET", "/api/v1/events?status=open")
        event_id = events[0]["id"]
        _s, desks, _e = api.request("GET", f"/api/v1/events/{event_id}/desks")
        desks = sorted(desks, key=lambda d: d["number"])
        working = [next(d for d in desks if d["number"] == 5)] if args.mode == "desk" else desks[:args.burst_desks]
        per_desk = args.calls if args.mode == "desk" else max(1, args.calls // len(working))
        for desk in working:
            for _ in range(per_desk):
                status, body, _e = api.request("POST", f"/api/v1/events/{event_id}/visits",
                                               {"services": [desk["services"][0]["id"]]})
                assert status == 201, body

        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                          "--disable-component-update", "--disable-sync", "--no-first-run"])
        # One context per board, like separate projectors: a browser allows only six connections per
        # host, and every board holds one for its event stream.
        pages = []
        for _ in range(args.boards):
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            context.add_init_script(WATCH)
            pages.append(context.new_page())
        for page in pages:
            page.goto(f"http://127.0.0.1:{server.port}/board/{event_id}")
            page.wait_for_selector(".latest-empty")
        streams: list[list[float]] = [[] for _ in range(args.boards)]
        _s, shown, _e = api.request("GET", f"/api/v1/events/{event_id}/board")
        for arrivals in streams:
            threading.Thread(target=listen, args=(server.port, event_id, shown["version"], arrivals),
                             daemon=True).start()
        time.sleep(1.0)  # every board's event stream connected

        if args.mode == "desk":
            returned = desk_rhythm(caller.port, officer, working[0], args.calls)
        else:
            returned = bursts(caller.port, coordinator, working, args.calls)
        time.sleep(2.0)
        latencies, missing = [], 0
        for page in pages:
            seen = page.evaluate("window.__seen")
            for code, at in returned.items():
                if code in seen:
                    latencies.append(max(0.0, seen[code] - at))
                else:
                    missing += 1
        browser.close()
        stream_latencies = [d for arrivals in streams for at in returned.values()
                            if (d := first_after(arrivals, at)) is not None]
        print(f"database: {url.split('@')[-1]}  boards={args.boards}  calls={len(returned)}  mode={args.mode}  "
              f"nodes={args.nodes}  server processes={args.processes} per node")
        print(f"call → panel event on {args.boards} plain stream clients (the server's part): "
              f"p50={percentile(stream_latencies, 50):.0f} ms  p95={percentile(stream_latencies, 95):.0f} ms")
        print(f"call → on every board: p50={percentile(latencies, 50):.0f} ms  p95={percentile(latencies, 95):.0f} ms  "
              f"max={max(latencies):.0f} ms  (pairs={len(latencies)}, never shown={missing})")
        print(f"panels per board: {sum(len(a) for a in streams) / len(streams):.1f} for {len(returned)} calls")

        if not args.skip_throughput:
            board_rps = throughput(server.port, f"/api/v1/events/{event_id}/board", args.clients, args.seconds)
            trivial_rps = throughput(server.port, "/healthz", args.clients, args.seconds)
            print(f"throughput with {args.clients} clients: board {board_rps:.0f} req/s, trivial {trivial_rps:.0f} "
                  f"req/s, ratio {board_rps / trivial_rps:.2f}")
        os.system("uptime")


if __name__ == "__main__":
    main()
