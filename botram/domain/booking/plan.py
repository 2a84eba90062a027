"""The coordinator opens booking for an event: windows, quotas, a closing time, a grace.

- Windows lie on the event's day, in WIB, start before end, without overlap. Default: 08–10, 10–12, 12–14,
  14–16 WIB (DEFAULT_WINDOWS), editable.
- A quota is per service and window. It may not exceed `share_percent` (BOTRAM_BOOKING_SHARE_PERCENT, 50 %)
  of the window's capacity for that service, so walk-ins always have room. Capacity = for each desk offering
  the service, the minutes its hours overlap the window, divided by the service's expected minutes
  (catalogue `target_minutes`), summed. A desk offering several services is counted for each: the share is the
  margin that keeps this upper bound honest.
- Editing after bookings exist: a window with bookings stays (same times) and its quotas never drop below the
  places taken.
- Booking closes at `closes_at` (WIB, at latest the event's opening... any time before its day's end).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import (Booking, BookingPlan, BookingQuota, BookingWindow, Desk, Event,
                       EventStatus, Service)
from .. import Conflict, DomainError, audit
from ..clock import now, to_wib, wib_to_utc
from ..uow import bump_version, unit_of_work
from ..visibility import is_public
from .rules import BookingRules, current

DEFAULT_WINDOWS: tuple[tuple[time, time], ...] = (
    (time(8), time(10)), (time(10), time(12)), (time(12), time(14)), (time(14), time(16)))
MAX_WINDOWS = 12
MAX_GRACE = 240


@dataclass
class WindowInput:
    starts: time | None
    ends: time | None
    quotas: dict[int, int] = field(default_factory=dict)  # service id -> places


@dataclass
class PlanInput:
    closes_on: date | None
    closes_at: time | None
    grace_minutes: int | None
    windows: list[WindowInput]


def plan_of(event_id: int) -> BookingPlan | None:
    return db.session.scalar(sa.select(BookingPlan).where(BookingPlan.event_id == event_id))


def _desks(event_id: int) -> list[Desk]:
    from sqlalchemy.orm import selectinload
    return list(db.session.scalars(sa.select(Desk).where(Desk.event_id == event_id)
                                   .options(selectinload(Desk.services))))


def window_capacity(desks: list[Desk], service: Service, starts_at: datetime, ends_at: datetime) -> int:
    """Visitors of `service` the desks can serve in the window, at the service's expected minutes each."""
    minutes = 0
    for desk in desks:
        if any(s.id == service.id for s in desk.services):
            overlap = (min(desk.closes_at, ends_at) - max(desk.opens_at, starts_at)).total_seconds() / 60
            minutes += max(0, int(overlap))
    return minutes // max(1, service.target_minutes or 10)


def quota_cap(capacity: int, rules: BookingRules) -> int:
    return capacity * rules.share_percent // 100


def event_services(event_id: int) -> list[Service]:
    ids = {s.id for d in _desks(event_id) for s in d.services}
    return list(db.session.scalars(sa.select(Service).where(Service.id.in_(ids)).order_by(Service.code))) if ids else []


