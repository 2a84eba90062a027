"""A citizen books a place, changes it or cancels it.

- The event must be bookable (public, not closed, before the plan's closing time) and the window not begun.
- Services: one or more offered in the window (a life-event package stands for its services).
- Phone required, normalised to +62…; name and NIK optional (a NIK is checked like reception's).
- Anti-tout: a NIK holds at most BOTRAM_MAX_TICKETS_PER_NIK active bookings per event (the ticket rule's
  setting), a phone at most BOTRAM_MAX_BOOKINGS_PER_PHONE.
- Throttling: at most BOTRAM_BOOKING_THROTTLE_PER_HOUR bookings per address (hashed) and per phone an hour.
- Quotas hold under a rush: each service's place is taken with one conditional UPDATE on its quota row
  (`taken = taken + 1 WHERE taken < quota`) inside the unit of work. On SQLite the writer lock serialises it,
  on PostgreSQL the UPDATE locks the row and a waiting one re-checks `taken < quota` after the other commits:
  never count-then-insert. A full service refuses the whole booking (the unit rolls back).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

import lokal
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import Booking, BookingQuota, BookingStatus, BookingWindow, Event, LifeEventPackage, Service
from .. import Conflict, DomainError, NotFound, Problems, audit, notify
from ..notify import booking as booking_messages
from ..clock import now
from ..ids import parse_id
from ..nik import check_nik
from ..uow import unit_of_work
from .plan import is_bookable, plan_of, refuse_while_on_laptop
from .rules import BookingRules, current

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B: a code read aloud or typed from a phone screen cannot be misread.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6
MAX_NAME = 120


@dataclass
class BookingInput:
    window_id: int | None
    service_ids: list[int] = field(default_factory=list)
    package_id: int | None = None
    phone: str | None = None
    name: str | None = None
    nik: str | None = None
    origin: str | None = None  # the caller's address; only its hash is kept
    notify: bool = False  # ticked "kirimi saya pesan" (ignored while messages are off: docs/outbox.md)
    locale: str | None = None  # the messages' language
    link: Callable[[str], str] | None = None  # token → the private page's address, for the confirmation


def origin_hash(address: str | None) -> str:
    return hashlib.blake2b((address or "").encode(), digest_size=8).hexdigest() if address else ""


def normalise_phone(raw: str | None) -> str:
    text = (raw or "").strip()
    if not text:
        raise DomainError(_l("Nomor HP wajib diisi."), field="phone")
    parsed = lokal.parse_phone(text)
    if not parsed.valid or not parsed.e164:
        reason = " ".join(issue.message for issue in parsed.errors)
        raise DomainError(_l("Nomor HP tidak valid. %(reason)s", reason=reason), field="phone")
    return parsed.e164


def new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if db.session.scalar(sa.select(Booking.id).where(Booking.code == code)) is None:
            return code


def clean_code(raw: str | None) -> str:
    """A code as typed or scanned: spaces, dashes and case do not matter."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())[:CODE_LENGTH + 2]


def _window(event_id: int, window_id) -> BookingWindow:
    wid = parse_id(window_id)  # beyond the key's range is "not one of the windows", not a database error
    window = db.session.get(BookingWindow, wid) if wid is not None else None
    if window is None or window.event_id != event_id:
        raise DomainError(_l("Pilih jendela waktu."), field="window")
    if now() >= window.starts_at:
        raise DomainError(_l("Jendela waktu ini sudah dimulai; pilih jendela yang lain."), field="window")
    return window


def _services(window: BookingWindow, service_ids, package_id) -> list[int]:
    ids: list[int] = []
    if package_id not in (None, ""):
        key = parse_id(package_id)
        package = db.session.get(LifeEventPackage, key) if key is not None else None
        if package is None or not package.active:
            raise DomainError(_l("Paket layanan tidak dikenal."), field="package")
        ids = [item.service_id for item in package.items]
    for raw in service_ids or []:
        sid = parse_id(raw)
        if sid is None:
            raise DomainError(_l("Pilihan layanan tidak dikenal."), field="services")
        if sid not in ids:
            ids.append(sid)
    if not ids:
        raise DomainError(_l("Pilih minimal satu layanan."), field="services")
    offered = {q.service_id for q in window.quotas if q.quota > 0}
    if any(sid not in offered for sid in ids):
        raise DomainError(_l("Layanan yang dipilih tidak dapat dipesan pada jendela ini."), field="services")
    return ids


def _take(window_id: int, service_ids: list[int]) -> None:
    """Take one place of each service in the window, or refuse (the unit of work rolls back what it took)."""
    for sid in sorted(service_ids):  # a fixed order: two bookings never wait on each other's rows
        taken = db.session.execute(
            sa.update(BookingQuota).where(BookingQuota.window_id == window_id, BookingQuota.service_id == sid,
                                          BookingQuota.taken < BookingQuota.quota)
            .values(taken=BookingQuota.taken + 1).execution_options(synchronize_session=False)).rowcount
        if taken != 1:
            name = db.session.get(Service, sid).name
            raise Conflict(_l("Tempat untuk %(service)s pada jendela ini sudah penuh. Pilih jendela lain atau datang "
                              "langsung pada hari kegiatan.", service=name), field="window")


def _give_back(window_id: int, service_ids) -> None:
    for sid in sorted(service_ids):
        db.session.execute(
            sa.update(BookingQuota).where(BookingQuota.window_id == window_id, BookingQuota.service_id == sid,
                                          BookingQuota.taken > 0)
            .values(taken=BookingQuota.taken - 1).execution_options(synchronize_session=False))


