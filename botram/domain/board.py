"""What the projector board shows: desks and their current calls, the latest calls, waiting counts and
estimated waits per service, the service hours (with every desk that stays open longer), the sponsors to
thank, the running text. Never a name, NIK or phone.

The state holds everything, however many desks, services and sponsors there are: the board pages through
what does not fit on one screen, so nothing is dropped here.

The state is computed once per (event, queue version) per process and shared by every board and the
public API, so fifty boards refreshing after a call cost one computation.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import ACTIVE_STEP_STATES, Desk, DeskState, Event, Step, StepStatus, Visit
from .visibility import has_live_board
from .clock import to_wib
from .funding import public_sponsors

RECENT_CALLS = 8


@dataclass(frozen=True)
class BoardCall:
    step_id: int
    code: str
    service: str
    desk_number: int
    desk_label: str
    agency: str
    agency_color: str
    called_at: str  # ISO 8601 UTC
    called_at_wib: str  # HH.MM
    recall_count: int
    state: str

    @property
    def key(self) -> str:
        """Identifies one announcement: a recall is a new key, a reload is not."""
        return f"{self.step_id}:{self.recall_count}"


@dataclass(frozen=True)
class BoardDesk:
    id: int
    number: int
    label: str
    agency: str
    agency_color: str
    state: str
    opens_at_wib: str
    closes_at_wib: str
    current: BoardCall | None
    # stays open later than the event's planned closing time
    extended: bool = False


@dataclass(frozen=True)
class BoardExtension:
    """Desks that stay open past the regular hours, all until the same time."""
    closes_at_wib: str
    desk_numbers: list[int]


@dataclass(frozen=True)
class BoardService:
    id: int
    code: str
    name: str
    agency: str
    agency_color: str
    waiting: int
    estimated_minutes: int | None
    # the best state among the desks serving it: "open" (an estimate is given), "paused" or "closed"
    desk_state: str = "open"


@dataclass(frozen=True)
class BoardState:
    event_id: int
    title: str
    venue: str
    date: str
    status: str
    running_text: str
    version: int
    opens_at_wib: str
    closes_at_wib: str
    desks: list[BoardDesk] = field(default_factory=list)
    latest: BoardCall | None = None
    recent: list[BoardCall] = field(default_factory=list)
    services: list[BoardService] = field(default_factory=list)
    # The hours the desks actually keep: the regular range, then the desks extended beyond it.
    hours_opens_wib: str = ""
    hours_closes_wib: str = ""
    extensions: list[BoardExtension] = field(default_factory=list)
    sponsors: list[str] = field(default_factory=list)

    @property
    def earlier(self) -> list[BoardCall]:
        """The recent calls without the one shown as the latest."""
        return [c for c in self.recent if self.latest is None or c.step_id != self.latest.step_id]

    def as_json(self) -> dict:
        """The board as JSON-ready data (computed once per state: states are cached and immutable)."""
        cached = self.__dict__.get("_json")
        if cached is not None:
            return cached
        data = asdict(self)
        for call in [data["latest"], *data["recent"], *(d["current"] for d in data["desks"])]:
            if call:
                call["key"] = f"{call['step_id']}:{call['recall_count']}"
        object.__setattr__(self, "_json", data)
        return data

    def json_bytes(self) -> bytes:
        """The encoded JSON, cached like the data: every board and display polling it shares one encoding."""
        cached = self.__dict__.get("_json_bytes")
        if cached is None:
            cached = json.dumps(self.as_json(), ensure_ascii=False, separators=(",", ":")).encode()
            object.__setattr__(self, "_json_bytes", cached)
        return cached

    def rendered(self, key: str, render):
        """`render()` once per state and `key` (e.g. the template and locale), shared by every board. Hundreds
        of open boards ask at the same moment: the first renders, the others wait for its result."""
        cache = self.__dict__.setdefault("_rendered", {})
        if key not in cache:
            with self.__dict__.setdefault("_rendering", threading.RLock()):  # the event frames the panel
                if key not in cache:
                    cache[key] = render()
        return cache[key]


def _hhmm(value: datetime) -> str:
    return to_wib(value).strftime("%H.%M")


def public_event(event_id: int) -> Event | None:
    """The event if the public may see its board: open or closed, never a draft (announced or not)."""
    event = db.session.get(Event, event_id)
    if event is None or not has_live_board(event):
        return None
    return event


def current_version(event_id: int) -> int | None:
    """One indexed primary-key read: what a poll or a stream checks before doing anything else."""
    return db.session.scalar(sa.select(Event.queue_version).where(Event.id == event_id))


def version_reader(engine: sa.Engine, event_id: int):
    """`current_version` for a watcher that asks twenty times a second: the statement compiled once for the
    engine's dialect and run on a pooled DB-API connection, without an application context, a session or
    the ORM (about 20 µs a read on SQLite instead of about 250 µs; with hundreds of idle streams the
    watcher's reads were most of the process's idle CPU, bench/streams.py)."""
    compiled = (sa.select(Event.queue_version).where(Event.id == sa.bindparam("event_id"))
                .compile(dialect=engine.dialect))
    params = compiled.construct_params({"event_id": event_id})
    args = tuple(params[name] for name in compiled.positiontup) if compiled.positional else params
    sql = compiled.string

    def read() -> int | None:
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(sql, args)
                row = cursor.fetchone()
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool, its transaction rolled back
        return row[0] if row is not None else None

    return read


class _StateCache:
    """Board states by (event id, queue version), per application (kept in app.extensions)."""

    def __init__(self, size: int = 64):
        self.size = size
        self.states: "OrderedDict[tuple[int, int], BoardState]" = OrderedDict()
        self.lock = threading.Lock()
        self.computing: dict[int, threading.Lock] = {}
        self.latest: dict[int, BoardState] = {}

    def computing_lock(self, event_id: int) -> threading.Lock:
        with self.lock:
            return self.computing.setdefault(event_id, threading.Lock())

    def get(self, event_id: int, version: int) -> BoardState | None:
        with self.lock:
            state = self.states.get((event_id, version))
            if state is not None:
                self.states.move_to_end((event_id, version))
            return state

    def put(self, state: BoardState) -> None:
        with self.lock:
            self.states[(state.event_id, state.version)] = state
            latest = self.latest.get(state.event_id)
            if latest is None or latest.version < state.version:
                self.latest[state.event_id] = state
            while len(self.states) > self.size:
                self.states.popitem(last=False)

    def at_least(self, event_id: int, version: int) -> BoardState | None:
        """The newest state computed here of the event, if it is at `version` or newer (no database access)."""
        with self.lock:
            latest = self.latest.get(event_id)
            return latest if latest is not None and latest.version >= version else None


def _state_cache() -> _StateCache:
    extensions = current_app.extensions
    if "botram_board_states" not in extensions:
        extensions["botram_board_states"] = _StateCache()
    return extensions["botram_board_states"]


def cached_state(event_id: int, version: int) -> BoardState | None:
    """A state already computed in this process for exactly this version, or None (no database access)."""
    return _state_cache().get(event_id, version)


def _snapshot() -> None:
    """On PostgreSQL, read the state in one snapshot (REPEATABLE READ) when a transaction is about to begin.

    The state takes several queries; under read committed a call committed between two of them shows in
    one and not the other (the new call under "earlier" while the desk tile still shows the one before, a
    board out of order for one refresh), and the state would be cached under a version older than what it
    shows. SQLite's read transaction is a snapshot already. A stream renders in a fresh session every time."""
    if not db.session().in_transaction() and db.session.get_bind().dialect.name == "postgresql":
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def state_at(event_id: int, version: int | None) -> BoardState | None:
    """The board state of a public event at `version` or newer: from memory when this process already computed
    it (no database access), else from the database. None when the event is missing or still a draft.

    Every open board of the event asks at the same moment when the version moves: the first reads the
    database, the others wait for it and take its state, instead of each opening a session to read the event
    (with 400 boards that was 400 reads per change, bench/streams.py)."""
    if version is None:
        _snapshot()
        event = public_event(event_id)
        return board_state(event) if event is not None else None
    cache = _state_cache()
    state = cache.at_least(event_id, version)
    if state is not None:
        return state
    with cache.computing_lock(event_id):
        state = cache.at_least(event_id, version)
        if state is None:
            _snapshot()
            event = public_event(event_id)
            if event is None:
                return None
            state = cache.get(event.id, event.queue_version)
            if state is None:
                state = _compute(event)
                cache.put(state)
    return state


