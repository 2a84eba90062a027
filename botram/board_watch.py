"""Wakes server-sent-event streams when an event's queue version changes, and paces what they send.

The version lives in the database, so this works with several server processes: each process runs one
watcher thread per watched event that reads the version (one primary-key SELECT) every POLL seconds and
wakes its waiting streams. Fifty boards on one process cost one small query per interval, not fifty.
A watcher stops itself when no stream has asked for a while.

A commit in this process that bumped an event's version (see `uow.bump_version`) wakes that event's
watcher at once instead of at its next poll: boards served by the process that took the call update
without the poll's delay; boards on other processes still learn within one POLL.

A server process that is told to stop (`close_streams`) ends its open streams at once with a `reconnect`
event instead of letting them run out their ten minutes: the boards reconnect to a process that keeps
serving, and the stopping one exits as soon as its short requests are done (docs/operations.md).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from flask import Flask, Response, request
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

POLL = 0.05  # a primary-key read 20 times a second per watched event and process: next to nothing
IDLE_STOP = 60.0

KEEPALIVE_SECONDS = 15
STREAM_SECONDS = 600  # then the browser reconnects: no thread is held forever by a forgotten tab
MIN_GAP_SECONDS = 0.25  # coalesces bursts: ten calls in a second give at most four refreshes
# Changes that land together (an officer's finish and next call, two desks pressing at once) are sent as
# one refresh: the stream waits this long after a change before it sends, so the second change does not
# fall into the gap after the first and wait a quarter of a second.
SETTLE_SECONDS = 0.04
RETRY_MS = 1000  # how soon a browser reconnects a stream that ended (EventSource's `retry`)


def newer(version: int | None, known: int | None) -> bool:
    """Whether `version` should reach a screen that shows `known`. Versions only grow, so an older one is a
    stale read (another process's watcher a few milliseconds behind, a poll overtaken by a push): a screen
    never steps back to it."""
    return version is not None and (known is None or version > known)


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
        """Block until the version is newer than `known` or `timeout` passes; return the version seen."""
        self.last_interest = time.monotonic()
        with self.changed:
            self.changed.wait_for(lambda: _closing.is_set() or newer(self.version, known), timeout)
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


def changes(watch: Callable[[], "_Watcher"], known: int | None, clock=time) -> Iterator[int | None]:
    """The versions one stream sends, in order, for a screen that shows `known`; None when a keep-alive is due.

    A change is sent SETTLE_SECONDS after it is seen (what lands with it goes along), then the stream waits
    MIN_GAP_SECONDS, in which changes only accumulate: a burst reaches a screen as a few refreshes that end
    on its latest version. `watch` gives this process's watcher of the event (a new one when an idle watcher
    stopped); `clock` has `monotonic` and `sleep` (tests pass a controlled one). Ends after STREAM_SECONDS.
    """
    started = clock.monotonic()
    # A stopping server process ends its streams at once: the screens reconnect to one that keeps serving.
    while clock.monotonic() - started < STREAM_SECONDS and not streams_closing():
        version = watch().wait(known, KEEPALIVE_SECONDS)
        if streams_closing():
            return
        if not newer(version, known):
            yield None
            continue
        clock.sleep(SETTLE_SECONDS)
        latest = watch().version
        known = latest if newer(latest, version) else version
        yield known
        clock.sleep(MIN_GAP_SECONDS)


def known_version() -> int | None:
    """The version the screen asking for a stream already shows: the id of the last event its EventSource
    received (the browser sends it again when it reconnects by itself), else the `v` its page was drawn with."""
    last = request.headers.get("Last-Event-ID", "")
    if last.isascii() and last.isdigit() and len(last) <= 12:
        return int(last)
    return request.args.get("v", type=int)


def sse_event(name: str, html: str, version: int) -> str:
    """One server-sent event: its name (what `sse-swap` listens for), the version as its id, the HTML as data
    (every line of it a `data:` line; the browser joins them with newlines again)."""
    data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"event: {name}\nid: {version}\n{data}\n"


def sse_response(events: Iterator[str]) -> Response:
    """A streaming answer that proxies and browsers neither buffer nor cache (docs/operations.md)."""
    def framed():
        yield f"retry: {RETRY_MS}\n: connected\n\n"  # flushes the headers at once
        yield from events
        if streams_closing():
            # said, not only ended: a proxy in between may keep the browser's side of a closed stream open
            yield "event: reconnect\ndata: \n\n"
    return Response(framed(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


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
