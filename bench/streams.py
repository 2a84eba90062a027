"""Open streams never starve the rest: N board and desk-console streams held open on one `botram serve`
process while officers sign in, desks call and reception issues tickets.

    .venv/bin/python bench/streams.py                   # 500 streams (400 boards, 100 desk consoles), one process
    .venv/bin/python bench/streams.py --streams 600     # past BOTRAM_STREAMS (500): the rest are told `busy`

The streams are plain sockets held by one selector thread (reading and dropping what arrives, like a
browser that keeps up). With them open, for --seconds: one sign-in after another (the login form, as an
officer's browser posts it), three desks calling and finishing, and reception issuing tickets, each on its
own keep-alive connection. Prints p50/p95 of each, how many streams were open (and how many refused busy)
at the end, and the server's resident memory (summed RSS as before, the worker's own, and the PSS of all).
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import selectors
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench._server import Client, Server, botram, demo_database, describe  # noqa: E402

PASSWORD = "bench-sandi-1"
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def session_cookie(port: int, username: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"http://127.0.0.1:{port}/login").read().decode()
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD,
                                   "csrf_token": _CSRF.search(page).group(1)}).encode()
    opener.open(f"http://127.0.0.1:{port}/login", data=form).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def sign_in_once(port: int, username: str) -> float:
    """An officer's sign-in: the form page, then the press and its redirect to the desk page."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"http://127.0.0.1:{port}/login", timeout=60).read().decode()
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD,
                                   "csrf_token": _CSRF.search(page).group(1)}).encode()
    started = time.perf_counter()
    opener.open(f"http://127.0.0.1:{port}/login", data=form, timeout=60).read()
    return time.perf_counter() - started


