"""`botram serve`: the production WSGI server (waitress), in one process or in several sharing one socket.

Waitress runs every request of a process under one interpreter lock, so one process uses one core however
many threads it has. With `--processes N` the listening socket is opened once and N forked workers accept
from it; the kernel spreads the connections. Nothing in BOTRAM keeps shared state in memory: the queue
version lives in the database and every process runs its own board watchers, so boards and desks behave
the same whichever worker they reach.

A supervisor (the parent) restarts a worker that dies, and stops them all on SIGTERM or Ctrl-C. A worker
whose parent disappears (killed with SIGKILL) stops by itself, so it never keeps the port.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
from typing import Callable

from flask import Flask

from .extensions import db

RESTART_PAUSE = 1.0  # seconds between restarts of a worker that keeps dying, so a broken setup does not spin


def waitress_options(threads: int) -> dict:
    return {"threads": threads, "connection_limit": max(200, threads * 4), "channel_timeout": 120,
            "ident": "botram"}


def serve(app: Flask, *, host: str, port: int, threads: int, processes: int = 1,
          announce: Callable[[int], None] | None = None) -> None:
    """Bind first, then serve. `announce` learns the bound port: with port 0 the kernel picks a free one,
    which is how the browser tests start servers side by side without racing for a port."""
    from waitress import serve as waitress_serve

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=1024)
    if announce is not None:
        announce(listener.getsockname()[1])
    if processes <= 1:
        waitress_serve(app, sockets=[listener], **waitress_options(threads))
        return
    _Supervisor(app, listener, threads, processes).run()


class _Supervisor:
    def __init__(self, app: Flask, listener: socket.socket, threads: int, processes: int):
        self.app = app
        self.listener = listener
        self.threads = threads
        self.processes = processes
        self.workers: dict[int, float] = {}
        self.slots: dict[int, int] = {}  # pid -> worker number 1..N; a replacement takes the number it replaces
        self.stopping = False

    def run(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for _ in range(self.processes):
            self._spawn()
        while self.workers:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            started = self.workers.pop(pid, None)
            self.slots.pop(pid, None)
            if started is None or self.stopping:
                continue
            print(f"botram: worker {pid} ended ({_describe(status)}); starting another", file=sys.stderr,
                  flush=True)
            if time.monotonic() - started < RESTART_PAUSE:
                time.sleep(RESTART_PAUSE)
            if not self.stopping:
                self._spawn()
        self.listener.close()

    def _stop(self, signum, frame) -> None:
        self.stopping = True
        for pid in list(self.workers):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def _spawn(self) -> None:
        parent = os.getpid()
        taken = set(self.slots.values())
        slot = next(n for n in range(1, self.processes + 1) if n not in taken)
        pid = os.fork()
        if pid:
            self.workers[pid] = time.monotonic()
            self.slots[pid] = slot
            return
        code = 0
        try:
            self._worker(parent, slot)
        except KeyboardInterrupt:
            pass
        except BaseException:  # pragma: no cover - reported, then the supervisor starts another worker
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)

    def _worker(self, parent: int, slot: int) -> None:
        from waitress import serve as waitress_serve

        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # Connections the parent may have opened belong to it: a forked copy must never speak on them.
        with self.app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)
        threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True, name="parent-watch").start()
        waitress_serve(_answered_by(self.app, slot), sockets=[self.listener], **waitress_options(self.threads))


def _answered_by(app, slot: int):
    """Name the worker in every answer (`X-Botram-Worker: 2`): which process served a board or a desk is
    otherwise invisible, and the tests need it to prove a change made through one worker reaches another."""
    value = str(slot)

    def wsgi(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ("X-Botram-Worker", value)], exc_info)

        return app(environ, start)

    return wsgi


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit code {os.WEXITSTATUS(status)}"
