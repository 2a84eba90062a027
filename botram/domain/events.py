"""Events and their desks: the rules a coordinator works within.

Status lifecycle (decided here, tested in tests/test_events_domain.py):

    draft ──open──▶ open ──close──▶ closed          (closed is final: nothing about it changes any more)
      ▲               │
      └──back to draft┘  only while no visit (ticket) exists for the event: undoes an accidental opening
                         without hiding registered citizens.

- An event opens only with at least one desk. Opening sets every desk to `open`; closing or going back to
  draft sets every desk to `closed` (the desk console pauses and closes single desks during the day).
- A closed event refuses every edit: its fields, its running text, its desks and their hours.
- The date of an event changes only while it is a draft, and never to a day before today (WIB); desks keep
  their wall-clock hours when it moves.
- Desk hours lie on the event's day (WIB), opening before closing. They may run past the event's planned
  hours: service hours follow the people (the regency asked for hours that follow the people), and `set_desk_hours` is the on-the-day change.
- A desk is removed only while no step has ever been called to it, and an open event keeps at least one desk.

Times come in as WIB wall-clock `time`s and are stored UTC through `clock.wib_to_utc`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Agency, Desk, DeskState, Event, EventStatus, Region, Service, Step, Visit
from . import DomainError, audit, summaries
from .ids import is_digits
from .privacy import personal_number
from .clock import now, to_wib, today_wib, wib_to_utc
from .reference import BEKASI_REGENCY
from .uow import bump_version, unit_of_work

TITLE_MIN, TITLE_MAX = 3, 160
VENUE_MIN, VENUE_MAX = 3, 200
LABEL_MIN, LABEL_MAX = 2, 80
RUNNING_TEXT_MAX = 500
DESK_NUMBER_MIN, DESK_NUMBER_MAX = 1, 99

# from -> allowed targets
TRANSITIONS: dict[str, tuple[str, ...]] = {
    EventStatus.DRAFT: (EventStatus.OPEN,),
    EventStatus.OPEN: (EventStatus.CLOSED, EventStatus.DRAFT),
    EventStatus.CLOSED: (),
}


@dataclass
class EventInput:
    title: str | None
    date: date | None
    venue: str | None
    kecamatan_code: str | None
    desa_code: str | None
    opens: time | None
    closes: time | None
    # "Your turn is near" at this many people ahead; None: the server's default (notify.near_ahead)
    notify_near_ahead: int | None = None


NEAR_AHEAD_MIN, NEAR_AHEAD_MAX = 1, 20


@dataclass
class DeskInput:
    number: int | None
    label: str | None
    agency_id: int | None
    service_ids: list[int] = field(default_factory=list)
    opens: time | None = None
    closes: time | None = None


# ---------------------------------------------------------------- regions

def kecamatan_list() -> list[Region]:
    """The 23 kecamatan of Bekasi Regency (Kemendagri level 3 under 32.16), by name."""
    return list(db.session.scalars(
        sa.select(Region).where(Region.level == 3, Region.parent_code == BEKASI_REGENCY).order_by(Region.name)))


def desa_list(kecamatan_code: str | None) -> list[Region]:
    """The desa/kelurahan of one kecamatan, by name; empty for an unknown or missing kecamatan."""
    if not kecamatan_code:
        return []
    return list(db.session.scalars(
        sa.select(Region).where(Region.level == 4, Region.parent_code == kecamatan_code).order_by(Region.name)))


def _check_region(kecamatan_code: str | None, desa_code: str | None) -> tuple[str, str]:
    kecamatan = db.session.get(Region, kecamatan_code) if kecamatan_code else None
    if kecamatan is None or kecamatan.level != 3 or kecamatan.parent_code != BEKASI_REGENCY:
        raise DomainError(_l("Pilih kecamatan di Kabupaten Bekasi."), field="kecamatan_code")
    desa = db.session.get(Region, desa_code) if desa_code else None
    if desa is None:
        raise DomainError(_l("Pilih desa/kelurahan."), field="desa_code")
    if desa.level != 4 or desa.parent_code != kecamatan.code:
        raise DomainError(_l("Desa/kelurahan tidak berada di kecamatan yang dipilih."), field="desa_code")
    return kecamatan.code, desa.code


# ---------------------------------------------------------------- events

def _text(value: str | None, name: str, lo: int, hi: int, label: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise DomainError(_l("%(label)s wajib diisi.", label=label), field=name)
    if len(text) < lo or len(text) > hi:
        raise DomainError(_l("%(label)s %(lo)d–%(hi)d karakter.", label=label, lo=lo, hi=hi), field=name)
    return text


def _hours(day: date, opens: time | None, closes: time | None, prefix: str = "") -> tuple[datetime, datetime]:
    if opens is None:
        raise DomainError(_l("Jam buka wajib diisi (JJ:MM)."), field=f"{prefix}opens")
    if closes is None:
        raise DomainError(_l("Jam tutup wajib diisi (JJ:MM)."), field=f"{prefix}closes")
    if closes <= opens:
        raise DomainError(_l("Jam tutup harus setelah jam buka, pada hari yang sama."), field=f"{prefix}closes")
    return wib_to_utc(day, opens), wib_to_utc(day, closes)


def _refuse_closed(event: Event) -> None:
    if event.status == EventStatus.CLOSED:
        raise DomainError(_l("Kegiatan sudah ditutup dan tidak dapat diubah lagi."), status=409)


def _validate_event(data: EventInput, event: Event | None) -> dict:
    title = _text(data.title, "title", TITLE_MIN, TITLE_MAX, _l("Nama kegiatan"))
    if data.date is None:
        raise DomainError(_l("Tanggal wajib diisi."), field="date")
    date_changes = event is None or data.date != event.date
    if date_changes:
        if event is not None and event.status != EventStatus.DRAFT:
            raise DomainError(_l("Tanggal hanya dapat diubah selama kegiatan masih draf."), field="date")
        if data.date < today_wib():
            raise DomainError(_l("Tanggal tidak boleh sebelum hari ini."), field="date")
    venue = _text(data.venue, "venue", VENUE_MIN, VENUE_MAX, _l("Tempat"))
    kecamatan, desa = _check_region(data.kecamatan_code, data.desa_code)
    opens_at, closes_at = _hours(data.date, data.opens, data.closes)
    near = data.notify_near_ahead
    if near is not None and not NEAR_AHEAD_MIN <= near <= NEAR_AHEAD_MAX:
        raise DomainError(_l("Jumlah orang di depan untuk pesan \"giliran dekat\" harus %(lo)d–%(hi)d.",
                             lo=NEAR_AHEAD_MIN, hi=NEAR_AHEAD_MAX), field="notify_near_ahead")
    return dict(title=title, date=data.date, venue=venue, kecamatan_code=kecamatan, desa_code=desa,
                opens_at=opens_at, closes_at=closes_at, notify_near_ahead=near)


@unit_of_work
def create_event(data: EventInput, *, by_user_id: int | None = None) -> Event:
    """A new event, always a draft."""
    values = _validate_event(data, None)
    event = Event(status=EventStatus.DRAFT, running_text="", created_by_id=by_user_id, **values)
    db.session.add(event)
    db.session.flush()
    audit.record("event.create", "event", event.id, user_id=by_user_id, event_id=event.id,
                 date=event.date.isoformat(), kecamatan=event.kecamatan_code)
    return event


@unit_of_work
def update_event(event: Event, data: EventInput, *, by_user_id: int | None = None) -> Event:
    _refuse_closed(event)
    values = _validate_event(data, event)
    changed = sorted(k for k, v in values.items() if getattr(event, k) != v)
    moved = "date" in changed or "venue" in changed
    if values["date"] != event.date:
        for desk in event.desks:
            desk.opens_at = wib_to_utc(values["date"], to_wib(desk.opens_at).time())
            desk.closes_at = wib_to_utc(values["date"], to_wib(desk.closes_at).time())
    for key, value in values.items():
        setattr(event, key, value)
    if moved:  # citizens holding a booking who asked for messages hear of the new day or place
        from .notify import booking as booking_messages

        db.session.flush()
        booking_messages.queue_moved(event)
    audit.record("event.update", "event", event.id, user_id=by_user_id, event_id=event.id, changed=changed)
    bump_version(event.id)
    return event


@unit_of_work
def set_running_text(event: Event, text: str | None, *, by_user_id: int | None = None) -> Event:
    """The line that scrolls along the bottom of the projector board. May be empty. Never personal data: the
    board is public, so a NIK-like or phone-like number is refused."""
    _refuse_closed(event)
    text = " ".join((text or "").split())
    if len(text) > RUNNING_TEXT_MAX:
        raise DomainError(_l("Teks berjalan paling banyak %(n)d karakter.", n=RUNNING_TEXT_MAX), field="running_text")
    if personal_number(text):
        raise DomainError(_l("Teks berjalan tampil di layar umum: hapus nomor yang mirip NIK atau nomor "
                             "telepon. Tulis tanpa data pribadi."), field="running_text")
    event.running_text = text
    audit.record("event.running_text", "event", event.id, user_id=by_user_id, event_id=event.id,
                 length=len(text))
    bump_version(event.id)
    return event


def has_visits(event: Event) -> bool:
    return db.session.scalar(sa.select(Visit.id).where(Visit.event_id == event.id).limit(1)) is not None


def allowed_transitions(event: Event) -> tuple[str, ...]:
    return TRANSITIONS.get(event.status, ())


@unit_of_work
def change_status(event: Event, target: str, *, by_user_id: int | None = None) -> Event:
    """Move an event along draft → open → closed (or open → draft while nobody registered)."""
    source = event.status
    if target not in allowed_transitions(event):
        names = {"draft": _l("draf"), "open": _l("dibuka"), "closed": _l("ditutup")}
        raise DomainError(
            _l("Status kegiatan tidak dapat diubah dari %(source)s ke %(target)s.", source=names.get(source, source),
               target=names.get(target, target)), field="status", status=409)
    if target == EventStatus.OPEN and not event.desks:
        raise DomainError(_l("Tambahkan paling sedikit satu loket sebelum membuka kegiatan."), field="status",
                          status=409)
    if source == EventStatus.OPEN and target == EventStatus.DRAFT and has_visits(event):
        raise DomainError(_l("Sudah ada warga yang terdaftar: kegiatan tidak dapat dikembalikan ke draf."),
                          field="status", status=409)
    desk_state = DeskState.OPEN if target == EventStatus.OPEN else DeskState.CLOSED
    for desk in event.desks:
        desk.state = desk_state
    event.status = target
    audit.record("event.status", "event", event.id, user_id=by_user_id, event_id=event.id,
                 source=source, target=target)
    bump_version(event.id)
    if target == EventStatus.CLOSED:
        summaries.refresh(event.id)
        if event.date > today_wib():  # closed before its day: cancelled, and its bookings are told
            from .notify import booking as booking_messages

            booking_messages.queue_cancelled(event)
    return event


@unit_of_work
def set_announced(event: Event, announced: bool, *, by_user_id: int | None = None) -> Event:
    """Announce a draft (public on the schedule and bookable, the queue still closed) or withdraw the
    announcement. Only a draft with a desk and a day not past may be announced; an announcement is withdrawn
    only while nobody booked (a citizen holding a booking must keep finding its day)."""
    from ..models import Booking, BookingStatus

    if event.status != EventStatus.DRAFT:
        raise DomainError(_l("Hanya kegiatan draf yang dapat diumumkan; kegiatan ini sudah dibuka atau ditutup."),
                          field="announced", status=409)
    if announced:
        if not event.desks:
            raise DomainError(_l("Tambahkan paling sedikit satu loket sebelum mengumumkan kegiatan."),
                              field="announced", status=409)
        if event.date < today_wib():
            raise DomainError(_l("Tanggal kegiatan sudah lewat."), field="announced", status=409)
        if event.announced_at is None:
            event.announced_at = now()
    else:
        booked = db.session.scalar(sa.select(sa.func.count(Booking.id)).where(
            Booking.event_id == event.id, Booking.status == BookingStatus.BOOKED))
        if booked:
            raise DomainError(_l("Sudah ada %(n)d pemesanan: pengumuman tidak dapat ditarik.", n=booked),
                              field="announced", status=409)
        event.announced_at = None
    audit.record("event.announce", "event", event.id, user_id=by_user_id, event_id=event.id, announced=announced)
    bump_version(event.id)
    return event


# ---------------------------------------------------------------- desks

def parse_ids(values: Iterable[str | int | None], field_name: str, message: str) -> list[int]:
    """Form values to ids; anything that is not a positive integer is refused with `message`."""
    ids: list[int] = []
    for value in values:
        text = str(value if value is not None else "").strip()
        if not is_digits(text) or len(text) > 9:
            raise DomainError(message, field=field_name)
        if int(text) not in ids:
            ids.append(int(text))
    return ids


def active_agencies() -> list[Agency]:
    return list(db.session.scalars(sa.select(Agency).where(Agency.active.is_(True)).order_by(Agency.name)))


def active_services(agency_id: int | None) -> list[Service]:
    if not agency_id:
        return []
    return list(db.session.scalars(
        sa.select(Service).where(Service.agency_id == agency_id, Service.active.is_(True)).order_by(Service.name)))


def next_desk_number(event: Event) -> int:
    used = {d.number for d in event.desks}
    return next((n for n in range(DESK_NUMBER_MIN, DESK_NUMBER_MAX + 1) if n not in used), DESK_NUMBER_MAX)


def _validate_desk(event: Event, data: DeskInput, desk: Desk | None) -> dict:
    if data.number is None:
        raise DomainError(_l("Nomor loket wajib diisi."), field="number")
    if not DESK_NUMBER_MIN <= data.number <= DESK_NUMBER_MAX:
        raise DomainError(_l("Nomor loket %(lo)d–%(hi)d.", lo=DESK_NUMBER_MIN, hi=DESK_NUMBER_MAX), field="number")
    clash = db.session.scalar(sa.select(Desk.id).where(Desk.event_id == event.id, Desk.number == data.number))
    if clash is not None and (desk is None or clash != desk.id):
        raise DomainError(_l("Loket %(n)d sudah ada di kegiatan ini.", n=data.number), field="number", status=409)
    label = _text(data.label, "label", LABEL_MIN, LABEL_MAX, _l("Nama loket"))
    agency = db.session.get(Agency, data.agency_id) if data.agency_id else None
    if agency is None:
        raise DomainError(_l("Pilih instansi."), field="agency_id")
    if not agency.active:
        raise DomainError(_l("Instansi ini tidak aktif."), field="agency_id")
    if not data.service_ids:
        raise DomainError(_l("Pilih paling sedikit satu layanan."), field="service_ids")
    services = list(db.session.scalars(sa.select(Service).where(Service.id.in_(data.service_ids))))
    if len(services) != len(set(data.service_ids)):
        raise DomainError(_l("Layanan tidak dikenal."), field="service_ids")
    for service in services:
        if service.agency_id != agency.id:
            raise DomainError(_l("Layanan %(service)s bukan layanan %(agency)s.", service=service.name,
                                 agency=agency.short_name), field="service_ids")
        if not service.active:
            raise DomainError(_l("Layanan %(service)s tidak aktif.", service=service.name), field="service_ids")
    opens_at, closes_at = _hours(event.date, data.opens, data.closes)
    return dict(number=data.number, label=label, agency=agency, services=sorted(services, key=lambda s: s.code),
                opens_at=opens_at, closes_at=closes_at)


@unit_of_work
def add_desk(event: Event, data: DeskInput, *, by_user_id: int | None = None) -> Desk:
    _refuse_closed(event)
    values = _validate_desk(event, data, None)
    state = DeskState.OPEN if event.status == EventStatus.OPEN else DeskState.CLOSED
    desk = Desk(event=event, state=state, **values)
    db.session.add(desk)
    db.session.flush()
    audit.record("desk.create", "desk", desk.id, user_id=by_user_id, event_id=event.id, number=desk.number,
                 agency=desk.agency.code, services=[s.code for s in desk.services])
    bump_version(event.id)
    return desk


@unit_of_work
def update_desk(desk: Desk, data: DeskInput, *, by_user_id: int | None = None) -> Desk:
    event = desk.event
    _refuse_closed(event)
    values = _validate_desk(event, data, desk)
    before = {"number": desk.number, "agency": desk.agency.code, "services": [s.code for s in desk.services],
              "opens": to_wib(desk.opens_at).strftime("%H:%M"), "closes": to_wib(desk.closes_at).strftime("%H:%M")}
    for key, value in values.items():
        setattr(desk, key, value)
    after = {"number": desk.number, "agency": desk.agency.code, "services": [s.code for s in desk.services],
             "opens": to_wib(desk.opens_at).strftime("%H:%M"), "closes": to_wib(desk.closes_at).strftime("%H:%M")}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    audit.record("desk.update", "desk", desk.id, user_id=by_user_id, event_id=event.id, changes=changes)
    bump_version(event.id)
    return desk


@unit_of_work
def set_desk_hours(desk: Desk, opens: time | None, closes: time | None, *, by_user_id: int | None = None,
                   reason: str | None = None) -> Desk:
    """The on-the-day change of one desk's hours (usually: stay open longer). Audited with old and new times,
    and `reason` when the change was not typed in (e.g. "call_outside_hours")."""
    event = desk.event
    _refuse_closed(event)
    opens_at, closes_at = _hours(event.date, opens, closes)
    old = (to_wib(desk.opens_at).strftime("%H:%M"), to_wib(desk.closes_at).strftime("%H:%M"))
    desk.opens_at, desk.closes_at = opens_at, closes_at
    new = (to_wib(opens_at).strftime("%H:%M"), to_wib(closes_at).strftime("%H:%M"))
    audit.record("desk.hours", "desk", desk.id, user_id=by_user_id, event_id=event.id, number=desk.number,
                 old_opens=old[0], old_closes=old[1], opens=new[0], closes=new[1],
                 extended=new[0] < old[0] or new[1] > old[1], **({"reason": reason} if reason else {}))
    bump_version(event.id)
    return desk


EXTEND_CHOICES = (30, 60, 120)
"""Minutes the one-click buttons add to a desk's closing time (desk hours on the event page and the report)."""


