"""`botram serve --processes N` on POSIX: gunicorn's arbiter and gthread workers, run inside the `botram`
command (no separate `gunicorn` command line), each worker building its own app with `create_app()`.

Why these settings (docs/operations.md, "Processes"):

- **gthread, `threads` per worker.** Every open board stream holds a thread for as long as the projector is
  on; the other requests of the worker are served by the remaining threads, as under waitress.
- **`timeout` does not limit a request.** In a gthread worker the main thread, not a request thread, tells the
  arbiter it is alive (at least once a second, whatever the request threads do), so a board stream held open
  for hours never trips it; it only catches a worker whose main loop is stuck, which is then replaced. (The
  `sync` worker would kill a worker whose single request runs longer than `timeout`: every board stream.)
- **Stopping ends the streams.** A stream never ends by itself within a stop's grace period (it is re-opened
  every ten minutes), so a stopping worker would wait out `graceful_timeout` and then be killed in the middle
  of its other requests. `Worker` below ends the process's streams as soon as the worker is told to stop (TERM
  on shutdown or after a HUP, QUIT/INT, or its parent gone): each board gets a `reconnect` event and comes back
  on a worker that keeps serving, and `graceful_timeout` is left to the short requests in flight.
- **No access log; error lines without query strings or status-page tokens.** Waitress kept no access log;
  nor does this. Gunicorn's own error lines can quote a request line: `Log` cuts what may identify a citizen.
- **`forwarded_allow_ips` empty.** Proxy headers are trusted only through `BOTRAM_PROXY_HOPS` (the app's
  ProxyFix), the same under waitress and gunicorn.
- **No control socket.** Gunicorn would open one per user in the home directory; several `botram serve`
  (tests, a laptop running two events) would fight over it. Signals do the same job: HUP, TERM, TTIN/TTOU.
"""
from __future__ import annotations

import logging
import re
from typing import Callable

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import ThreadWorker

from . import board_watch
from .extensions import db

TIMEOUT = 30  # seconds without a heartbeat from a worker's main loop before it is replaced (not a request limit)
GRACEFUL_TIMEOUT = 30  # what a stopping worker gives its requests in flight; streams end at once (see above)
KEEPALIVE = 120  # an idle kept-alive connection is closed after this; waitress's channel_timeout was 120 too

_slot = 0  # this worker's number (1..N), set after the fork


class Worker(ThreadWorker):
    """gthread, plus: the process's board streams end as soon as the worker is told to stop."""

    def handle_exit(self, sig, frame) -> None:  # TERM: graceful stop (shutdown, or replaced after a HUP)
        board_watch.close_streams()
        super().handle_exit(sig, frame)

    def handle_quit(self, sig, frame) -> None:  # QUIT, INT (Ctrl-C): quick stop
        board_watch.close_streams()
        super().handle_quit(sig, frame)

    def is_parent_alive(self) -> bool:
        if super().is_parent_alive():
            return True
        board_watch.close_streams()  # the arbiter was killed: stop and release the port, streams included
        return False


_QUERY = re.compile(r"\?[^\s'\"]+")
_STATUS_TOKEN = re.compile(r"(/status/)[^\s/?'\"]+")


def scrub(text: str) -> str:
    """A log line without query strings (searches by name, ticket codes) or status-page tokens."""
    return _STATUS_TOKEN.sub(r"\1…", _QUERY.sub("?…", text))


class _Scrub(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage()), ()
        return True


class Log(glogging.Logger):
    """Gunicorn's logger whose error log passes through `scrub` (the access log stays off)."""

    _scrub = _Scrub()

    def setup(self, cfg) -> None:
        super().setup(cfg)
        if self._scrub not in self.error_log.filters:
            self.error_log.addFilter(self._scrub)


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class Server(BaseApplication):
    """The arbiter around our app factory: every worker calls `factory()` after the fork, so no database
    connection, watcher thread or cache is shared between processes."""

    def __init__(self, factory: Callable[[], Flask], *, host: str, port: int, threads: int, processes: int,
                 announce: Callable[[int], None] | None = None, parent_app: Flask | None = None):
        self.factory = factory
        self.options = {
            "bind": [bind_address(host, port)],
            "workers": processes,
            "threads": threads,
            "worker_class": Worker,
            "timeout": TIMEOUT,
            "graceful_timeout": GRACEFUL_TIMEOUT,
            "keepalive": KEEPALIVE,
            "backlog": 1024,
            "preload_app": False,
            "proc_name": "botram",
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "info",
            "logger_class": Log,
            "forwarded_allow_ips": "",
            "control_socket_disable": True,
            "pre_fork": _number_the_worker,
            "post_fork": self._post_fork,
            "when_ready": self._when_ready,
        }
        self.announce = announce
        self.parent_app = parent_app
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            if name in self.cfg.settings:  # a setting an older gunicorn lacks is simply not used
                self.cfg.set(name, value)

    def load(self):
        from .serving import answered_by

        return answered_by(self.factory(), _slot)

    def _when_ready(self, arbiter) -> None:
        if self.announce is not None:  # the bound port: with port 0 the system picked it
            self.announce(arbiter.LISTENERS[0].getsockname()[1])

    def _post_fork(self, arbiter, worker) -> None:
        global _slot
        _slot = worker.slot
        if self.parent_app is not None:
            # The workers build their own app; should the command's app have opened a connection before the
            # fork, it belongs to the arbiter, and a forked copy must never speak on it.
            with self.parent_app.app_context():
                for engine in db.engines.values():
                    engine.dispose(close=False)


def _number_the_worker(arbiter, worker) -> None:
    """Give the worker the lowest number no live worker has: a replacement takes the number of the worker it
    replaces (after a HUP the new workers count on from the old ones until those have stopped)."""
    taken = {getattr(other, "slot", 0) for other in arbiter.WORKERS.values()}
    worker.slot = next(n for n in range(1, len(taken) + 2) if n not in taken)


def serve(app: Flask, *, host: str, port: int, threads: int, processes: int,
          announce: Callable[[int], None] | None = None) -> None:
    from . import create_app

    Server(create_app, host=host, port=port, threads=threads, processes=processes, announce=announce,
           parent_app=app).run()
