"""The service catalogue: agencies (OPD), their services, requirement checklists and life-event packages.

Rules shared by every entry point (admin pages, CLI, API):
- codes are unique, 2-20 characters of A-Z, 0-9 and '-', stored upper case;
- a ticket letter is one letter A-Z and belongs to one agency: two agencies never share a letter, so the
  letter on a ticket tells the citizen which agency's area to walk to;
- target service time is 1..240 minutes;
- agency colours are #RRGGBB; a new agency gets the first Okabe-Ito colour no agency uses yet;
- rows referenced by history are never deleted, only deactivated: an agency cannot be deactivated while it
  still has active services or active desk officers, a service cannot be deactivated while a desk of an open
  event offers it, and inactive agencies cannot receive new or re-activated services;
- a life-event package groups at least two active services.

Every write is audited with ids and codes only.
"""
from __future__ import annotations

import re
from typing import Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import (Agency, Desk, Event, EventStatus, LifeEventPackage, PackageService, Requirement, Role,
                      Service, User, desk_service)
from . import DomainError, NotFound, audit
from .reference import OKABE_ITO
from .uow import bump_open_events, unit_of_work

CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,19}$")
COLOR = re.compile(r"^#[0-9A-F]{6}$")
LETTER = re.compile(r"^[A-Z]$")
MIN_MINUTES, MAX_MINUTES = 1, 240
MIN_PACKAGE_SERVICES = 2


# --- small checks -------------------------------------------------------------------------------------------

def _text(value: str | None, *, field: str, label: str, max_len: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_l("%(label)s wajib diisi.", label=label), field=field)
    if len(value) > max_len:
        raise DomainError(_l("%(label)s paling banyak %(n)d karakter.", label=label, n=max_len), field=field)
    return value


def _code(value: str | None, model, row_id: int | None, *, what: str) -> str:
    code = (value or "").strip().upper()
    if not code:
        raise DomainError(_l("Kode wajib diisi."), field="code")
    if not CODE.match(code):
        raise DomainError(_l("Kode 2–20 karakter: huruf A–Z, angka, atau tanda hubung, tanpa spasi."), field="code")
    clash = db.session.scalar(sa.select(model.id).where(model.code == code))
    if clash is not None and clash != row_id:
        raise DomainError(_l("Kode %(code)s sudah dipakai %(what)s lain.", code=code, what=what), field="code", status=409)
    return code


def _color(value: str | None) -> str:
    color = (value or "").strip().upper()
    if not COLOR.match(color):
        raise DomainError(_l("Warna harus berformat #RRGGBB, misalnya #0072B2."), field="color")
    return color


def _minutes(value) -> int:
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError(_l("Target waktu layanan harus berupa angka %(lo)d–%(hi)d menit.", lo=MIN_MINUTES, hi=MAX_MINUTES),
                          field="target_minutes") from None
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise DomainError(_l("Target waktu layanan harus %(lo)d–%(hi)d menit.", lo=MIN_MINUTES, hi=MAX_MINUTES),
                          field="target_minutes")
    return minutes


def get_agency(agency_id) -> Agency:
    agency = db.session.get(Agency, agency_id) if isinstance(agency_id, int) else None
    if agency is None:
        raise NotFound(_l("Instansi tidak dikenal."), field="agency_id")
    return agency


def _service(service_id) -> Service:
    service = db.session.get(Service, service_id) if isinstance(service_id, int) else None
    if service is None:
        raise NotFound(_l("Layanan tidak dikenal."), field="services")
    return service


# --- agencies -----------------------------------------------------------------------------------------------

def next_agency_color() -> str:
    """The first Okabe-Ito colour no agency uses yet; cycles through the palette when all are taken."""
    used = [c.upper() for c in db.session.scalars(sa.select(Agency.color))]
    for color in OKABE_ITO:
        if color.upper() not in used:
            return color
    return OKABE_ITO[len(used) % len(OKABE_ITO)]


