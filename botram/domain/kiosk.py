"""The self-service kiosk (anjungan antrean mandiri): what it offers, and one press → one ticket (+ one print).

A citizen takes a ticket without staff only for what nobody needs to check first: services and life-event
packages the admin marked `self_service` in the catalogue. Everything else stays at reception (the kiosk
says so). A press carries a key made when its screen was drawn; the ticket is written once per key, so a
double tap, a retried request or a reload answers the ticket already made, and its print job (keyed by the
same press) is written in the same unit of work and sent once after the commit (domain/printing/jobs.py).

A booking's QR read by the kiosk's scanner is a press too: its key comes with the start screen, so a double
scan answers the one ticket; whether the booking may become a visit is booking/checkin.py's rule.

The phone for "your turn is near" is optional and taken only while messages are on (domain/notify); the
number is checked like reception's tick (a mobile number, kept as +62…).
"""
from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass, field
from typing import Callable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (Agency, Booking, Desk, KioskPress, LifeEventPackage, PackageService, PrintJob, Service,
                      Visit)
from . import Conflict, DomainError, NotFound, audit
from . import notify as notify_rules
from .booking.book import clean_code
from .booking.checkin import check_in
from .printing import request_print
from .queue.issue import _issue_visit
from .queue.shared import clean_ids
from .queue_rules import QueueRules, current_rules
from .uow import RETRIES, unit_of_work

PRESS_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass
class KioskOffer:
    """Services offered at the event by agency (self-service or not: the kiosk shows both, the others with
    "silakan ke resepsionis"), and the active packages whose services are all offered here."""

    groups: list[tuple[Agency, list[Service]]] = field(default_factory=list)
    packages: list[tuple[LifeEventPackage, list[Service]]] = field(default_factory=list)

    @property
    def self_service_ids(self) -> set[int]:
        return {s.id for _, services in self.groups for s in services if s.self_service}


def kiosk_offer(event_id: int) -> KioskOffer:
    desks = db.session.scalars(sa.select(Desk).where(Desk.event_id == event_id).order_by(Desk.number)
                               .options(selectinload(Desk.services).selectinload(Service.agency))).all()
    services: dict[int, Service] = {}
    for desk in desks:
        for service in desk.services:
            if service.active:
                services.setdefault(service.id, service)
    offer = KioskOffer()
    by_agency: dict[int, tuple[Agency, list[Service]]] = {}
    for service in services.values():  # desk order: the agencies as the hall lays them out
        by_agency.setdefault(service.agency_id, (service.agency, []))[1].append(service)
    offer.groups = list(by_agency.values())
    for _, group in offer.groups:
        group.sort(key=lambda s: (not s.self_service, s.name))
    packages = db.session.scalars(
        sa.select(LifeEventPackage).where(LifeEventPackage.active.is_(True)).order_by(LifeEventPackage.name)
        .options(selectinload(LifeEventPackage.items).selectinload(PackageService.service))).all()
    for package in packages:
        items = [item.service for item in package.items if item.service_id in services]
        if items and len(items) == len(package.items):
            offer.packages.append((package, items))
    return offer


@dataclass
class KioskTicket:
    visit: Visit
    job: PrintJob | None
    replayed: bool  # this press had already made its ticket


def take_ticket(event_id: int, press_key: str, service_ids: list, package_id: int | None, priority: str, *,
                by_user_id: int, printer_id: int | None = None, status_url: Callable[[str], str] = str,
                priority_text: Callable[[str], str] = lambda group: "", phone: str | None = None,
                locale: str | None = None, rules: QueueRules | None = None) -> KioskTicket:
    """One press of the kiosk's ticket button. Idempotent on `press_key`. `status_url(public token)` and
    `priority_text(group)` are the page's words for the printed ticket (the domain builds no URL).
    `phone`: where "your turn is near" goes, in `locale` (refused with field `phone` when it cannot take a
    message; dropped while messages are off)."""
    _check_press(press_key)
    rules = rules or current_rules()
    return _retried(lambda: _take_ticket(
        event_id, press_key, service_ids, package_id, priority, by_user_id=by_user_id, printer_id=printer_id,
        max_per_nik=rules.max_tickets_per_nik, status_url=status_url, priority_text=priority_text,
        phone=phone, locale=locale))


def check_in_booking(event_id: int, press_key: str, code: str | None, *, by_user_id: int,
                     printer_id: int | None = None, status_url: Callable[[str], str] = str,
                     rules: QueueRules | None = None) -> KioskTicket:
    """A booking's code (what its QR holds) scanned at the kiosk: checked in, its ticket printed like a press.
    Idempotent on `press_key`; a second check-in of the same booking is refused by the check-in rule."""
    _check_press(press_key)
    cleaned = clean_code(code)
    if not cleaned:
        raise DomainError(_l("Kode pemesanan tidak terbaca. Pindai lagi kode QR di ponsel Anda."), field="code")
    return _retried(lambda: _check_in_booking(event_id, press_key, cleaned, by_user_id=by_user_id,
                                              printer_id=printer_id, status_url=status_url, rules=rules))


