"""Messages to citizens (docs/outbox.md): how many messages per second one outbox worker sends to a local
gateway, and call-next's latency with and without the outbox at work.

    .venv/bin/python bench/notify.py                     # SQLite
    .venv/bin/python bench/notify.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/botram_bench

1. `--messages` rows are written to the outbox (one unit of work each, as call-next writes them) and one
   worker sends them through apprise to a `json://` endpoint on 127.0.0.1: messages per second.
2. bench/queue.py twice on a fresh database, without and with `--notify` (every visitor ticked, the server's
   one outbox process sends and runs the "near" look-out): call-next p50/p95/p99 side by side.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[0] = str(ROOT)

from bench._server import botram, env_for, fresh_database  # noqa: E402


def messages_per_second(database_url: str | None, count: int) -> None:
    import os

    url, workdir = fresh_database(database_url)
    env = env_for(url, workdir)
    botram(env, "init")
    from tests.notify_gateway import Gateway

    gateway = Gateway()
    env["BOTRAM_NOTIFY_URLS"] = gateway.url
    os.environ.update(env)
    from botram import create_app
    from botram.domain import outbox
    from botram.domain.uow import unit_of_work
    from botram.outbox_worker import Worker, install_senders

    @unit_of_work(audited=False)
    def write(n: int) -> None:
        outbox.enqueue("message.called", f"bench:{n}", {"phone": f"+62812{n:08d}", "text": f"Tiket A-{n:03d}"})

    app = create_app()
    with app.app_context():
        started = time.perf_counter()
        for n in range(count):
            write(n)
        written = time.perf_counter() - started
        worker = Worker(app)
        install_senders(app, worker)
        started = time.perf_counter()
        while worker.run_once():
            pass
        sent = time.perf_counter() - started
    received = len(gateway.messages())
    gateway.down()
    print(f"outbox: {count} rows written in {written:.2f} s ({count / written:.0f}/s, one unit of work each)")
    print(f"worker: {received} messages received by the gateway in {sent:.2f} s = {received / sent:.1f} messages/s "
          f"(one worker, apprise json:// to 127.0.0.1)")


def call_next_with_and_without(database_url: str | None, seconds: float, desks: int, waiting: int,
                               template: str | None = None) -> None:
    for flag in ([], ["--notify"]):
        command = [sys.executable, str(ROOT / "bench" / "queue.py"), "--seconds", str(seconds), "--desks", str(desks),
                   "--waiting", str(waiting), *flag, *(["--template", template] if template else [])]
        if database_url:
            command += ["--database-url", database_url]
        printed = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        keep = [line for line in printed.splitlines() if line.startswith(("call-next", "messages", "errors"))]
        print(f"{'with' if flag else 'without'} the outbox: " + " | ".join(keep))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--desks", type=int, default=20)
    parser.add_argument("--waiting", type=int, default=2000)
    parser.add_argument("--skip-queue", action="store_true", help="only the messages-per-second part")
    parser.add_argument("--template", default=None, help="passed to bench/queue.py (a prepared SQLite database)")
    args = parser.parse_args()
    messages_per_second(args.database_url, args.messages)
    if not args.skip_queue:
        call_next_with_and_without(args.database_url, args.seconds, args.desks, args.waiting, args.template)


if __name__ == "__main__":
    main()