def agency_blockers(agency: Agency) -> list[str]:
    """Why this agency cannot be deactivated now (empty when it can)."""
    reasons = []
    services = db.session.scalar(sa.select(sa.func.count(Service.id)).where(
        Service.agency_id == agency.id, Service.active.is_(True)))
    if services:
        reasons.append(_l("masih memiliki %(n)d layanan aktif", n=services))
    officers = db.session.scalar(sa.select(sa.func.count(User.id)).where(
        User.agency_id == agency.id, User.active.is_(True), User.role == Role.PETUGAS))
    if officers:
        reasons.append(_l("masih memiliki %(n)d petugas loket aktif", n=officers))
    return reasons


def _agency_fields(code, name, short_name, color, agency_id):
    return dict(
        code=_code(code, Agency, agency_id, what=_l("instansi")),
        name=_text(name, field="name", label=_l("Nama instansi"), max_len=160),
        short_name=_text(short_name, field="short_name", label=_l("Nama singkat"), max_len=40),
        color=_color(color) if (color or "").strip() else next_agency_color(),
    )


@unit_of_work
def create_agency(*, code: str, name: str, short_name: str, color: str | None = None,
                  by_user_id: int | None = None) -> Agency:
    agency = Agency(**_agency_fields(code, name, short_name, color, None), active=True)
    db.session.add(agency)
    db.session.flush()
    audit.record("agency.create", "agency", agency.id, user_id=by_user_id, code=agency.code)
    return agency


@unit_of_work
def update_agency(agency: Agency, *, code: str, name: str, short_name: str, color: str | None, active: bool,
                  by_user_id: int | None = None) -> Agency:
    fields = _agency_fields(code, name, short_name, color or agency.color, agency.id)
    if agency.active and not active:
        reasons = agency_blockers(agency)
        if reasons:
            raise DomainError(_l("Instansi tidak dapat dinonaktifkan karena %(reasons)s. Nonaktifkan dahulu layanan "
                                 "dan petugasnya.", reasons=str(_l(" dan ")).join(str(r) for r in reasons)),
                              field="active", status=409)
    changed = sorted(k for k, v in {**fields, "active": active}.items() if getattr(agency, k) != v)
    for key, value in fields.items():
        setattr(agency, key, value)
    agency.active = active
    audit.record("agency.update", "agency", agency.id, user_id=by_user_id, code=agency.code, changed=changed)
    bump_open_events()  # boards show agency names and colours
    return agency


def list_agencies(*, active: bool | None = None) -> list[Agency]:
    query = sa.select(Agency).order_by(Agency.active.desc(), Agency.name)
    if active is not None:
        query = query.where(Agency.active.is_(active))
    return list(db.session.scalars(query))


def agency_counts() -> dict[int, dict[str, int]]:
    """Per agency id: active services, all services, active officers (for the list page)."""
    counts: dict[int, dict[str, int]] = {}
    rows = db.session.execute(sa.select(Service.agency_id, Service.active, sa.func.count())
                              .group_by(Service.agency_id, Service.active))
    for agency_id, active, n in rows:
        entry = counts.setdefault(agency_id, {"services": 0, "active_services": 0, "officers": 0})
        entry["services"] += n
        if active:
            entry["active_services"] += n
    rows = db.session.execute(sa.select(User.agency_id, sa.func.count()).where(
        User.role == Role.PETUGAS, User.active.is_(True), User.agency_id.is_not(None)).group_by(User.agency_id))
    for agency_id, n in rows:
        counts.setdefault(agency_id, {"services": 0, "active_services": 0, "officers": 0})["officers"] = n
    return counts


# --- services -----------------------------------------------------------------------------------------------

def letter_for_agency(agency: Agency) -> str | None:
    """The ticket letter the agency's services already use, for a new service's default."""
    return db.session.scalar(sa.select(Service.ticket_letter).where(Service.agency_id == agency.id)
                             .order_by(Service.id).limit(1))


