"""Wakes server-sent-event streams when an event's queue version changes, and paces what they send.

The version lives in the database, so this works with several server processes: each process runs one
watcher thread per watched event that reads the version (one primary-key SELECT) every POLL seconds and
wakes its waiting streams. Fifty boards on one process cost one small query per interval, not fifty.
A watcher stops itself when no stream has asked for a while.

A commit in this process that bumped an event's version (see `uow.bump_version`) wakes that event's
watcher at once instead of at its next poll. On PostgreSQL the bump also queues a NOTIFY, delivered at the
commit; one listening connection per process (`_Listener`) wakes that process's watcher of the event, so
boards on every process and machine learn of a call at once. The poll (BOTRAM_BOARD_POLL_MS) stays: it is
how SQLite's processes learn of each other's changes, and PostgreSQL's safety net should the listening
connection be lost; while the listener is up it slows to POLL_LISTENING (once a second), and a lost
listening connection puts every watcher back on the fast poll at once.

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

from . import metrics

POLL = 0.05  # default (BOTRAM_BOARD_POLL_MS): a primary-key read 20 times a second per watched event and process
# The poll while this process's PostgreSQL listener is up: NOTIFY wakes the watcher at every change, from any
# process or machine, so the poll only covers a listening connection that died without saying so.
POLL_LISTENING = 1.0
IDLE_STOP = 60.0

KEEPALIVE_SECONDS = 15
STREAM_SECONDS = 600  # then the browser reconnects: no thread is held forever by a forgotten tab
# A board redraws (morph, the new card's animation) in well under this; changes that come faster are
# coalesced: the first is sent at once, what follows within the gap goes together at its end. 50 ms keeps a
# desk's rhythm (finish, then call a few milliseconds later) under 100 ms to the screen, and a burst of five
# desks within 100 ms reaches a board as two or three refreshes ending on the latest version.
MIN_GAP_SECONDS = 0.05
# A desk console's waiting list is read by an officer, not watched for a call: bursts of changes reach it at
# most four times a second. Each refresh of a desk's list costs several queries and a render (shared by the
# desk's consoles, once per desk), so under a busy queue the consoles' lists were most of what the process
# did per change (bench/streams.py, py-spy); a lone change still goes at once.
CONSOLE_MIN_GAP_SECONDS = 0.25
RETRY_MS = 1000  # how soon a browser reconnects a stream that ended (EventSource's `retry`)
BUSY_RETRY_MS = 30_000  # a stream refused at the limit asks again this much later; its page polls meanwhile


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
        self.poll = app.config.get("BOTRAM_BOARD_POLL_MS", POLL * 1000) / 1000
        self._reader: Callable[[], int | None] | None = None

    def _read(self) -> int | None:
        if self._reader is None:
            from .domain.board import version_reader
            from .extensions import db

            with self.app.app_context():
                self._reader = version_reader(db.engine, self.event_id)
        return self._reader()

    def interval(self) -> float:
        """How long the watcher waits between two reads of the version when nothing pokes it. While this
        process hears PostgreSQL's NOTIFY every change anywhere pokes it at once, so the poll is only the
        safety net and slows to POLL_LISTENING; without the listener (SQLite, or its connection lost) it is
        BOTRAM_BOARD_POLL_MS, how a change from another process is learnt."""
        if listening(self.app):
            return max(self.poll, POLL_LISTENING)
        return self.poll

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
            self.poked.wait(self.interval())
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


class _Listener:
    """This process's one PostgreSQL connection listening for the NOTIFY of every version bump (any process,
    any machine): it wakes this process's watcher of the event named in it, which reads the new version at
    once. Reconnects after a lost connection (the poll carries changes meanwhile) and wakes every watcher
    then, as a change may have gone by unheard."""

    def __init__(self, app: Flask, conninfo: str):
        self.app = app
        self.conninfo = conninfo
        self.listening = threading.Event()
        self.stop_requested = False
        self.thread = threading.Thread(target=self._run, name="board-listen", daemon=True)

    def _run(self) -> None:
        import psycopg

        from .domain.uow import NOTIFY_CHANNEL

        while not self.stop_requested:
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.listening.set()
                    _poke(list(_watchers))
                    while not self.stop_requested:
                        for note in conn.notifies(timeout=1.0):
                            if note.payload.isdigit():
                                _poke([int(note.payload)])
            except Exception:  # a lost connection must not end the listening: the poll covers the pause
                self.listening.clear()
                _poke(list(_watchers))  # read now, and poll at the fast rate again until it listens
                if not self.stop_requested:
                    self.app.logger.warning("board listener lost its PostgreSQL connection", exc_info=True)
                    time.sleep(1)
        self.listening.clear()


_listener: _Listener | None = None


def _poke(event_ids) -> None:
    for event_id in event_ids:
        current = _watchers.get(event_id)
        if current is not None and not current.stopped:
            current.poked.set()


def _listen_for(app: Flask) -> None:
    """Start this process's listener when its database is PostgreSQL (under `_lock`)."""
    global _listener
    if _listener is not None and _listener.app is app:
        return
    from sqlalchemy.engine import make_url

    url = make_url(app.config.get("SQLALCHEMY_DATABASE_URI") or "sqlite://")
    if not url.drivername.startswith("postgresql"):
        return
    if _listener is not None:
        _listener.stop_requested = True
    _listener = _Listener(app, url.set(drivername="postgresql").render_as_string(hide_password=False))
    _listener.thread.start()