def _active(event_id: int, column, value, exclude: int | None = None) -> int:
    query = sa.select(sa.func.count(Booking.id)).where(Booking.event_id == event_id, column == value,
                                                       Booking.status == BookingStatus.BOOKED)
    if exclude is not None:
        query = query.where(Booking.id != exclude)
    return db.session.scalar(query)


def _bookable_event(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(_l("Kegiatan tidak ditemukan."))
    refuse_while_on_laptop(event_id)
    if not is_bookable(event, plan_of(event_id)):
        raise DomainError(_l("Pemesanan untuk kegiatan ini belum dibuka atau sudah ditutup."), status=409)
    return event


@unit_of_work
def book(event_id: int, data: BookingInput, *, rules: BookingRules | None = None) -> Booking:
    """A new booking with its code and private token, or a DomainError saying why not (in Indonesian)."""
    rules = rules or current()
    event = _bookable_event(event_id)
    problems = Problems()
    window = ids = phone = None
    with problems:
        window = _window(event.id, data.window_id)
    with problems:
        if window is not None:
            ids = _services(window, data.service_ids, data.package_id)
    wants_messages = bool(data.notify) and notify.enabled()
    with problems:
        phone = normalise_phone(data.phone)
        if wants_messages:
            phone = notify.message_phone(phone)  # a landline cannot take them: refused at the phone field
    name = " ".join((data.name or "").split()) or None
    with problems:
        if name and len(name) > MAX_NAME:
            raise DomainError(_l("Nama paling banyak %(n)d karakter.", n=MAX_NAME), field="name")
    nik = (data.nik or "").strip() or None
    with problems:
        if nik is not None:
            nik = check_nik(nik).nik
            if _active(event.id, Booking.nik, nik) >= rules.max_per_nik:
                raise DomainError(_l("NIK ini sudah memiliki %(n)d pemesanan aktif di kegiatan ini.",
                                     n=rules.max_per_nik), field="nik")
    problems.raise_any()
    if _active(event.id, Booking.phone, phone) >= rules.max_per_phone:
        raise DomainError(_l("Nomor HP ini sudah memiliki %(n)d pemesanan aktif di kegiatan ini.",
                             n=rules.max_per_phone), field="phone")
    hour_ago = now() - timedelta(hours=1)
    origin = origin_hash(data.origin)
    recent = sa.select(sa.func.count(Booking.id)).where(Booking.created_at >= hour_ago)
    if (db.session.scalar(recent.where(Booking.phone == phone)) >= rules.throttle_per_hour
            or (origin and db.session.scalar(recent.where(Booking.origin == origin)) >= rules.throttle_per_hour)):
        raise DomainError(_l("Terlalu banyak pemesanan dalam satu jam. Coba lagi nanti."), status=429)
    _take(window.id, ids)
    booking = Booking(event_id=event.id, window_id=window.id, code=new_code(), token=secrets.token_urlsafe(32),
                      phone=phone, name=name, nik=nik, status=BookingStatus.BOOKED, origin=origin,
                      package_id=parse_id(data.package_id),
                      created_at=now(), notify=wants_messages,
                      locale=notify.clean_locale(data.locale) if wants_messages else None)
    booking.services = list(db.session.scalars(sa.select(Service).where(Service.id.in_(ids))))
    db.session.add(booking)
    db.session.flush()
    if wants_messages:  # committed with the booking, or neither is
        booking_messages.queue_confirmed(booking, event, data.link(booking.token) if data.link else None)
    audit.record("booking.create", "booking", booking.id, event_id=event.id, code=booking.code,
                 window=window.id, services=sorted(ids), with_nik=nik is not None)
    return booking


def booking_by_token(token: str | None) -> Booking | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(sa.select(Booking).where(Booking.token == token))


def _own(token: str) -> Booking:
    booking = booking_by_token(token)
    if booking is None:
        raise NotFound(_l("Pemesanan tidak ditemukan."))
    if booking.status != BookingStatus.BOOKED:
        raise Conflict(_l("Pemesanan ini sudah dibatalkan atau sudah dipakai."))
    return booking


@unit_of_work
def change_booking(token: str, window_id, service_ids, *, package_id=None) -> Booking:
    """Move a booking to another window and/or other services. The old places are given back and the new
    ones taken in one unit of work: when a new one is full the whole change is refused and the booking keeps
    its old places."""
    booking = _own(token)
    refuse_while_on_laptop(booking.event_id)
    _bookable_event(booking.event_id)
    if now() >= booking.window.starts_at:
        raise Conflict(_l("Jendela waktu pemesanan ini sudah dimulai; pemesanan tidak dapat diubah."))
    old_window, old_ids = booking.window_id, [s.id for s in booking.services]
    _give_back(old_window, old_ids)
    window = _window(booking.event_id, window_id)
    ids = _services(window, service_ids, package_id)
    _take(window.id, ids)
    booking.window_id = window.id
    booking.services = list(db.session.scalars(sa.select(Service).where(Service.id.in_(ids))))
    booking.changed_at = now()
    db.session.flush()
    db.session.expire(booking, ["window"])
    audit.record("booking.change", "booking", booking.id, event_id=booking.event_id, code=booking.code,
                 window=window.id, services=sorted(ids))
    return booking


@unit_of_work
def cancel_booking(token: str) -> Booking:
    """Cancel a booking and give its places back."""
    booking = _own(token)
    refuse_while_on_laptop(booking.event_id)
    _give_back(booking.window_id, [s.id for s in booking.services])
    booking.status = BookingStatus.CANCELLED
    booking.changed_at = now()
    audit.record("booking.cancel", "booking", booking.id, event_id=booking.event_id, code=booking.code)
    return booking