def _letter(value: str | None, agency: Agency) -> str:
    letter = (value or "").strip().upper()
    if not LETTER.match(letter):
        raise DomainError(_l("Huruf antrean harus satu huruf A–Z."), field="ticket_letter")
    other = db.session.scalar(sa.select(Agency).join(Service, Service.agency_id == Agency.id).where(
        Service.ticket_letter == letter, Agency.id != agency.id).limit(1))
    if other is not None:
        raise DomainError(_l("Huruf %(letter)s sudah dipakai layanan %(agency)s. Setiap instansi memakai huruf "
                             "antreannya sendiri.", letter=letter, agency=other.short_name),
                          field="ticket_letter", status=409)
    return letter


def open_desks_offering(service: Service) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Desk.id))).select_from(Desk)
        .join(desk_service, desk_service.c.desk_id == Desk.id).join(Event, Event.id == Desk.event_id)
        .where(desk_service.c.service_id == service.id, Event.status == EventStatus.OPEN))


def _service_fields(agency_id, code, name, ticket_letter, target_minutes, description, guidance, service_id):
    agency = get_agency(agency_id)
    return agency, dict(
        agency_id=agency.id,
        code=_code(code, Service, service_id, what=_l("layanan")),
        name=_text(name, field="name", label=_l("Nama layanan"), max_len=160),
        ticket_letter=_letter(ticket_letter, agency),
        target_minutes=_minutes(target_minutes),
        description=_text(description, field="description", label=_l("Keterangan"), max_len=2000, required=False),
        guidance=_text(guidance, field="guidance", label=_l("Panduan untuk warga"), max_len=2000, required=False),
    )


@unit_of_work
def create_service(*, agency_id: int, code: str, name: str, ticket_letter: str, target_minutes,
                   records_amount: bool = False, description: str = "", guidance: str = "",
                   self_service: bool = False, by_user_id: int | None = None) -> Service:
    agency, fields = _service_fields(agency_id, code, name, ticket_letter, target_minutes, description, guidance,
                                     None)
    if not agency.active:
        raise DomainError(_l("Instansi ini nonaktif; aktifkan dahulu sebelum menambah layanan."), field="agency_id")
    service = Service(**fields, records_amount=bool(records_amount), self_service=bool(self_service), active=True)
    db.session.add(service)
    db.session.flush()
    audit.record("service.create", "service", service.id, user_id=by_user_id, code=service.code)
    return service


@unit_of_work
def update_service(service: Service, *, agency_id: int, code: str, name: str, ticket_letter: str, target_minutes,
                   records_amount: bool, active: bool, description: str = "", guidance: str = "",
                   self_service: bool | None = None, by_user_id: int | None = None) -> Service:
    agency, fields = _service_fields(agency_id, code, name, ticket_letter, target_minutes, description, guidance,
                                     service.id)
    if active and not agency.active and (not service.active or agency.id != service.agency_id):
        raise DomainError(_l("Instansi ini nonaktif; layanan aktif harus milik instansi yang aktif."), field="agency_id")
    if agency.id != service.agency_id and open_desks_offering(service):
        raise DomainError(_l("Layanan sedang dibuka di loket kegiatan yang berlangsung; instansinya tidak dapat "
                          "diubah sekarang."), field="agency_id", status=409)
    if service.active and not active:
        desks = open_desks_offering(service)
        if desks:
            raise DomainError(_l("Layanan sedang dibuka di %(n)d loket kegiatan yang berlangsung. Nonaktifkan "
                                 "setelah kegiatan ditutup.", n=desks), field="active", status=409)
    values = {**fields, "records_amount": bool(records_amount), "active": active}
    if self_service is not None:  # None: unchanged (callers that do not know the kiosk)
        values["self_service"] = bool(self_service)
    changed = sorted(k for k, v in values.items() if getattr(service, k) != v)
    for key, value in values.items():
        setattr(service, key, value)
    audit.record("service.update", "service", service.id, user_id=by_user_id, code=service.code, changed=changed)
    bump_open_events()  # boards and status pages show service names
    return service