@unit_of_work
def open_booking(event: Event, data: PlanInput, *, by_user_id: int | None = None,
                 rules: BookingRules | None = None) -> BookingPlan:
    """Open (or edit) booking for an announced or open event."""
    rules = rules or current()
    if event.status == EventStatus.CLOSED:
        raise DomainError(_l("Kegiatan sudah ditutup."), status=409)
    from ..field import ensure_queue_writable

    ensure_queue_writable(event.id)  # the plan travelled with the event: the laptop's copy comes back whole
    if not is_public(event):
        raise DomainError(_l("Umumkan kegiatan di jadwal dulu sebelum membuka pemesanan."), status=409)
    if data.closes_on is None or data.closes_at is None:
        raise DomainError(_l("Isi tanggal dan jam pemesanan ditutup."), field="closes_on")
    closes_at = wib_to_utc(data.closes_on, data.closes_at)
    day_end = wib_to_utc(event.date, time(23, 59))
    if closes_at > day_end:
        raise DomainError(_l("Pemesanan harus ditutup paling lambat pada hari kegiatan."), field="closes_on")
    grace = 0 if data.grace_minutes is None else data.grace_minutes
    if not 0 <= grace <= MAX_GRACE:
        raise DomainError(_l("Tenggang 0–%(max)d menit.", max=MAX_GRACE), field="grace_minutes")
    if not data.windows or len(data.windows) > MAX_WINDOWS:
        raise DomainError(_l("Isi 1–%(n)d jendela waktu.", n=MAX_WINDOWS), field="windows")
    desks = _desks(event.id)
    services = {s.id: s for s in event_services(event.id)}
    spans: list[tuple[datetime, datetime, WindowInput]] = []
    for w in data.windows:
        if w.starts is None or w.ends is None or w.ends <= w.starts:
            raise DomainError(_l("Setiap jendela perlu jam mulai sebelum jam selesai."), field="windows")
        spans.append((wib_to_utc(event.date, w.starts), wib_to_utc(event.date, w.ends), w))
    spans.sort(key=lambda s: s[0])
    for (_a, end, _w), (start, _b, _v) in zip(spans, spans[1:]):
        if start < end:
            raise DomainError(_l("Jendela waktu tidak boleh bertumpang tindih."), field="windows")

    plan = plan_of(event.id)
    if plan is None:
        plan = BookingPlan(event_id=event.id, closes_at=closes_at, grace_minutes=grace)
        db.session.add(plan)
        db.session.flush()
    plan.closes_at, plan.grace_minutes = closes_at, grace
    existing = {(w.starts_at, w.ends_at): w for w in db.session.scalars(
        sa.select(BookingWindow).where(BookingWindow.plan_id == plan.id))}
    kept = set()
    for starts_at, ends_at, w in spans:
        window = existing.get((starts_at, ends_at))
        if window is None:
            window = BookingWindow(plan_id=plan.id, event_id=event.id, starts_at=starts_at, ends_at=ends_at)
            db.session.add(window)
            db.session.flush()
        kept.add(window.id)
        quotas = {q.service_id: q for q in window.quotas}
        for service_id, places in w.quotas.items():
            service = services.get(service_id)
            if service is None:
                raise DomainError(_l("Layanan tidak tersedia di kegiatan ini."), field="windows")
            places = int(places or 0)
            cap = quota_cap(window_capacity(desks, service, starts_at, ends_at), rules)
            label = f"{to_wib(starts_at):%H.%M}–{to_wib(ends_at):%H.%M}"
            if places < 0 or places > cap:
                raise DomainError(_l("Kuota %(service)s pada %(window)s paling banyak %(cap)d (%(share)d%% dari "
                                     "kapasitas loket).", service=service.name, window=label, cap=cap,
                                     share=rules.share_percent), field="windows")
            quota = quotas.get(service_id)
            if quota is None:
                window.quotas.append(BookingQuota(service_id=service_id, quota=places, taken=0))
            else:
                if places < quota.taken:
                    raise DomainError(_l("Kuota %(service)s pada %(window)s tidak boleh di bawah %(taken)d tempat "
                                         "yang sudah dipesan.", service=service.name, window=label,
                                         taken=quota.taken), field="windows")
                quota.quota = places
    for key, window in existing.items():
        if window.id in kept:
            continue
        used = db.session.scalar(sa.select(sa.func.count(Booking.id)).where(Booking.window_id == window.id))
        if used:
            raise DomainError(_l("Jendela yang sudah dipesan tidak dapat dihapus."), field="windows", status=409)
        db.session.delete(window)
    db.session.flush()
    audit.record("booking.plan", "event", event.id, user_id=by_user_id, event_id=event.id,
                 windows=len(spans), closes_at=closes_at.isoformat(), grace=grace)
    bump_version(event.id)
    return plan


@dataclass(frozen=True)
class QuotaView:
    service_id: int
    service: str
    quota: int
    taken: int
    checked_in: int = 0

    @property
    def left(self) -> int:
        return max(0, self.quota - self.taken)


@dataclass(frozen=True)
class WindowView:
    id: int
    starts_at: datetime
    ends_at: datetime
    quotas: tuple[QuotaView, ...]

    def quota_for(self, service_id: int) -> QuotaView | None:
        return next((q for q in self.quotas if q.service_id == service_id), None)