def listening(app: Flask | None = None) -> bool:
    """Whether this process hears PostgreSQL's NOTIFY now (for `app`'s database, when given)."""
    current = _listener
    return current is not None and current.listening.is_set() and (app is None or current.app is app)


def stop_watchers(timeout: float = 2.0) -> None:
    """Stop every watcher of this process now and wait for their threads (tests call this at teardown, so a
    test's watchers do not poll its database for another minute). A stream that asks again gets a new one."""
    global _listener
    with _lock:
        stopping = list(_watchers.values())
        _watchers.clear()
        listener, _listener = _listener, None
    if listener is not None:
        listener.stop_requested = True
        listener.thread.join(timeout)
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
            _listen_for(app)
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


def changes(watch: Callable[[], "_Watcher"], known: int | None, clock=time,
            gap: float = MIN_GAP_SECONDS) -> Iterator[int | None]:
    """The versions one stream sends, in order, for a screen that shows `known`; None when a keep-alive is due.

    A change is sent at once, unless the stream sent one less than `gap` (MIN_GAP_SECONDS) ago: then it waits out the
    rest of that gap and sends the latest version (what landed meanwhile goes along). So a lone change is
    never delayed, and only changes that come faster than a board redraws are coalesced; a burst reaches a
    screen as a few refreshes ending on its latest version. `watch` gives this process's watcher of the
    event (a new one when an idle watcher stopped); `clock` has `monotonic` and `sleep` (tests pass a
    controlled one). Ends after STREAM_SECONDS.
    """
    started = clock.monotonic()
    sent_at: float | None = None
    # A stopping server process ends its streams at once: the screens reconnect to one that keeps serving.
    while clock.monotonic() - started < STREAM_SECONDS and not streams_closing():
        version = watch().wait(known, KEEPALIVE_SECONDS)
        if streams_closing():
            return
        if not newer(version, known):
            yield None
            continue
        if sent_at is not None:
            rest = sent_at + gap - clock.monotonic()
            if rest > 0:
                clock.sleep(rest)
        latest = watch().version
        known = latest if newer(latest, version) else version
        sent_at = clock.monotonic()
        yield known


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


_open_streams = 0
_streams_lock = threading.Lock()
_busy_said_at = 0.0


def open_streams() -> int:
    """Streams this process holds open now."""
    return _open_streams


def _take_stream_slot(limit: int) -> bool:
    global _open_streams
    with _streams_lock:
        if _open_streams >= limit:
            return False
        _open_streams += 1
        return True


def _give_back_stream_slot() -> None:
    global _open_streams
    with _streams_lock:
        _open_streams -= 1


def _refused(app: Flask, limit: int) -> Response:
    """The process holds its limit of streams: say so to the screen (`busy`, and when to ask again) and, once
    a minute, in the log. The screen keeps its poll: the board's panel every 10 s, a desk console's actions."""
    global _busy_said_at
    if time.monotonic() - _busy_said_at > 60:
        _busy_said_at = time.monotonic()
        app.logger.warning("%d event streams open, the limit of this process (BOTRAM_STREAMS): further screens "
                           "fall back to their poll; add processes or raise the limit (docs/operations.md)", limit)
    return Response(f"retry: {BUSY_RETRY_MS}\nevent: busy\ndata: {limit}\n\n", mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Botram-Streams": "full"})


def sse_response(events: Iterator[str], app: Flask, kind: str) -> Response:
    """A streaming answer that proxies and browsers neither buffer nor cache (docs/operations.md).

    It holds one of the process's BOTRAM_STREAMS slots (and the thread the server keeps for it, see
    `serving`) until it ends; with every slot taken the screen gets `busy` at once instead. `kind`
    ("board", "desk", "live") names it in the open-streams gauge of /metrics while it is open."""
    limit = app.config.get("BOTRAM_STREAMS", 500)
    if not _take_stream_slot(limit):
        if hasattr(events, "close"):
            events.close()  # never started: nothing to wait for
        return _refused(app, limit)

    def framed():
        metrics.stream_opened(kind)
        try:
            yield f"retry: {RETRY_MS}\n: connected\n\n"  # flushes the headers at once
            yield from events
            if streams_closing():
                # said, not only ended: a proxy in between may keep the browser's side of a closed stream open
                yield "event: reconnect\ndata: \n\n"
        finally:  # also when the browser went away (the server closes the generator)
            metrics.stream_closed(kind)
    response = Response(framed(), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    response.call_on_close(_give_back_stream_slot)
    return response


@sa_event.listens_for(Session, "after_commit")
def _wake_after_commit(session) -> None:
    bumped = session.info.pop("bumped_events", None)
    if bumped:
        _poke(bumped)  # this process's own screens at once; others hear the NOTIFY (or poll)


@sa_event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session) -> None:
    session.info.pop("bumped_events", None)