def parse_extension(value: str | int | None) -> int:
    """The minutes of a one-click extension; anything but one of EXTEND_CHOICES is refused."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or int(text) not in EXTEND_CHOICES:
        raise DomainError(_l("Pilih perpanjangan %(choices)s menit.",
                             choices=", ".join(str(m) for m in EXTEND_CHOICES)),
                          field="extend", status=400)
    return int(text)


@unit_of_work
def extend_desk_hours(desk: Desk, minutes: int, *, by_user_id: int | None = None) -> Desk:
    """Close the desk `minutes` later than now planned (people are still coming); never past midnight."""
    if minutes not in EXTEND_CHOICES:
        raise DomainError(_l("Perpanjangan jam loket tidak dikenal."), field="extend", status=400)
    new_close = to_wib(desk.closes_at) + timedelta(minutes=minutes)
    if new_close.date() != desk.event.date:
        raise DomainError(_l("Jam tutup tidak boleh melewati tengah malam."), field="closes")
    return set_desk_hours(desk, to_wib(desk.opens_at).time(), new_close.time(), by_user_id=by_user_id)


@unit_of_work
def extend_desk_until(desk: Desk, closes: time, *, by_user_id: int | None = None, reason: str = "forecast") -> Desk:
    """Keep the desk open until `closes` (WIB), later than now planned: the fix the live view's forecast offers
    (domain/forecast.py), applied with one press. The same hours change as every other (`set_desk_hours`),
    audited with `reason`; boards, desks and status pages learn of it through the version."""
    if not isinstance(closes, time):
        raise DomainError(_l("Isi jam dengan format JJ:MM, misalnya 08:00."), field="closes", status=400)
    if closes <= to_wib(desk.closes_at).time():
        raise DomainError(_l("Loket %(number)s sudah buka sampai %(closes)s WIB.", number=desk.number,
                             closes=to_wib(desk.closes_at).strftime("%H.%M")), field="closes", status=409)
    return set_desk_hours(desk, to_wib(desk.opens_at).time(), closes, by_user_id=by_user_id, reason=reason)


@unit_of_work
def remove_desk(desk: Desk, *, by_user_id: int | None = None) -> None:
    event = desk.event
    _refuse_closed(event)
    used = db.session.scalar(sa.select(Step.id).where(Step.desk_id == desk.id).limit(1)) is not None
    if used:
        raise DomainError(_l("Loket ini sudah melayani warga dan tidak dapat dihapus. Ubah jamnya atau tutup "
                          "lewat konsol loket."), status=409)
    if event.status == EventStatus.OPEN and len(event.desks) == 1:
        raise DomainError(_l("Kegiatan yang dibuka memerlukan paling sedikit satu loket."), status=409)
    audit.record("desk.delete", "desk", desk.id, user_id=by_user_id, event_id=event.id, number=desk.number,
                 agency=desk.agency.code)
    event.desks.remove(desk)
    bump_version(event.id)