def list_services(*, agency_id: int | None = None, q: str = "", active: bool | None = None) -> list[Service]:
    query = sa.select(Service).join(Agency).order_by(Agency.name, Service.code)
    if agency_id is not None:
        query = query.where(Service.agency_id == agency_id)
    if q:
        like = f"%{q.strip().lower()}%"
        query = query.where(sa.or_(sa.func.lower(Service.name).like(like), sa.func.lower(Service.code).like(like)))
    if active is not None:
        query = query.where(Service.active.is_(active))
    return list(db.session.scalars(query))


# --- requirements -------------------------------------------------------------------------------------------

def _requirement_fields(text, where_to_get):
    return dict(
        text=_text(text, field="text", label=_l("Nama dokumen"), max_len=255),
        where_to_get=_text(where_to_get, field="where_to_get", label=_l("Tempat memperoleh"), max_len=255,
                           required=False),
    )


def get_requirement(service: Service, requirement_id: int) -> Requirement:
    requirement = db.session.get(Requirement, requirement_id)
    if requirement is None or requirement.service_id != service.id:
        raise NotFound(_l("Persyaratan tidak ditemukan."))
    return requirement


def _renumber(service: Service) -> None:
    for position, requirement in enumerate(sorted(service.requirements, key=lambda r: (r.position, r.id))):
        requirement.position = position


@unit_of_work
def add_requirement(service: Service, *, text: str, where_to_get: str = "", optional: bool = False,
                    by_user_id: int | None = None) -> Requirement:
    fields = _requirement_fields(text, where_to_get)
    if len(service.requirements) >= 30:
        raise DomainError(_l("Satu layanan paling banyak 30 persyaratan."), field="text")
    position = max((r.position for r in service.requirements), default=-1) + 1
    requirement = Requirement(**fields, optional=bool(optional), position=position)
    service.requirements.append(requirement)
    db.session.flush()
    audit.record("requirement.add", "requirement", requirement.id, user_id=by_user_id, service=service.code)
    return requirement


@unit_of_work
def update_requirement(requirement: Requirement, *, text: str, where_to_get: str = "", optional: bool = False,
                       by_user_id: int | None = None) -> Requirement:
    fields = _requirement_fields(text, where_to_get)
    requirement.text = fields["text"]
    requirement.where_to_get = fields["where_to_get"]
    requirement.optional = bool(optional)
    audit.record("requirement.update", "requirement", requirement.id, user_id=by_user_id,
                 service=requirement.service.code)
    return requirement


@unit_of_work
def move_requirement(requirement: Requirement, direction: str, *, by_user_id: int | None = None) -> None:
    """Swap with the neighbour above ('up') or below ('down'); at either end nothing changes."""
    if direction not in ("up", "down"):
        raise DomainError(_l("Arah pemindahan tidak dikenal."))
    service = requirement.service
    _renumber(service)
    ordered = sorted(service.requirements, key=lambda r: r.position)
    index = ordered.index(requirement)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index].position, ordered[other].position = ordered[other].position, ordered[index].position
        audit.record("requirement.move", "requirement", requirement.id, user_id=by_user_id, direction=direction)
    db.session.flush()
    db.session.expire(service, ["requirements"])


@unit_of_work
def remove_requirement(requirement: Requirement, *, by_user_id: int | None = None) -> None:
    """Checklist items can go: visits keep only the ids that were presented, never the checklist itself."""
    service = requirement.service
    audit.record("requirement.remove", "requirement", requirement.id, user_id=by_user_id, service=service.code)
    service.requirements.remove(requirement)
    db.session.flush()
    _renumber(service)


# --- life-event packages ------------------------------------------------------------------------------------

