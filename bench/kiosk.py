"""The ticket kiosks at the door: N presses at the same moment spread over K kiosks, each kiosk with its own
network thermal printer (tests/printer_endpoint.py: a TCP server on 127.0.0.1 that answers the paper query
like an ESC/POS printer), against `botram serve` on a fresh database with the demo seeded.

    .venv/bin/python bench/kiosk.py                        # 20 presses, 3 kiosks, SQLite, the server's defaults
    .venv/bin/python bench/kiosk.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/botram_bench
    .venv/bin/python bench/kiosk.py --presses 40 --kiosks 3 --processes 2

Each press is what the kiosk's browser does: the start screen and the priority screen are loaded first (the
citizens walked up), then every press posts its ticket form at once. Prints p50/p95/max of the press (post →
the 303 to the ticket) and of the press to the ticket's bytes having reached its printer (the outbox worker
of `botram serve` sends them after the commit), and checks the count: N tickets, N print jobs, none twice.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench._server import Server, demo_database, percentile  # noqa: E402
from tests.escpos_stream import read  # noqa: E402
from tests.printer_endpoint import FakePrinter  # noqa: E402


class TimedPrinter(FakePrinter):
    """A printer that notes when each ticket's bytes had all arrived (the connection closed)."""

    def __init__(self):
        self.arrived: list[tuple[float, bytes]] = []
        super().__init__()

    def _take(self, conn) -> None:
        before = len(self.jobs)
        super()._take(conn)
        at = time.perf_counter()
        with self._lock:
            if len(self.jobs) > before:
                self.arrived.append((at, self.jobs[-1]))


def prepare(env: dict, printers: list[TimedPrinter]) -> list[str]:
    """One kiosk account with a device token per printer, the printer attached to it; the raw tokens."""
    os.environ.update(env)
    from botram import create_app
    from botram.domain import printing
    from botram.domain.tokens import issue_token
    from botram.domain.users import create_user
    from botram.extensions import db

    app = create_app()
    tokens = []
    with app.app_context():
        for n, printer in enumerate(printers, 1):
            user = create_user(f"kios{n}", f"Kios {n}", "rahasia-kios-123", "kiosk")
            token, raw = issue_token(user, f"kios pintu {n}")
            printing.create_printer(printing.PrinterInput(name=f"Printer kios {n}", connection="network",
                                                          target=printer.target, token_id=token.id))
            db.session.commit()
            tokens.append(raw)
    return tokens


def big_code(data: bytes) -> str:
    return next(text for text, size in read(data).lines if size >= 3).strip()


def ms(values: list[float]) -> str:
    ms_values = [v * 1000 for v in values]
    return (f"n={len(ms_values)} p50={percentile(ms_values, 50):.0f} ms p95={percentile(ms_values, 95):.0f} ms "
            f"max={max(ms_values, default=float('nan')):.0f} ms")


def main() -> None:
    import requests

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url")
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--kiosks", type=int, default=3)
    parser.add_argument("--processes", type=int, default=None, help="botram serve --processes (its default if unset)")
    parser.add_argument("--threads", type=int, default=None, help="botram serve --threads (its default if unset)")
    args = parser.parse_args()

    url, env = demo_database(args.database_url)
    printers = [TimedPrinter() for _ in range(args.kiosks)]
    tokens = prepare(env, printers)
    print(f"database: {url.split('://')[0]}; {args.presses} presses at once on {args.kiosks} kiosks; "
          f"{os.cpu_count()} CPUs, load average before {os.getloadavg()[0]:.2f}")
    with Server(env, threads=args.threads, processes=args.processes) as server:
        base = f"http://127.0.0.1:{server.port}"
        event_id = requests.get(f"{base}/api/v1/events?status=open", timeout=30).json()[0]["id"]
        presses = []
        service = None
        for n in range(args.presses):  # each press on its own screen: the priority form with its press key
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {tokens[n % args.kiosks]}"
            start = session.get(f"{base}/kiosk/{event_id}", timeout=30).text
            service = service or re.search(r'name="layanan" value="(\d+)"', start).group(1)
            screen = session.get(f"{base}/kiosk/{event_id}/prioritas", params={"layanan": service}, timeout=30).text
            form = dict(re.findall(r'name="(csrf_token|press)" value="([^"]+)"', screen))
            presses.append((session, {**form, "layanan": service, "priority": "none"}))

        barrier = threading.Barrier(len(presses))
        pressed: list[tuple[float, float, object]] = [None] * len(presses)

        def press(i: int, session, form) -> None:
            barrier.wait()
            started = time.perf_counter()
            answer = session.post(f"{base}/kiosk/{event_id}/tiket", data=form, timeout=120, allow_redirects=False)
            pressed[i] = (started, time.perf_counter(), answer)

        cpu_before = server.cpu_seconds()
        threads = [threading.Thread(target=press, args=(i, s, f)) for i, (s, f) in enumerate(presses)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
        deadline = time.monotonic() + 60
        while sum(len(p.arrived) for p in printers) < args.presses and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # anything printed twice would arrive about now
        cpu = server.cpu_seconds() - cpu_before

        statuses = [answer.status_code for _s, _e, answer in pressed]
        codes = {}
        for i, (session, _form) in enumerate(presses):  # which ticket each press made (after the timing)
            page = session.get(base + pressed[i][2].headers["Location"], timeout=30).text
            codes[re.search(r'kiosk-ticket-code code">([^<]+)<', page).group(1).strip()] = pressed[i][0]
        arrivals = [(at, big_code(data)) for p in printers for at, data in p.arrived]
        printed = [code for _at, code in arrivals]
        to_paper = [at - codes[code] for at, code in arrivals if code in codes]
        press_times = [ended - started for started, ended, _a in pressed]
        print(f"answers: {sorted(set(statuses))} ×{len(statuses)}; tickets {len(codes)}, print jobs {len(printed)}, "
              f"distinct printed {len(set(printed))}, per printer {[len(p.arrived) for p in printers]}")
        print(f"press (post → 303):          {ms(press_times)}")
        print(f"press → bytes at the printer: {ms(to_paper)}")
        print(f"server CPU during the burst: {cpu:.2f} s; load average after {os.getloadavg()[0]:.2f}")
        if len(codes) != args.presses or sorted(printed) != sorted(codes):
            print("MISMATCH: tickets and printed tickets differ")
    for p in printers:
        p.close()


if __name__ == "__main__":
    main()
