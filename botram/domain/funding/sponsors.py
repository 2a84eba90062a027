"""Sponsors: registered once (name unique, kind, contact, NPWP), edited, shown formatted, and thanked by
name on the board of the events they gave to when they agreed to be named."""
from __future__ import annotations

from dataclasses import dataclass

import lokal
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import Contribution, ContributionStatus, Sponsor
from .. import DomainError, Problems, audit
from ..uow import unit_of_work
from .shared import (ADDRESS_MAX, CONTACT_MAX, EMAIL, EMAIL_MAX, NAME_MAX, NOTES_MAX, SECTOR_MAX, SPONSOR_KINDS,
                     clean_text, thanks_changed)


@dataclass
class SponsorInput:
    name: str | None
    kind: str | None
    sector: str | None = ""
    contact_person: str | None = ""
    phone: str | None = ""
    email: str | None = ""
    npwp: str | None = ""
    address: str | None = ""
    notes: str | None = ""
    public_thanks: bool = False


def _clean_sponsor(data: SponsorInput, sponsor_id: int | None) -> dict:
    """Every field is checked before refusing, so the form shows all its mistakes at once."""
    problems = Problems()
    name = phone = email = npwp = sector = contact_person = address = notes = ""
    with problems:
        name = clean_text(data.name, "name", _l("Nama sponsor"), NAME_MAX, lo=3)
        clash = db.session.scalar(sa.select(Sponsor.id).where(sa.func.lower(Sponsor.name) == name.lower()))
        if clash is not None and clash != sponsor_id:
            raise DomainError(_l("Sponsor dengan nama ini sudah terdaftar."), field="name", status=409)
    with problems:
        if data.kind not in SPONSOR_KINDS:
            raise DomainError(_l("Pilih jenis sponsor."), field="kind")
    with problems:
        phone = _clean_phone(data.phone)
    with problems:
        email = clean_text(data.email, "email", _l("Email"), EMAIL_MAX, required=False)
        if email and not EMAIL.match(email):
            raise DomainError(_l("Alamat email tidak valid, misalnya humas@perusahaan.co.id."), field="email")
    with problems:
        npwp = _clean_npwp(data.npwp)
    with problems:
        sector = clean_text(data.sector, "sector", _l("Sektor"), SECTOR_MAX, required=False)
    with problems:
        contact_person = clean_text(data.contact_person, "contact_person", _l("Narahubung"), CONTACT_MAX, required=False)
    with problems:
        address = clean_text(data.address, "address", _l("Alamat"), ADDRESS_MAX, required=False)
    with problems:
        notes = _notes(data.notes)
    problems.raise_any()
    return dict(name=name, kind=data.kind, sector=sector, contact_person=contact_person, phone=phone,
                email=email.lower(), npwp=npwp, address=address, notes=notes,
                public_thanks=bool(data.public_thanks))


def _clean_phone(value: str | None) -> str:
    if not (value or "").strip():
        return ""
    if len(value) > 30:
        raise DomainError(_l("Nomor telepon terlalu panjang."), field="phone")
    info = lokal.parse_phone(value.strip())
    if not info.valid:
        raise DomainError(_l("Nomor telepon tidak valid: %(reasons)s", reasons="; ".join(i.message for i in info.errors)),
                          field="phone")
    return info.e164


def _clean_npwp(value: str | None) -> str:
    if not (value or "").strip():
        return ""
    if len(value) > 30:
        raise DomainError(_l("NPWP terlalu panjang."), field="npwp")
    info = lokal.parse_npwp(value.strip())
    if not info.valid:
        raise DomainError(_l("NPWP tidak valid: %(reasons)s", reasons="; ".join(i.message for i in info.errors)),
                          field="npwp")
    return info.digits


def _notes(value: str | None) -> str:
    notes = (value or "").strip()
    if len(notes) > NOTES_MAX:
        raise DomainError(_l("Catatan paling banyak %(n)d karakter.", n=NOTES_MAX), field="notes")
    return notes


@unit_of_work
def create_sponsor(data: SponsorInput, *, by_user_id: int | None = None) -> Sponsor:
    sponsor = Sponsor(**_clean_sponsor(data, None), created_by_id=by_user_id)
    db.session.add(sponsor)
    db.session.flush()
    audit.record("funding.sponsor.create", "sponsor", sponsor.id, user_id=by_user_id, kind=sponsor.kind)
    return sponsor


@unit_of_work
def update_sponsor(sponsor: Sponsor, data: SponsorInput, *, by_user_id: int | None = None) -> Sponsor:
    values = _clean_sponsor(data, sponsor.id)
    changed = sorted(k for k, v in values.items() if getattr(sponsor, k) != v)
    for key, value in values.items():
        setattr(sponsor, key, value)
    if changed:
        audit.record("funding.sponsor.update", "sponsor", sponsor.id, user_id=by_user_id, fields=changed)
        thanks_changed(*db.session.scalars(sa.select(Contribution.event_id).where(
            Contribution.sponsor_id == sponsor.id, Contribution.event_id.is_not(None))))
    return sponsor


def format_npwp(digits: str) -> str:
    if not digits:
        return ""
    info = lokal.parse_npwp(digits)
    return info.formatted15 if info.valid and info.kind == "npwp15" else digits


def format_phone(e164: str) -> str:
    if not e164:
        return ""
    info = lokal.parse_phone(e164)
    return info.national if info.valid else e164


def public_sponsors(event_id: int) -> list[str]:
    """Names to thank on the board: received, live contributors to the event who agreed to be named."""
    names = db.session.scalars(
        sa.select(Sponsor.name).join(Contribution.sponsor).where(
            Contribution.event_id == event_id, Contribution.voided_at.is_(None),
            Contribution.status == ContributionStatus.RECEIVED, Sponsor.public_thanks.is_(True))
        .group_by(Sponsor.id, Sponsor.name).order_by(sa.func.sum(Contribution.value).desc(), Sponsor.name))
    return list(names)