def board_state(event: Event) -> BoardState:
    cache = _state_cache()
    state = cache.get(event.id, event.queue_version)
    if state is None:
        # Every open board asks for the new version at the same moment: one thread computes it, the others
        # wait for that result instead of running the same queries side by side.
        with cache.computing_lock(event.id):
            state = cache.get(event.id, event.queue_version)
            if state is None:
                state = _compute(event)
                cache.put(state)
    return state


def _call(step: Step, desks: dict[int, Desk]) -> BoardCall:
    desk = desks[step.desk_id]
    return BoardCall(step_id=step.id, code=step.visit.code, service=step.service.name, desk_number=desk.number,
                     desk_label=desk.label, agency=desk.agency.short_name, agency_color=desk.agency.color,
                     called_at=step.called_at.isoformat(), called_at_wib=_hhmm(step.called_at),
                     recall_count=step.recall_count, state=step.status)


def _desk_state_for(service_id: int, desks) -> str:
    states = {d.state for d in desks if any(s.id == service_id for s in d.services)}
    for state in (DeskState.OPEN, DeskState.PAUSED):
        if state in states:
            return state
    return DeskState.CLOSED


def _hours(event: Event, desks: list[Desk]) -> tuple[str, str, list[BoardExtension]]:
    """The regular service hours and the desks extended past them.

    A desk is extended when it closes after the event's planned closing. The regular range spans the
    other desks; when every desk was extended, the range itself is the new one and no desk is singled out.
    """
    if not desks:
        return _hhmm(event.opens_at), _hhmm(event.closes_at), []
    opens = min(d.opens_at for d in desks)
    regular = [d for d in desks if d.closes_at <= event.closes_at]
    if not regular:
        return _hhmm(opens), _hhmm(max(d.closes_at for d in desks)), []
    closes = max(d.closes_at for d in regular)
    groups: dict[datetime, list[int]] = {}
    for desk in desks:
        if desk.closes_at > closes:
            groups.setdefault(desk.closes_at, []).append(desk.number)
    extensions = [BoardExtension(closes_at_wib=_hhmm(at), desk_numbers=sorted(numbers))
                  for at, numbers in sorted(groups.items())]
    return _hhmm(opens), _hhmm(closes), extensions


