"""The outbox worker (docs/outbox.md): the `botram outbox run` command, which `botram serve` starts as one child
process beside the server (botram/outbox_process.py), sends what the outbox holds after the commit, outside
any transaction.

It wakes at once when a server process committed a row (a byte through the wake pipe; a commit of its own
process wakes it too), and polls every POLL seconds for retries that came due and rows of servers that cannot
wake it. Any number of workers may run against one database: each claims its own rows (SKIP LOCKED on
PostgreSQL, the writer lock on SQLite).
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from flask import Flask

from .domain import outbox

log = logging.getLogger("botram.outbox")

POLL = 1.0
GATHER = 0.25  # seconds a woken worker waits before claiming: a message leaves within a quarter second


def install_senders(app: Flask, worker: "Worker | None" = None) -> None:
    """Register the senders this app has configuration for (messages when BOTRAM_NOTIFY_URLS is set), and the
    look-outs the worker runs before each pass (the "near" messages)."""
    from .domain.notify import sender
    from .domain.notify.watch import NearWatch
    from .domain.printing import install_sender as install_printing

    from .domain.notify.booking import ReminderSweep

    install_printing()
    if sender.install(app) and worker is not None:
        worker.before_pass.append(NearWatch())
        worker.before_pass.append(ReminderSweep())  # the day-before booking reminders


class Worker:
    def __init__(self, app: Flask, poll: float = POLL, gather: float = GATHER):
        self.app = app
        self.poll = poll
        self.gather = gather
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.before_pass: list[Callable[[], object]] = []

    def run_once(self) -> int:
        with self.app.app_context():
            for look_out in self.before_pass:
                look_out()
            return outbox.deliver_due()

    def run(self, parent_pid: int | None = None, wake_fd: int | None = None) -> None:
        """Until `stop()` (or, with `parent_pid`, until the server that started it is gone): send what is due;
        wait for a commit (of this process, or a byte on `wake_fd`) or the next poll."""
        from .outbox_process import parent_gone

        wake = outbox.wake_event()
        if wake_fd is not None:
            threading.Thread(target=_relay_wakes, args=(wake_fd, wake), name="botram-outbox-wake",
                             daemon=True).start()
        while not self._stop.is_set():
            if parent_gone(parent_pid):
                log.warning("the server that started this outbox worker is gone; stopping")
                break
            try:
                claimed = self.run_once()
            except Exception:  # the database away for a moment: log it and try again at the next poll
                log.exception("outbox worker pass failed")
                claimed = 0
            if claimed:
                continue  # there may be more due
            if wake.wait(self.poll) and self.gather:
                # Woken by a commit: gather the rows the next calls commit in the next moment, and claim them
                # in one unit of work instead of one each (every claim takes the SQLite writer lock the
                # desks' calls wait for; bench/queue.py --notify)
                self._stop.wait(self.gather)
            wake.clear()

    def start(self) -> "Worker":
        self._thread = threading.Thread(target=self.run, name="botram-outbox", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        outbox.wake_event().set()
        if self._thread is not None:
            self._thread.join(timeout)


def _relay_wakes(fd: int, wake: threading.Event) -> None:
    """Bytes on the wake pipe are commits of outbox rows in the server's processes. Ends when every writer
    closed it (the server is gone)."""
    import os

    while True:
        try:
            if not os.read(fd, 4096):
                return
        except OSError:
            return
        wake.set()


def start_beside_server(app: Flask, listeners=()):
    """Called once by `botram serve`'s main process (gunicorn's arbiter, or the waitress process): one outbox
    worker process for the whole server, never one per request process (botram/outbox_process.py).
    `listeners`: the server's sockets, closed in a forked worker."""
    if not app.config.get("BOTRAM_OUTBOX_WORKER"):
        return None
    from .domain import printing  # noqa: F401  (imported before the fork: the worker starts at once)
    from .domain.notify import booking, sender, watch  # noqa: F401
    from .outbox_process import OutboxChild

    child = OutboxChild(app, listeners)
    outbox.set_wake_pipe(child.wake_write)  # inherited by the request processes forked after this
    child.start()
    return child
