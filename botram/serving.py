"""`botram serve`: the production WSGI server.

- POSIX (Linux, macOS): gunicorn's arbiter with N gthread workers sharing the port, one per CPU core unless
  `--processes` says otherwise (botram/serving_gunicorn.py). It replaces a worker that dies, restarts the
  workers gracefully on SIGHUP, stops them all on SIGTERM or Ctrl-C, and a worker whose arbiter was killed
  stops by itself, so it never keeps the port. One process runs Python on one core however many threads it
  has, which is why the default is a process per core: twenty officers signing in at once are served by
  every core (bench/signin.py, docs/operations.md "Processes").
- Windows, where gunicorn cannot run (no fork): waitress, in one process.

Nothing in BOTRAM keeps shared state in memory: the queue version lives in the database and every process
runs its own board watchers, so boards and desks behave the same whichever worker they reach.
"""
from __future__ import annotations

import os
import socket
from typing import Callable

from flask import Flask

MAX_PROCESSES = 64


def can_fork() -> bool:
    return hasattr(os, "fork")


def default_processes() -> int:
    """One process per core the system lets this process use, on POSIX; one where gunicorn cannot run."""
    if not can_fork():
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS has no affinity call
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_PROCESSES))


def waitress_options(threads: int) -> dict:
    return {"threads": threads, "connection_limit": max(200, threads * 4), "channel_timeout": 120,
            "ident": "botram"}


def pool_size(app: Flask, threads: int) -> int:
    """The threads of one process: `threads` for requests, plus one for each stream it may hold
    (BOTRAM_STREAMS; board_watch.sse_response refuses streams beyond it). An open stream holds its thread
    for as long as the screen is open, so the streams' threads are kept apart from the requests' count:
    sign-ins, calls and tickets always find `threads` threads however many screens are open. A thread
    waiting for the next change costs no CPU and little memory (docs/operations.md, "Threads")."""
    return threads + (int(app.config.get("BOTRAM_STREAMS", 0)) if app is not None else 0)


def serve(app: Flask, *, host: str, port: int, threads: int, processes: int = 1,
          announce: Callable[[int], None] | None = None) -> None:
    """Bind first, then serve. `announce` learns the bound port: with port 0 the kernel picks a free one,
    which is how the browser tests start servers side by side without racing for a port."""
    threads = pool_size(app, threads)
    if can_fork():
        from .serving_gunicorn import serve as serve_prefork

        serve_prefork(app, host=host, port=port, threads=threads, processes=processes, announce=announce)
        return
    from waitress import serve as waitress_serve  # Windows only (pyproject.toml)

    from .outbox_worker import start_beside_server

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=1024)
    outbox_child = start_beside_server(app)  # one process beside waitress, as beside gunicorn's workers
    if announce is not None:
        announce(listener.getsockname()[1])
    try:
        waitress_serve(app, sockets=[listener], **waitress_options(threads))
    finally:
        if outbox_child is not None:
            outbox_child.stop()


def answered_by(app, slot: int):
    """Name the worker in every answer (`X-Botram-Worker: 2`): which process served a board or a desk is
    otherwise invisible, and the tests need it to prove a change made through one worker reaches another."""
    value = str(slot)

    def wsgi(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ("X-Botram-Worker", value)], exc_info)

        return app(environ, start)

    return wsgi