def _package_services(service_ids: Iterable) -> list[Service]:
    seen, services = set(), []
    for raw in service_ids:
        service = _service(raw)
        if service.id in seen:
            continue
        seen.add(service.id)
        if not service.active:
            raise DomainError(_l("Layanan %(code)s nonaktif dan tidak dapat dimasukkan ke paket.", code=service.code),
                              field="services")
        services.append(service)
    if len(services) < MIN_PACKAGE_SERVICES:
        raise DomainError(_l("Pilih paling sedikit %(n)d layanan untuk satu paket.", n=MIN_PACKAGE_SERVICES),
                          field="services")
    return services


def _set_items(package: LifeEventPackage, services: list[Service]) -> None:
    """Keep the order of services already in the package; append new ones in the order given."""
    wanted = {s.id for s in services}
    kept = [item.service for item in package.items if item.service_id in wanted]
    kept_ids = {s.id for s in kept}
    ordered = kept + [s for s in services if s.id not in kept_ids]
    package.items = [item for item in package.items if item.service_id in wanted]
    existing = {item.service_id: item for item in package.items}
    for position, service in enumerate(ordered):
        item = existing.get(service.id)
        if item is None:
            package.items.append(PackageService(service=service, service_id=service.id, position=position))
        else:
            item.position = position


@unit_of_work
def create_package(*, code: str, name: str, description: str = "", service_ids: Iterable = (),
                   self_service: bool = False, by_user_id: int | None = None) -> LifeEventPackage:
    code = _code(code, LifeEventPackage, None, what=_l("paket"))
    name = _text(name, field="name", label=_l("Nama paket"), max_len=160)
    description = _text(description, field="description", label=_l("Keterangan"), max_len=2000, required=False)
    services = _package_services(service_ids)
    package = LifeEventPackage(code=code, name=name, description=description, active=True,
                               self_service=bool(self_service))
    db.session.add(package)
    _set_items(package, services)
    db.session.flush()
    audit.record("package.create", "life_event_package", package.id, user_id=by_user_id, code=code,
                 services=[s.code for s in services])
    return package


@unit_of_work
def update_package(package: LifeEventPackage, *, code: str, name: str, description: str = "",
                   service_ids: Iterable = (), active: bool = True, self_service: bool | None = None,
                   by_user_id: int | None = None) -> LifeEventPackage:
    code = _code(code, LifeEventPackage, package.id, what=_l("paket"))
    name = _text(name, field="name", label=_l("Nama paket"), max_len=160)
    description = _text(description, field="description", label=_l("Keterangan"), max_len=2000, required=False)
    service_ids = list(service_ids)
    current = {item.service_id for item in package.items}
    if active:
        services = _package_services(service_ids)
    else:
        # An inactive package may keep services that were deactivated since; only unknown ids are refused.
        services = [_service(i) for i in dict.fromkeys(service_ids)]
        for service in services:
            if not service.active and service.id not in current:
                raise DomainError(_l("Layanan %(code)s nonaktif dan tidak dapat dimasukkan ke paket.", code=service.code),
                                  field="services")
    package.code, package.name, package.description, package.active = code, name, description, active
    if self_service is not None:
        package.self_service = bool(self_service)
    _set_items(package, services)
    audit.record("package.update", "life_event_package", package.id, user_id=by_user_id, code=code,
                 services=[s.code for s in services], active=active)
    return package


def list_packages() -> list[LifeEventPackage]:
    return list(db.session.scalars(sa.select(LifeEventPackage).order_by(LifeEventPackage.active.desc(),
                                                                         LifeEventPackage.name)))


def services_by_agency(*, include_ids: Iterable[int] = ()) -> list[tuple[Agency, list[Service]]]:
    """Active services (plus any in `include_ids`) grouped by agency, for pickers."""
    include = set(include_ids)
    groups: list[tuple[Agency, list[Service]]] = []
    for agency in db.session.scalars(sa.select(Agency).order_by(Agency.name)):
        services = [s for s in agency.services if (s.active and agency.active) or s.id in include]
        if services:
            groups.append((agency, services))
    return groups