@dataclass(frozen=True)
class BookingView:
    event_id: int
    open: bool
    closes_at: datetime | None
    grace_minutes: int
    windows: tuple[WindowView, ...]


def on_laptop(event_id: int) -> bool:
    """Server: the event is checked out to a field laptop (docs/field-sync.md). Its bookings went with it and
    come back whole with the check-in, so nothing about them may change here meanwhile."""
    from ..field import checkout_of  # field reads the queue's models; imported when asked

    return checkout_of(event_id) is not None


def refuse_while_on_laptop(event_id: int) -> None:
    if on_laptop(event_id):
        raise Conflict(_l("Pemesanan kegiatan ini sudah ditutup: datanya sudah dibawa ke lokasi kegiatan. Pemesanan "
                          "yang sudah ada tetap berlaku; datanglah pada jendela waktu Anda."))


def is_bookable(event: Event, plan: BookingPlan | None, at: datetime | None = None) -> bool:
    return (plan is not None and is_public(event) and event.status != EventStatus.CLOSED
            and (at or now()) < plan.closes_at and not on_laptop(event.id))


def booking_open(event_id: int) -> bool:
    """Whether citizens may book this event now (the schedule's "Pesan tempat")."""
    event = db.session.get(Event, event_id)
    return event is not None and is_bookable(event, plan_of(event_id))


def booking_view(event: Event, at: datetime | None = None) -> BookingView:
    """Windows with their quotas and places left, in a fixed number of queries."""
    plan = plan_of(event.id)
    if plan is None:
        return BookingView(event.id, False, None, 0, ())
    windows = list(db.session.scalars(sa.select(BookingWindow).where(BookingWindow.plan_id == plan.id)
                                      .order_by(BookingWindow.starts_at)))
    names = dict(db.session.execute(sa.select(Service.id, Service.name)).all())
    quotas = db.session.scalars(sa.select(BookingQuota).join(BookingWindow)
                                .where(BookingWindow.plan_id == plan.id)).all()
    by_window: dict[int, list[QuotaView]] = {}
    for q in sorted(quotas, key=lambda q: names.get(q.service_id, "")):
        by_window.setdefault(q.window_id, []).append(QuotaView(q.service_id, names.get(q.service_id, ""), q.quota,
                                                               q.taken))
    return BookingView(event.id, is_bookable(event, plan, at), plan.closes_at, plan.grace_minutes,
                       tuple(WindowView(w.id, w.starts_at, w.ends_at, tuple(by_window.get(w.id, ())))
                             for w in windows))


@dataclass(frozen=True)
class CoordinatorRow:
    window_id: int
    starts_at: datetime
    ends_at: datetime
    service: str
    quota: int
    booked: int       # still waiting to be checked in (window not over + grace)
    checked_in: int
    no_show: int      # released: window ended plus grace, never checked in


def coordinator_rows(event: Event, at: datetime | None = None) -> list[CoordinatorRow]:
    """Per window and service: the quota, bookings still to come, checked in, and booking no-shows."""
    from .release import booking_state

    view = booking_view(event, at)
    plan = plan_of(event.id)
    grace = plan.grace_minutes if plan else 0
    counts: dict[tuple[int, int], dict[str, int]] = {}
    from sqlalchemy.orm import selectinload
    for found in db.session.scalars(sa.select(Booking).where(Booking.event_id == event.id)
                                    .options(selectinload(Booking.services), selectinload(Booking.window))):
        state = booking_state(found, grace, at)
        for service in found.services:
            bucket = counts.setdefault((found.window_id, service.id), {})
            bucket[state] = bucket.get(state, 0) + 1
    rows = []
    for window in view.windows:
        for quota in window.quotas:
            c = counts.get((window.id, quota.service_id), {})
            if not quota.quota and not c:
                continue  # not opened to booking: nothing to watch
            rows.append(CoordinatorRow(window.id, window.starts_at, window.ends_at, quota.service, quota.quota,
                                       c.get("booked", 0), c.get("checked_in", 0), c.get("no_show", 0)))
    return rows