class Streams:
    """Many open event streams on one selector thread."""

    def __init__(self, port: int):
        self.port = port
        self.selector = selectors.DefaultSelector()
        self.received: dict[socket.socket, bytes] = {}
        self.closed = 0
        self.stop = False
        self.lock = threading.Lock()

    def open(self, path: str, cookie: str | None = None) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port))
        headers = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        if cookie:
            headers += f"Cookie: {cookie}\r\n"
        sock.sendall((headers + "\r\n").encode())
        sock.setblocking(False)
        with self.lock:
            self.received[sock] = b""
            self.selector.register(sock, selectors.EVENT_READ)

    def run(self) -> None:
        while not self.stop:
            with self.lock:
                ready = self.selector.select(timeout=0.2) if self.received else []
            for key, _ in ready:
                sock = key.fileobj
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                if not data:
                    with self.lock:
                        self.selector.unregister(sock)
                    self.closed += 1
                    continue
                head = self.received[sock]
                if len(head) < 4000:
                    self.received[sock] = head + data[:4000]
            if not ready:
                time.sleep(0.01)

    def counts(self) -> tuple[int, int, int]:
        """(streaming, told busy, other) among those that answered."""
        streaming = busy = other = 0
        for head in self.received.values():
            if b"event: busy" in head:
                busy += 1
            elif b": connected" in head:
                streaming += 1
            elif head:
                other += 1
        return streaming, busy, other


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--desk-share", type=float, default=0.2, help="of the streams, desk consoles")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--changes", type=int, default=12, help="tickets in the per-change CPU measure")
    args = parser.parse_args()

    url, env = demo_database(args.database_url, PASSWORD)
    reception = botram(env, "create-token", "resepsionis").strip()
    coordinator = botram(env, "create-token", "koordinator").strip()

    with Server(env, threads=args.threads, processes=args.processes) as server:
        api = Client(server.port, reception)
        _s, events, _e = api.request("GET", "/api/v1/events?status=open")
        event_id = events[0]["id"]
        _s, desks, _e = api.request("GET", f"/api/v1/events/{event_id}/desks")
        desks = sorted(desks, key=lambda d: d["number"])
        calling, watched = desks[:3], desks[3:] or desks
        for desk in calling:
            for _ in range(60):
                api.request("POST", f"/api/v1/events/{event_id}/visits", {"services": [desk["services"][0]["id"]]})
        _s, shown, _e = api.request("GET", f"/api/v1/events/{event_id}/board")
        cookie = session_cookie(server.port, "koordinator")

        def workload(seconds: float) -> tuple[list[float], list[float], list[float], float]:
            """Sign-ins one after another, three desks calling, reception issuing; their times and peak RSS."""
            signins: list[float] = []
            calls: list[float] = []
            tickets: list[float] = []
            stop_at = time.monotonic() + seconds

            def sign_ins() -> None:
                while time.monotonic() < stop_at:
                    signins.append(sign_in_once(server.port, "koordinator"))

            def desk_loop(desk: dict) -> None:
                client = Client(server.port, coordinator)
                while time.monotonic() < stop_at:
                    status, called, elapsed = client.request("POST", f"/api/v1/desks/{desk['id']}/call-next")
                    calls.append(elapsed)
                    time.sleep(0.5)
                    if status == 200:
                        client.request("POST", f"/api/v1/steps/{called['step_id']}/finish", {"outcome": "done"})

            def reception_loop() -> None:
                client = Client(server.port, reception)
                while time.monotonic() < stop_at:
                    _s, _b, elapsed = client.request("POST", f"/api/v1/events/{event_id}/visits",
                                                     {"services": [calling[0]["services"][0]["id"]]})
                    tickets.append(elapsed)
                    time.sleep(0.3)

            workers = [threading.Thread(target=sign_ins), threading.Thread(target=reception_loop),
                       *(threading.Thread(target=desk_loop, args=(d,)) for d in calling)]
            for t in workers:
                t.start()
            peak, apart = server.rss_mb(), server.memory_mb()
            while any(t.is_alive() for t in workers):
                peak = max(peak, server.rss_mb())
                apart = {k: max(v, server.memory_mb()[k]) for k, v in apart.items()}
                time.sleep(0.5)
            return signins, calls, tickets, (peak, apart)

        def report(label: str, figures) -> None:
            signins, calls, tickets, (peak, apart) = figures
            print(f"{label}: server memory peak {peak:.0f} MB (RSS of arbiter + outbox + {args.processes} "
                  f"worker(s), shared pages counted in each); the worker alone {apart['worker']:.0f} MB RSS; "
                  f"all together {apart['pss']:.0f} MB PSS")
            print(f"  sign-in (press → desk page): {describe(signins)}")
            print(f"  call-next (3 desks):         {describe(calls)}")
            print(f"  ticket (reception):          {describe(tickets)}")

        def cpu_cost(label: str, changes: int = args.changes, gap: float = 0.25, idle: float = 10.0) -> None:
            """The server's CPU (its processes only; the machine's load hardly moves it, unlike latencies) while
            nothing happens, and per queue change: one ticket every `gap` seconds, each a change every open
            stream of the event is told of. What streams cost is the difference between the two runs. The
            kernel counts CPU in 10 ms ticks: over `idle` seconds (10; it was 3, so 3.3 ms/s steps) idle CPU is
            told to 1 ms/s."""
            before = server.cpu_seconds()
            time.sleep(idle)
            idle_ms = (server.cpu_seconds() - before) / idle * 1000
            client = Client(server.port, reception)
            before = server.cpu_seconds()
            for _ in range(changes):
                client.request("POST", f"/api/v1/events/{event_id}/visits",
                               {"services": [watched[0]["services"][0]["id"]]})
                time.sleep(gap)
            time.sleep(1.0)  # the last change's fan-out
            per_change = (server.cpu_seconds() - before - idle_ms / 1000 * (changes * gap + 1.0)) / changes * 1000
            print(f"{label}: server CPU idle {idle_ms:.1f} ms/s; per change (a ticket and its fan-out) "
                  f"{per_change:.1f} ms  (load {os.getloadavg()[0]:.1f})", flush=True)

        print(f"database: {url.split('@')[-1]}  server: --processes {args.processes} --threads {args.threads} "
              f"(BOTRAM_STREAMS default 500 per process)")
        cpu_cost("without streams")
        report("without streams", workload(args.seconds))

        streams = Streams(server.port)
        reader = threading.Thread(target=streams.run, daemon=True)
        reader.start()
        desk_streams = int(args.streams * args.desk_share)
        for i in range(args.streams):
            if i < desk_streams:
                desk = watched[i % len(watched)]
                streams.open(f"/desk/{desk['id']}/stream?v={shown['version']}&current=0&state=open", cookie)
            else:
                streams.open(f"/board/{event_id}/stream?v={shown['version']}")
        deadline = time.monotonic() + 60  # every stream answered (a loaded machine takes its time)
        while sum(streams.counts()) < args.streams and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(1.0)
        opened = streams.counts()
        cpu_cost(f"with {args.streams} streams open")
        figures = workload(args.seconds)
        streaming, busy, other = streams.counts()
        streams.stop = True
        print(f"streams asked: {args.streams} ({desk_streams} desk consoles, {args.streams - desk_streams} boards); "
              f"once opened: streaming {opened[0]}, told busy {opened[1]}; at the end: streaming {streaming}, "
              f"busy {busy}, other answers {other}, closed by the server {streams.closed}")
        report(f"with {args.streams} streams open", figures)
    os.system("uptime")


if __name__ == "__main__":
    main()
