"""Does the server's memory level off under a steady load, or keep growing? Prints its resident memory
every --every seconds while desks call and finish and displays poll the board.

    .venv/bin/python bench/memory.py                     # SQLite, one server process, 2 minutes
    .venv/bin/python bench/memory.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/botram_bench

A leak shows as growth in every interval; a server that only warms up (caches, thread stacks, Python's
heap reaching its working size) grows in the first interval and then stays flat.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the project root, not bench/ (see bench/queue.py)

from bench._server import Client, Server, demo_database  # noqa: E402
from bench.queue import prepare  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--desks", type=int, default=10)
    parser.add_argument("--displays", type=int, default=20, help="clients polling the board endpoints")
    parser.add_argument("--waiting", type=int, default=6000)
    parser.add_argument("--every", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()

    url, env = demo_database(args.database_url)
    event_id, tokens = prepare(env, args.desks, args.waiting)
    stop = threading.Event()
    served = [0]

    def desk(desk_id: int, token: str, port: int) -> None:
        client = Client(port, token)
        while not stop.is_set():
            status, body, _ = client.request("POST", f"/api/v1/desks/{desk_id}/call-next")
            if status != 200:
                time.sleep(0.2)
                continue
            client.request("POST", f"/api/v1/steps/{body['step_id']}/finish", {"outcome": "done"})
            served[0] += 1

    def display(port: int) -> None:
        client = Client(port)
        while not stop.is_set():
            client.request("GET", f"/api/v1/events/{event_id}/board")
            client.request("GET", f"/board/{event_id}/panel")
            time.sleep(0.05)

    with Server(env, processes=args.processes) as server:
        print(f"database: {url.split('@')[-1]}  desks={args.desks} displays={args.displays} "
              f"server processes={args.processes}")
        print(f"  0 s: {server.rss_mb():.0f} MB")
        threads = [threading.Thread(target=desk, args=(d, t, server.port), daemon=True) for d, t in tokens]
        threads += [threading.Thread(target=display, args=(server.port,), daemon=True) for _ in range(args.displays)]
        for t in threads:
            t.start()
        for k in range(1, args.rounds + 1):
            time.sleep(args.every)
            print(f"{k * args.every:3.0f} s: {server.rss_mb():.0f} MB  ({served[0]} visitors served so far)")
        stop.set()
        for t in threads:  # let requests in flight finish before the server stops
            t.join(10)


if __name__ == "__main__":
    main()