def _compute(event: Event) -> BoardState:
    from .queue import service_wait_estimates

    desks = {d.id: d for d in db.session.scalars(
        sa.select(Desk).where(Desk.event_id == event.id)
        .options(joinedload(Desk.agency), selectinload(Desk.services)).order_by(Desk.number))}
    with_visit = (joinedload(Step.visit).load_only(Visit.code), joinedload(Step.service))
    active = db.session.scalars(
        sa.select(Step).where(Step.event_id == event.id, Step.status.in_(ACTIVE_STEP_STATES))
        .options(*with_visit)).all()
    current_by_desk = {s.desk_id: s for s in active if s.desk_id in desks}
    recent_steps = db.session.scalars(
        sa.select(Step).where(Step.event_id == event.id, Step.called_at.is_not(None), Step.desk_id.is_not(None))
        .order_by(Step.called_at.desc(), Step.id.desc()).limit(RECENT_CALLS).options(*with_visit)).all()
    recent = [_call(s, desks) for s in recent_steps if s.desk_id in desks]

    waiting = dict(db.session.execute(
        sa.select(Step.service_id, sa.func.count()).where(Step.event_id == event.id,
                                                          Step.status == StepStatus.WAITING)
        .group_by(Step.service_id)).all())
    estimates = service_wait_estimates(event.id, waiting)
    services = {}
    for desk in desks.values():
        for service in desk.services:
            services.setdefault(service.id, (service, desk.agency))
    board_services = []
    for sid, (service, agency) in sorted(services.items(), key=lambda kv: (kv[1][1].short_name, kv[1][0].code)):
        count = waiting.get(sid, 0)
        estimate = estimates.get(sid)
        board_services.append(BoardService(id=sid, code=service.code, name=service.name,
                                           agency=agency.short_name, agency_color=agency.color,
                                           waiting=count, estimated_minutes=estimate,
                                           desk_state=_desk_state_for(sid, desks.values())))

    board_desks = [BoardDesk(id=d.id, number=d.number, label=d.label, agency=d.agency.short_name,
                             agency_color=d.agency.color, state=d.state, opens_at_wib=_hhmm(d.opens_at),
                             closes_at_wib=_hhmm(d.closes_at), extended=d.closes_at > event.closes_at,
                             current=_call(current_by_desk[d.id], desks) if d.id in current_by_desk else None)
                   for d in desks.values()]
    # Only a call still current: a visitor finished or marked absent must not stay in the largest type on
    # the screen while their desk's tile already says it is free (they are history, under "recent").
    latest = max((d.current for d in board_desks if d.current), key=lambda c: (c.called_at, c.step_id),
                 default=None)
    hours_opens, hours_closes, extensions = _hours(event, list(desks.values()))
    return BoardState(event_id=event.id, title=event.title, venue=event.venue, date=event.date.isoformat(),
                      status=event.status, running_text=event.running_text or "", version=event.queue_version,
                      opens_at_wib=_hhmm(event.opens_at), closes_at_wib=_hhmm(event.closes_at),
                      desks=board_desks, latest=latest, recent=recent, services=board_services,
                      hours_opens_wib=hours_opens, hours_closes_wib=hours_closes, extensions=extensions,
                      sponsors=public_sponsors(event.id))
