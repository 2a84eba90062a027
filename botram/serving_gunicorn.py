"""`botram serve` on POSIX: gunicorn's arbiter and gthread workers (one per CPU core unless `--processes` says
otherwise), run inside the `botram` command (no separate `gunicorn` command line), each worker building its
own app with `create_app()`.

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

import os
import sys
from typing import Callable

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter as GunicornArbiter
from gunicorn.workers.gthread import ThreadWorker

from . import board_watch, metrics, settings
from .extensions import db
from .logs import JsonLines, Scrub, scrub  # noqa: F401  (scrub: where tests/test_serving.py imports it)

TIMEOUT = 30  # seconds without a heartbeat from a worker's main loop before it is replaced (not a request limit)
GRACEFUL_TIMEOUT = 30  # what a stopping worker gives its requests in flight; streams end at once (see above)
KEEPALIVE = 120  # an idle kept-alive connection is closed after this; waitress's channel_timeout was 120 too

_slot = 0  # this worker's number (1..N), set after the fork


class Worker(ThreadWorker):
    """gthread, plus: the process's board streams end as soon as the worker is told to stop."""

    def init_process(self) -> None:
        _fewer_malloc_arenas()
        super().init_process()

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


def _fewer_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives threads up to eight malloc arenas per core, and every open stream is a thread: with
    hundreds of streams the process's memory grew by arenas, not by data. Two arenas (what
    MALLOC_ARENA_MAX=2 does) keep it flat; the threads seldom allocate at once (bench/streams.py)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to tune
        pass


class Log(glogging.Logger):
    """Gunicorn's logger whose error log passes through `scrub` (the access log stays off), as JSON lines when
    BOTRAM_LOG_FORMAT=json."""

    _scrub = Scrub()

    def setup(self, cfg) -> None:
        super().setup(cfg)
        if self._scrub not in self.error_log.filters:
            self.error_log.addFilter(self._scrub)
        if settings.read().log_format == "json":
            for handler in self.error_log.handlers:
                handler.setFormatter(JsonLines())


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
            # every thread may hold a connection, and kept-alive ones wait beside them without a thread
            "worker_connections": max(1000, threads * 2),
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
            "child_exit": _worker_exited,
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

    def run(self) -> None:
        try:
            Arbiter(self).run()
        except RuntimeError as exc:  # what BaseApplication.run does with gunicorn's own arbiter
            print(f"\nError: {exc}\n", file=sys.stderr)
            sys.exit(1)

    def _when_ready(self, arbiter) -> None:
        # Before the first worker is forked: the workers inherit the outbox process's wake pipe.
        arbiter.start_outbox(self.parent_app)
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


class Arbiter(GunicornArbiter):
    """Gunicorn's arbiter, plus the server's one outbox worker process (botram/outbox_process.py): started when
    the socket is bound, started again within seconds if it dies, stopped after the request workers."""

    outbox = None

    def start_outbox(self, app: Flask | None) -> None:
        from .outbox_worker import start_beside_server

        if app is None:
            from . import create_app

            app = create_app()
        self.outbox = start_beside_server(app, self.LISTENERS)

    def manage_workers(self) -> None:  # the main loop calls it at least once a second
        super().manage_workers()
        if self.outbox is not None:
            self.outbox.check()

    def stop(self, graceful: bool = True) -> None:
        super().stop(graceful)
        if self.outbox is not None:
            self.outbox.stop()
            self.outbox = None


def _number_the_worker(arbiter, worker) -> None:
    """Give the worker the lowest number no live worker has: a replacement takes the number of the worker it
    replaces (after a HUP the new workers count on from the old ones until those have stopped)."""
    taken = {getattr(other, "slot", 0) for other in arbiter.WORKERS.values()}
    worker.slot = next(n for n in range(1, len(taken) + 2) if n not in taken)


def _worker_exited(arbiter, worker) -> None:
    metrics.worker_gone(worker.pid)


def serve(app: Flask, *, host: str, port: int, threads: int, processes: int,
          announce: Callable[[int], None] | None = None) -> None:
    """Serve until stopped. The workers' metric files live in a directory of this start only (a restart must
    not add yesterday's counts to today's), removed when the server stops."""
    from . import create_app

    metrics_dir, arbiter_pid = metrics.use_multiprocess_dir(), os.getpid()
    try:
        Server(create_app, host=host, port=port, threads=threads, processes=processes, announce=announce,
               parent_app=app).run()
    finally:
        # A worker leaves gunicorn by SystemExit through this same frame (it was forked inside run()): only
        # the arbiter removes the directory, once every worker is gone.
        if os.getpid() == arbiter_pid:
            metrics.remove_multiprocess_dir(metrics_dir)
