"""The waiting list a desk's open consoles are sent on a queue change, computed once per desk, version and
language in this process and shared by every stream of that desk.

Without it each open console ran the waiting-list queries and rendered the list itself on every change: with
a hundred consoles open that was a hundred times the same work per change, and the request threads
(sign-ins, calls, tickets) waited for the interpreter behind them (bench/streams.py). The list does not
depend on who looks at it, only on the desk, the queue and the language.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from flask import Flask

KEPT = 256  # desks × languages remembered per process; each keeps only its latest version


@dataclass(frozen=True)
class Waiting:
    version: int          # the queue version asked for; what it shows is at least that recent
    current: str          # the id of the step called at the desk, "0" for none (what the console shows)
    state: str            # the desk's state
    message: bytes        # the whole `waiting` server-sent event, framed and encoded once


class SharedWaiting:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: dict[tuple[int, str], Waiting] = {}
        self._computing: dict[tuple[int, str], threading.Lock] = {}

    def get(self, desk_id: int, locale: str, version: int, compute: Callable[[], Waiting]) -> Waiting:
        """The list of `desk_id` at `version` or newer: from memory, else computed by the first stream to ask
        while the others of that desk wait for its result instead of running the same queries."""
        key = (desk_id, locale)
        with self._lock:
            found = self._latest.get(key)
            if found is not None and found.version >= version:
                return found
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            with self._lock:
                found = self._latest.get(key)
            if found is not None and found.version >= version:
                return found
            fresh = compute()
            with self._lock:
                latest = self._latest.get(key)
                if latest is None or latest.version < fresh.version:
                    self._latest[key] = fresh
                    if len(self._latest) > KEPT:
                        self._latest.pop(next(iter(self._latest)))
            return fresh


def shared_waiting(app: Flask) -> SharedWaiting:
    if "botram_desk_waiting" not in app.extensions:
        app.extensions.setdefault("botram_desk_waiting", SharedWaiting())
    return app.extensions["botram_desk_waiting"]
