"""`botram serve`: the production WSGI server.

- One process (`--processes 1`, the default, and `make run`): waitress, on every system. It runs every
  request of the process under one interpreter lock, so one process uses one core however many threads it has.
- Several processes (`--processes N`, POSIX): gunicorn's arbiter with N gthread workers sharing the port
  (botram/serving_gunicorn.py): it replaces a worker that dies, restarts the workers gracefully on SIGHUP,
  stops them all on SIGTERM or Ctrl-C, and a worker whose arbiter was killed stops by itself, so it never
  keeps the port.

Nothing in BOTRAM keeps shared state in memory: the queue version lives in the database and every process
runs its own board watchers, so boards and desks behave the same whichever worker they reach.
"""
from __future__ import annotations

import socket
from typing import Callable

from flask import Flask


def waitress_options(threads: int) -> dict:
    return {"threads": threads, "connection_limit": max(200, threads * 4), "channel_timeout": 120,
            "ident": "botram"}


def serve(app: Flask, *, host: str, port: int, threads: int, processes: int = 1,
          announce: Callable[[int], None] | None = None) -> None:
    """Bind first, then serve. `announce` learns the bound port: with port 0 the kernel picks a free one,
    which is how the browser tests start servers side by side without racing for a port."""
    if processes > 1:
        from .serving_gunicorn import serve as serve_prefork

        serve_prefork(app, host=host, port=port, threads=threads, processes=processes, announce=announce)
        return
    from waitress import serve as waitress_serve

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=1024)
    if announce is not None:
        announce(listener.getsockname()[1])
    waitress_serve(app, sockets=[listener], **waitress_options(threads))


def answered_by(app, slot: int):
    """Name the worker in every answer (`X-Botram-Worker: 2`): which process served a board or a desk is
    otherwise invisible, and the tests need it to prove a change made through one worker reaches another."""
    value = str(slot)

    def wsgi(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, ("X-Botram-Worker", value)], exc_info)

        return app(environ, start)

    return wsgi
