"""Wakes server-sent-event streams when an event's queue version changes.

The version lives in the database, so this works with several server processes: each process runs one
watcher thread per watched event that reads the version (one primary-key SELECT) every POLL seconds and
wakes its waiting streams. Fifty boards on one process cost one small query per interval, not fifty.
A watcher stops itself when no stream has asked for a while.

A commit in this process that bumped an event's version (see `queue.bump_version`) wakes that event's
watcher at once instead of at its next poll: boards served by the process that took the call update
without the poll's delay; boards on other processes still learn within one POLL.

A server process that is told to stop (`close_streams`) ends its open streams at once with a `reconnect`
event instead of letting them run out their ten minutes: the boards reconnect to a process that keeps
serving, and the stopping one exits as soon as its short requests are done (docs/operations.md).
"""
from __future__ import annotations

import threading
import time

from flask import Flask
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

POLL = 0.05  # a primary-key read 20 times a second per watched event and process: next to nothing
IDLE_STOP = 60.0

_closing = threading.Event()


class _Watcher:
    def __init__(self, app: Flask, event_id: int):
        self.app = app
        self.event_id = event_id
        self.version: int | None = None
        self.read_at = 0.0  # monotonic time of the last successful read
        self.changed = threading.Condition()
        self.last_interest = time.monotonic()
        self.poked = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"board-watch-{event_id}", daemon=True)
        self.stopped = False
        self.stop_requested = False

    def _read(self) -> int | None:
        from .domain.board import current_version
        from .extensions import db

        with self.app.app_context():
            try:
                return current_version(self.event_id)
            finally:
                db.session.remove()

    def _run(self) -> None:
        while not self.stop_requested and time.monotonic() - self.last_interest < IDLE_STOP:
            try:
                version = self._read()
            except Exception:  # a database hiccup must not kill the watcher; streams keep their timeout
                self.app.logger.warning("board watcher could not read the queue version", exc_info=True)
                time.sleep(1)
                continue
            if version != self.version:
                with self.changed:
                    self.version = version
                    self.changed.notify_all()
            self.read_at = time.monotonic()
            self.poked.wait(POLL)
            self.poked.clear()
        self.stopped = True

    def wait(self, known: int | None, timeout: float) -> int | None:
        """Block until the version differs from `known` or `timeout` passes; return the version seen."""
        self.last_interest = time.monotonic()
        with self.changed:
            self.changed.wait_for(
                lambda: _closing.is_set() or (self.version is not None and self.version != known), timeout)
            return self.version


_watchers: dict[int, _Watcher] = {}
_lock = threading.Lock()


def stop_watchers(timeout: float = 2.0) -> None:
    """Stop every watcher of this process now and wait for their threads (tests call this at teardown, so a
    test's watchers do not poll its database for another minute). A stream that asks again gets a new one."""
    with _lock:
        stopping = list(_watchers.values())
        _watchers.clear()
    for current in stopping:
        current.stop_requested = True
        current.poked.set()
    for current in stopping:
        if current.thread.is_alive():
            current.thread.join(timeout)


def close_streams() -> None:
    """This process is stopping: wake every waiting stream so it ends now (see `streams_closing`).

    Called from signal handlers in the server's main thread, which may interrupt this very function (TERM,
    then Ctrl-C): so no `_lock` here (a copy of the dict's values is one step under the interpreter lock),
    and each watcher's condition is re-entrant."""
    _closing.set()
    for each in list(_watchers.values()):
        with each.changed:
            each.changed.notify_all()


def streams_closing() -> bool:
    """Whether open streams should end now because this server process is stopping."""
    return _closing.is_set()


def watcher(app: Flask, event_id: int) -> _Watcher:
    with _lock:
        current = _watchers.get(event_id)
        if current is None or current.stopped or current.app is not app:
            current = _Watcher(app, event_id)
            _watchers[event_id] = current
            current.thread.start()
        current.last_interest = time.monotonic()
        return current


def fresh_version(app: Flask, event_id: int, max_age: float = 0.3) -> int | None:
    """The event's queue version as this process's watcher read it at most `max_age` seconds ago, else None.

    Lets a board or display poll be answered from memory while boards are open: their streams keep a
    watcher reading the version twenty times a second anyway. Never starts a watcher itself, so polls for
    unknown or unwatched events cannot make the server spawn threads.
    """
    with _lock:
        current = _watchers.get(event_id)
    if current is None or current.stopped or current.app is not app:
        return None
    current.last_interest = time.monotonic()
    if current.version is not None and time.monotonic() - current.read_at <= max_age:
        return current.version
    return None


@sa_event.listens_for(Session, "after_commit")
def _wake_after_commit(session) -> None:
    bumped = session.info.pop("bumped_events", None)
    if not bumped:
        return
    with _lock:
        woken = [_watchers.get(event_id) for event_id in bumped]
    for current in woken:
        if current is not None and not current.stopped:
            current.poked.set()


@sa_event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session) -> None:
    session.info.pop("bumped_events", None)