def _check_press(press_key) -> None:
    if not isinstance(press_key, str) or not PRESS_KEY.match(press_key):
        raise DomainError(_l("Sesi layar kedaluwarsa. Silakan mulai lagi."), field="press")


def _retried(attempt_once: Callable[[], KioskTicket]) -> KioskTicket:
    for attempt in range(RETRIES):
        try:
            return attempt_once()
        except IntegrityError:  # the same press at once on two connections, or a code clash: ask again
            if attempt + 1 == RETRIES:
                raise
            time.sleep(random.uniform(0.002, 0.02))
    raise AssertionError("unreachable")  # pragma: no cover


def _replayed(event_id: int, press_key: str) -> KioskTicket | None:
    """The ticket this press already made, if any."""
    earlier = db.session.get(KioskPress, press_key)
    if earlier is None:
        return None
    if earlier.event_id != event_id:
        raise DomainError(_l("Sesi layar kedaluwarsa. Silakan mulai lagi."), field="press")
    job = db.session.scalar(sa.select(PrintJob).where(
        PrintJob.request_key == f"print:visit:{earlier.visit_id}:{press_key}"[:120]))
    return KioskTicket(visit=db.session.get(Visit, earlier.visit_id), job=job, replayed=True)


def _pressed(event_id: int, press_key: str, visit: Visit, *, by_user_id: int, printer_id: int | None,
             status_url: Callable[[str], str], priority_text: str) -> PrintJob | None:
    """Remember the press and ask for its print, in the unit of work that made the visit."""
    db.session.add(KioskPress(key=press_key, event_id=event_id, visit_id=visit.id))
    if not printer_id:
        return None
    # the print job and its outbox row commit with the ticket, or neither does
    return request_print(visit.id, printer_id, press_key, status_url=status_url(visit.public_token),
                         priority_text=priority_text, by_user_id=by_user_id)


def _kiosk_services(event_id: int, service_ids: list, package_id: int | None) -> list[int]:
    offer = kiosk_offer(event_id)
    if package_id is not None:
        for package, services in offer.packages:
            if package.id == package_id:
                if not package.self_service:
                    raise DomainError(_l("Paket ini perlu diperiksa petugas. Silakan ke resepsionis."),
                                      field="package")
                return [s.id for s in services]
        raise DomainError(_l("Paket layanan tidak tersedia di kegiatan ini."), field="package")
    ids = clean_ids(service_ids, "services", _l("Pilihan layanan tidak dikenal."))
    if not ids:
        raise DomainError(_l("Pilih minimal satu layanan."), field="services")
    allowed = offer.self_service_ids
    if any(i not in allowed for i in ids):
        raise DomainError(_l("Layanan ini perlu diperiksa petugas (dokumen atau NIK). Silakan ke resepsionis."),
                          field="services")
    return ids


@unit_of_work
def _take_ticket(event_id, press_key, service_ids, package_id, priority, *, by_user_id, printer_id,
                 max_per_nik, status_url, priority_text, phone, locale) -> KioskTicket:
    earlier = _replayed(event_id, press_key)
    if earlier is not None:
        return earlier
    ids = _kiosk_services(event_id, service_ids, package_id)
    # The kiosk asks for no name or NIK: nobody is there to check them. A phone is only a message address.
    phone = (phone or "").strip() or None
    wants_messages = phone is not None and notify_rules.enabled()
    issued = _issue_visit(event_id, ids, priority=priority, name=None, nik=None,
                          phone=phone if wants_messages else None, by_user_id=by_user_id,
                          max_per_nik=max_per_nik, notify=wants_messages, locale=locale)
    visit = issued.visit
    job = _pressed(event_id, press_key, visit, by_user_id=by_user_id, printer_id=printer_id,
                   status_url=status_url, priority_text=priority_text(visit.priority))
    db.session.flush()
    audit.record("kiosk.press", "visit", visit.id, user_id=by_user_id, event_id=event_id, package=package_id)
    return KioskTicket(visit=visit, job=job, replayed=False)


@unit_of_work
def _check_in_booking(event_id, press_key, code, *, by_user_id, printer_id, status_url, rules) -> KioskTicket:
    earlier = _replayed(event_id, press_key)
    if earlier is not None:
        return earlier
    booking_id = db.session.scalar(sa.select(Booking.id).where(Booking.code == code))
    if booking_id is None:
        raise NotFound(_l("Kode pemesanan %(code)s tidak dikenal. Periksa kode di ponsel Anda, atau tanyakan "
                          "kepada petugas.", code=code), field="code")
    try:
        visit = check_in(booking_id, by_user_id=by_user_id, event_id=event_id, rules=rules).visit
    except Conflict:
        # The same press sent twice at once: the other request checked the booking in while this one waited
        # for its row lock; it answers that ticket, not "already used".
        earlier = _replayed(event_id, press_key)
        if earlier is not None:
            return earlier
        raise
    job = _pressed(event_id, press_key, visit, by_user_id=by_user_id, printer_id=printer_id,
                   status_url=status_url, priority_text="")
    db.session.flush()
    audit.record("kiosk.booking", "visit", visit.id, user_id=by_user_id, event_id=event_id)
    return KioskTicket(visit=visit, job=job, replayed=False)
