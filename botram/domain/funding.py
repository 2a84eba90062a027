"""Funding: sponsors, contributions (cash or in kind), event budgets, and how much of the cost APBD carries.

The funding rule (docs/architecture.md), decided here and tested in tests/test_funding_domain.py:

- **Total cost of an event** = Σ over its non-voided budget lines of `actual`, or `planned` where no actual
  is known yet.
- **Sponsor cash** of an event = Σ `value` of its *received*, non-voided cash contributions.
- **In kind** of an event = Σ assessed `value` (never the sponsor's claimed value) of its *received*,
  non-voided in-kind contributions.
- **APBD remainder** = max(0, total − cash − in kind). When sponsors give more than the cost, the excess is
  reported as `surplus` (so total + surplus = cash + in kind + APBD, always).
- **APBD share** = APBD / total, `None` when the total is 0. Shares are floats in [0, 1] rounded to 4 places
  (basis-point precision); comparisons with the target are done on integers.
- Pledged contributions are shown beside (pledged vs received) but never counted as money in hand.
  Cancelled and voided contributions never count anywhere.
- **A year** holds the events dated in it, plus programme-wide contributions (no event) received in it
  (pledged ones by their pledge date). Programme-wide money counts in the year's figures, never in an event's.
  The year's APBD = max(0, Σ event cost − Σ cash − Σ in kind), programme-wide money included.
- **Target**: the coordinator (or admin) sets the highest APBD share for a year, stored in basis points
  (6000 = "APBD at most 60%"). Finance officers record money but do not set policy, so keuangan may not set
  the target. The year is *on track* when APBD × 10000 ≤ target × total.

Records: a contribution is never deleted or edited in place. It goes pledged → received (date not in the
future, receipt number unique among live entries) or pledged → cancelled (with a reason); a wrong entry is
voided with a reason and a correct one recorded anew. Budget lines may be corrected (planned/actual), each
change audited with old and new amounts, and are voided rather than deleted. Every write is audited with ids
and amounts only (no names, phone numbers or free text).

Amounts arrive as text typed by people ("Rp 1.500.000", "1,5 jt") and go through the one rupiah parser,
`botram.domain.money.parse_rupiah` (its docstring lists the accepted forms): exact amounts only; approximate
ones ("2jtan"), fractions, negatives, zero and more than Rp 100.000.000.000 are refused with a message.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

import lokal
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..models import (AuditLog, BudgetCategory, BudgetLine, Contribution, ContributionForm, ContributionItem,
                      ContributionStatus, Event, FundingTarget, InKindCategory, Sponsor, SponsorKind)
from . import Conflict, DomainError, NotFound, Problems, audit, money
from .clock import now, today_wib
from .uow import bump_versions, unit_of_work

MAX_AMOUNT = money.MAX_RUPIAH  # Rp 100 miliar: anything above is a typing error for a BOTRAM day
NAME_MAX, SECTOR_MAX, CONTACT_MAX, EMAIL_MAX, ADDRESS_MAX, NOTES_MAX = 160, 80, 120, 120, 250, 2000
DESCRIPTION_MAX, BASIS_MAX, REASON_MAX, NUMBER_MAX, ITEM_MAX, UNIT_MAX = 300, 300, 300, 60, 160, 20
BUDGET_DESCRIPTION_MAX = 200
REASON_MIN = 5
MAX_ITEMS = 20
MAX_QUANTITY = 1_000_000
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DOC_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./\- ]*$")

# Labels people read: lazy strings, shown in the language of the request that renders them.
SPONSOR_KINDS = {
    SponsorKind.CSR.value: _l("Perusahaan (CSR)"),
    SponsorKind.BUMD.value: _l("BUMD"),
    SponsorKind.COMMUNITY.value: _l("Komunitas"),
    SponsorKind.INDIVIDUAL.value: _l("Perorangan"),
    SponsorKind.OTHER.value: _l("Lainnya"),
}
FORMS = {ContributionForm.CASH.value: _l("Uang tunai"), ContributionForm.IN_KIND.value: _l("Barang/jasa")}
IN_KIND_CATEGORIES = {
    InKindCategory.GOODS.value: _l("Barang"),
    InKindCategory.SERVICES.value: _l("Jasa"),
    InKindCategory.VENUE.value: _l("Tempat"),
    InKindCategory.FOOD.value: _l("Konsumsi"),
    InKindCategory.TRANSPORT.value: _l("Transportasi"),
    InKindCategory.PRINTING.value: _l("Percetakan"),
    InKindCategory.HEALTH.value: _l("Perlengkapan kesehatan"),
}
BUDGET_CATEGORIES = {
    BudgetCategory.TENTS.value: _l("Tenda"),
    BudgetCategory.SOUND.value: _l("Pengeras suara"),
    BudgetCategory.CHAIRS.value: _l("Kursi dan meja"),
    BudgetCategory.FOOD.value: _l("Konsumsi"),
    BudgetCategory.TRANSPORT.value: _l("Transportasi"),
    BudgetCategory.PRINTING.value: _l("Percetakan"),
    BudgetCategory.HONORARIA.value: _l("Honorarium petugas"),
    BudgetCategory.HEALTH.value: _l("Perlengkapan kesehatan"),
    BudgetCategory.VENUE.value: _l("Sewa tempat"),
    BudgetCategory.OTHER.value: _l("Lainnya"),
}
STATUSES = {
    ContributionStatus.PLEDGED.value: _l("Dijanjikan"),
    ContributionStatus.RECEIVED.value: _l("Diterima"),
    ContributionStatus.CANCELLED.value: _l("Dibatalkan"),
    "voided": _l("Dibatalkan (salah catat)"),
}


def status_key(contribution: Contribution) -> str:
    """The status shown to people: `voided` wins over the lifecycle state."""
    return "voided" if contribution.voided else contribution.status


# ---------------------------------------------------------------- parsing

def parse_amount(text: str | None, field: str = "amount", label: str = _l("Jumlah"), required: bool = True,
                 allow_zero: bool = False) -> int | None:
    """Rupiah typed by a person → integer rupiah, or a DomainError naming `field` (botram.domain.money)."""
    return money.parse_rupiah(text, field=field, label=label, required=required, allow_zero=allow_zero)


def _text(value: str | None, name: str, label: str, hi: int, *, required: bool = True, lo: int = 1) -> str:
    text = " ".join((value or "").split())
    if not text:
        if required:
            raise DomainError(_l("%(label)s wajib diisi.", label=label), field=name)
        return ""
    if len(text) < lo:
        raise DomainError(_l("%(label)s minimal %(n)d karakter.", label=label, n=lo), field=name)
    if len(text) > hi:
        raise DomainError(_l("%(label)s paling banyak %(n)d karakter.", label=label, n=hi), field=name)
    return text


def _doc_number(value: str | None, name: str, label: str, *, required: bool) -> str:
    text = _text(value, name, label, NUMBER_MAX, required=required)
    if text and not DOC_NUMBER.match(text):
        raise DomainError(_l("%(label)s hanya boleh berisi huruf, angka, titik, garis miring, dan tanda hubung.",
                             label=label),
                          field=name)
    return text


# ---------------------------------------------------------------- sponsors

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
        name = _text(data.name, "name", _l("Nama sponsor"), NAME_MAX, lo=3)
        clash = db.session.scalar(sa.select(Sponsor.id).where(sa.func.lower(Sponsor.name) == name.lower()))
        if clash is not None and clash != sponsor_id:
            raise DomainError(_l("Sponsor dengan nama ini sudah terdaftar."), field="name", status=409)
    with problems:
        if data.kind not in SPONSOR_KINDS:
            raise DomainError(_l("Pilih jenis sponsor."), field="kind")
    with problems:
        phone = _clean_phone(data.phone)
    with problems:
        email = _text(data.email, "email", _l("Email"), EMAIL_MAX, required=False)
        if email and not EMAIL.match(email):
            raise DomainError(_l("Alamat email tidak valid, misalnya humas@perusahaan.co.id."), field="email")
    with problems:
        npwp = _clean_npwp(data.npwp)
    with problems:
        sector = _text(data.sector, "sector", _l("Sektor"), SECTOR_MAX, required=False)
    with problems:
        contact_person = _text(data.contact_person, "contact_person", _l("Narahubung"), CONTACT_MAX, required=False)
    with problems:
        address = _text(data.address, "address", _l("Alamat"), ADDRESS_MAX, required=False)
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
        _thanks_changed(*db.session.scalars(sa.select(Contribution.event_id).where(
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


# ---------------------------------------------------------------- contributions

@dataclass
class ItemInput:
    name: str | None
    quantity: int | None
    unit: str | None = ""


@dataclass
class ContributionInput:
    sponsor_id: int | None
    event_id: int | None
    form: str | None
    value_text: str | None
    status: str = ContributionStatus.PLEDGED.value
    category: str | None = None
    description: str | None = ""
    claimed_text: str | None = ""
    valuation_basis: str | None = ""
    bast_number: str | None = ""
    budget_line_id: int | None = None
    items: list[ItemInput] = field(default_factory=list)
    pledged_on: date | None = None
    received_on: date | None = None
    receipt_number: str | None = ""


def _check_received(received_on: date | None, receipt_number: str | None, pledged_on: date,
                    exclude_id: int | None = None, *, event: Event | None = None) -> tuple[date, str]:
    problems = Problems()
    with problems:
        if received_on is None:
            raise DomainError(_l("Tanggal diterima wajib diisi."), field="received_on")
        if received_on > today_wib():
            raise DomainError(_l("Tanggal diterima tidak boleh di masa depan."), field="received_on")
        if received_on < pledged_on:
            raise DomainError(_l("Tanggal diterima tidak boleh sebelum tanggal janji."), field="received_on")
        _check_window(received_on, event, "received_on", _l("Tanggal diterima"))
    with problems:
        number = _doc_number(receipt_number, "receipt_number", _l("Nomor tanda terima"), required=True)
        clash = db.session.scalar(sa.select(Contribution.id).where(
            sa.func.lower(Contribution.receipt_number) == number.lower(), Contribution.voided_at.is_(None)))
        if clash is not None and clash != exclude_id:
            raise DomainError(_l("Nomor tanda terima ini sudah dipakai sumbangan lain."), field="receipt_number",
                              status=409)
    problems.raise_any()
    return received_on, number


def date_window(event: Event | None) -> tuple[date, date]:
    """The dates a contribution may carry: the budget year it counts in, and the year before it (sponsors
    pledge ahead). An event's budget year is the year of its date; programme-wide money counts in the year it
    is booked, so its window runs from 1 January of last year to the end of this year. A contribution
    received in 1990 for a 2026 event is a typing error."""
    year = event.date.year if event is not None else today_wib().year
    return date(year - 1, 1, 1), date(year, 12, 31)


def _check_window(day: date, event: Event | None, name: str, label: str) -> None:
    start, end = date_window(event)
    if not start <= day <= end:
        if event is not None:
            message = _l("%(label)s harus antara 1 Januari %(start)d dan 31 Desember %(end)d (tahun anggaran kegiatan "
                         "dan tahun sebelumnya).", label=label, start=start.year, end=end.year)
        else:
            message = _l("%(label)s harus antara 1 Januari %(start)d dan 31 Desember %(end)d (tahun anggaran dan tahun "
                         "sebelumnya).", label=label, start=start.year, end=end.year)
        raise DomainError(message, field=name)


@unit_of_work
def record_contribution(data: ContributionInput, *, by_user_id: int | None = None) -> Contribution:
    """Record a pledge, or a contribution already received. Nothing is written when a rule fails; every field
    is checked before refusing, so the form shows all its mistakes at once."""
    problems = Problems()
    sponsor = db.session.get(Sponsor, data.sponsor_id) if isinstance(data.sponsor_id, int) else None
    with problems:
        if sponsor is None:
            raise DomainError(_l("Pilih sponsor yang terdaftar."), field="sponsor_id")
    event = None
    with problems:
        if data.event_id is not None:
            event = db.session.get(Event, data.event_id) if isinstance(data.event_id, int) else None
            if event is None:
                raise DomainError(_l("Kegiatan tidak ditemukan."), field="event_id")
    with problems:
        if data.form not in FORMS:
            raise DomainError(_l("Pilih bentuk sumbangan: uang tunai atau barang/jasa."), field="form")
    with problems:
        if data.status not in (ContributionStatus.PLEDGED.value, ContributionStatus.RECEIVED.value):
            raise DomainError(_l("Status awal harus dijanjikan atau diterima."), field="status")
    in_kind = data.form == ContributionForm.IN_KIND.value
    value = description = None
    with problems:
        value = parse_amount(data.value_text, "value", _l("Nilai taksiran") if in_kind else "Jumlah uang")
    with problems:
        description = _text(data.description, "description", _l("Keterangan"), DESCRIPTION_MAX, required=False)
    pledged_on = data.pledged_on or today_wib()
    with problems:
        if pledged_on > today_wib():
            raise DomainError(_l("Tanggal janji tidak boleh di masa depan."), field="pledged_on")
        _check_window(pledged_on, event, "pledged_on", _l("Tanggal janji"))
    values = dict(sponsor_id=sponsor.id if sponsor else None, event_id=event.id if event else None, form=data.form,
                  value=value, description=description, status=data.status, pledged_on=pledged_on,
                  created_by_id=by_user_id)
    items: list[ContributionItem] = []
    if in_kind:
        claimed = basis = line = bast = None
        with problems:
            if data.category not in IN_KIND_CATEGORIES:
                raise DomainError(_l("Pilih jenis barang/jasa."), field="category")
        with problems:
            claimed = parse_amount(data.claimed_text, "claimed_value", _l("Nilai menurut sponsor"), required=False)
            if claimed is not None and value is not None and value > claimed:
                raise DomainError(_l("Nilai taksiran tidak boleh melebihi nilai menurut sponsor."), field="value")
        with problems:
            basis = _text(data.valuation_basis, "valuation_basis", _l("Dasar penilaian"), BASIS_MAX)
        with problems:
            items = _items(data.items)
        with problems:
            if data.budget_line_id is not None:
                line = db.session.get(BudgetLine, data.budget_line_id) if isinstance(data.budget_line_id, int) else None
                if line is None or line.voided_at is not None or event is None or line.event_id != event.id:
                    raise DomainError(_l("Pos anggaran tidak ada pada kegiatan yang dipilih."), field="budget_line_id")
        with problems:
            bast = _doc_number(data.bast_number, "bast_number", _l("Nomor BAST"), required=False)
        values.update(category=data.category, claimed_value=claimed, valuation_basis=basis,
                      budget_line_id=line.id if line else None, bast_number=bast)
    elif data.budget_line_id is not None:
        with problems:
            raise DomainError(_l("Hanya sumbangan barang/jasa yang dapat menutup pos anggaran."), field="budget_line_id")
    if data.status == ContributionStatus.RECEIVED.value:
        with problems:
            if in_kind and not values.get("bast_number") and not any(f == "bast_number" for e in problems.found
                                                                      for f, _m in e.errors):
                raise DomainError(_l("Nomor BAST (berita acara serah terima) wajib diisi untuk barang/jasa yang sudah "
                                     "diserahkan."), field="bast_number")
        with problems:
            values["received_on"], values["receipt_number"] = _check_received(
                data.received_on, data.receipt_number, pledged_on, event=event)
    problems.raise_any()
    contribution = Contribution(**values)
    contribution.items = items
    db.session.add(contribution)
    db.session.flush()
    audit.record("funding.contribution.record", "contribution", contribution.id, user_id=by_user_id,
                 event_id=contribution.event_id, sponsor_id=sponsor.id, form=contribution.form,
                 value=contribution.value, claimed_value=contribution.claimed_value, status=contribution.status)
    _thanks_changed(contribution.event_id)
    return contribution


def _items(rows: Iterable[ItemInput]) -> list[ContributionItem]:
    items = []
    for index, row in enumerate(rows):
        name = " ".join((row.name or "").split())
        if not name and row.quantity in (None, 0) and not (row.unit or "").strip():
            continue  # an empty row of the form
        if not name:
            raise DomainError(_l("Nama barang pada baris %(row)d wajib diisi.", row=index + 1), field="items")
        if len(name) > ITEM_MAX:
            raise DomainError(_l("Nama barang pada baris %(row)d paling banyak %(n)d karakter.", row=index + 1,
                                 n=ITEM_MAX), field="items")
        if not isinstance(row.quantity, int) or isinstance(row.quantity, bool) or not 1 <= row.quantity <= MAX_QUANTITY:
            raise DomainError(_l("Jumlah barang pada baris %(row)d harus bilangan bulat 1–%(max)s.", row=index + 1,
                                 max=f"{MAX_QUANTITY:,}".replace(",", ".")),
                              field="items")
        unit = " ".join((row.unit or "").split())
        if len(unit) > UNIT_MAX:
            raise DomainError(_l("Satuan pada baris %(row)d paling banyak %(n)d karakter.", row=index + 1, n=UNIT_MAX),
                              field="items")
        items.append(ContributionItem(name=name, quantity=row.quantity, unit=unit))
    if not items:
        raise DomainError(_l("Isi paling sedikit satu barang/jasa beserta jumlahnya."), field="items")
    if len(items) > MAX_ITEMS:
        raise DomainError(_l("Paling banyak %(n)d baris barang.", n=MAX_ITEMS), field="items")
    return items


def _thanks_changed(*event_ids: int | None) -> None:
    """The boards of these events thank their sponsors (`public_sponsors`): tell them to refresh."""
    bump_versions(event_id for event_id in event_ids if event_id is not None)


def _live(contribution: Contribution) -> None:
    if contribution.voided:
        raise Conflict(_l("Sumbangan ini sudah dibatalkan karena salah catat dan tidak dapat diubah lagi."))


@unit_of_work
def mark_received(contribution: Contribution, received_on: date | None, receipt_number: str | None,
                  bast_number: str | None = None, *, by_user_id: int | None = None) -> Contribution:
    _live(contribution)
    if contribution.status != ContributionStatus.PLEDGED.value:
        raise Conflict(_l("Hanya sumbangan yang masih dijanjikan yang dapat dicatat diterima."))
    bast = contribution.bast_number
    if contribution.form == ContributionForm.IN_KIND.value:
        bast = _doc_number(bast_number or bast, "bast_number", _l("Nomor BAST"), required=False)
        if not bast:
            raise DomainError(_l("Nomor BAST (berita acara serah terima) wajib diisi untuk barang/jasa yang sudah "
                                 "diserahkan."), field="bast_number")
    received_on, number = _check_received(received_on, receipt_number, contribution.pledged_on, contribution.id,
                                          event=contribution.event)
    contribution.status = ContributionStatus.RECEIVED.value
    contribution.received_on, contribution.receipt_number, contribution.bast_number = received_on, number, bast
    audit.record("funding.contribution.receive", "contribution", contribution.id, user_id=by_user_id,
                 event_id=contribution.event_id, value=contribution.value, received_on=received_on.isoformat())
    _thanks_changed(contribution.event_id)
    return contribution


def _reason(reason: str | None) -> str:
    return _text(reason, "reason", _l("Alasan"), REASON_MAX, lo=REASON_MIN)


@unit_of_work
def cancel_pledge(contribution: Contribution, reason: str | None, *, by_user_id: int | None = None) -> Contribution:
    """The sponsor withdrew a pledge. A received contribution is not cancelled: a wrong one is voided."""
    _live(contribution)
    if contribution.status != ContributionStatus.PLEDGED.value:
        raise Conflict(_l("Hanya janji sumbangan yang dapat dibatalkan; sumbangan yang salah catat dibatalkan "
                       "dengan \"Batalkan catatan\"."))
    contribution.cancelled_reason = _reason(reason)
    contribution.status = ContributionStatus.CANCELLED.value
    audit.record("funding.contribution.cancel", "contribution", contribution.id, user_id=by_user_id,
                 event_id=contribution.event_id, value=contribution.value)
    return contribution


@unit_of_work
def void_contribution(contribution: Contribution, reason: str | None, *, by_user_id: int | None = None
                      ) -> Contribution:
    """A wrong entry: kept, marked void with a reason, no longer counted anywhere."""
    if contribution.voided:
        raise Conflict(_l("Sumbangan ini sudah dibatalkan sebelumnya."))
    contribution.void_reason = _reason(reason)
    contribution.voided_at = now()
    contribution.voided_by_id = by_user_id
    audit.record("funding.contribution.void", "contribution", contribution.id, user_id=by_user_id,
                 event_id=contribution.event_id, value=contribution.value, status=contribution.status)
    _thanks_changed(contribution.event_id)
    return contribution


def history(entity: str, entity_id: int) -> list[AuditLog]:
    """The audit trail of one funding record, oldest first."""
    return list(db.session.scalars(sa.select(AuditLog).where(
        AuditLog.entity == entity, AuditLog.entity_id == entity_id).order_by(AuditLog.at, AuditLog.id)))


@dataclass
class ContributionFilter:
    year: int | None = None
    event_id: int | None = None  # 0 = programme-wide only
    sponsor_id: int | None = None
    kind: str | None = None
    form: str | None = None
    status: str | None = None  # pledged, received, cancelled, voided
    date_from: date | None = None
    date_to: date | None = None


def list_contributions(f: ContributionFilter) -> list[Contribution]:
    # The joined sponsor and event fill the relationships (lists and exports read both on every row).
    query = (sa.select(Contribution).join(Sponsor).outerjoin(Event, Contribution.event_id == Event.id)
             .options(contains_eager(Contribution.sponsor), contains_eager(Contribution.event))
             .order_by(sa.func.coalesce(Contribution.received_on, Contribution.pledged_on).desc(),
                       Contribution.id.desc()))
    book_date = sa.func.coalesce(Contribution.received_on, Contribution.pledged_on)
    if f.year:
        query = query.where(sa.or_(
            sa.and_(Contribution.event_id.is_not(None), Event.date.between(date(f.year, 1, 1), date(f.year, 12, 31))),
            sa.and_(Contribution.event_id.is_(None), book_date.between(date(f.year, 1, 1), date(f.year, 12, 31)))))
    if f.event_id == 0:
        query = query.where(Contribution.event_id.is_(None))
    elif f.event_id:
        query = query.where(Contribution.event_id == f.event_id)
    if f.sponsor_id:
        query = query.where(Contribution.sponsor_id == f.sponsor_id)
    if f.kind:
        query = query.where(Sponsor.kind == f.kind)
    if f.form:
        query = query.where(Contribution.form == f.form)
    if f.status == "voided":
        query = query.where(Contribution.voided_at.is_not(None))
    elif f.status:
        query = query.where(Contribution.status == f.status, Contribution.voided_at.is_(None))
    if f.date_from:
        query = query.where(book_date >= f.date_from)
    if f.date_to:
        query = query.where(book_date <= f.date_to)
    return list(db.session.scalars(query))


# ---------------------------------------------------------------- budget lines

@dataclass
class BudgetLineInput:
    category: str | None
    description: str | None
    planned_text: str | None
    actual_text: str | None = ""


def _clean_line(data: BudgetLineInput) -> dict:
    if data.category not in BUDGET_CATEGORIES:
        raise DomainError(_l("Pilih kategori biaya."), field="category")
    return dict(category=data.category,
                description=_text(data.description, "description", _l("Uraian"), BUDGET_DESCRIPTION_MAX, lo=3),
                planned=parse_amount(data.planned_text, "planned", _l("Rencana biaya")),
                actual=parse_amount(data.actual_text, "actual", _l("Realisasi"), required=False, allow_zero=True))


@unit_of_work
def add_budget_line(event: Event, data: BudgetLineInput, *, by_user_id: int | None = None) -> BudgetLine:
    line = BudgetLine(event_id=event.id, created_by_id=by_user_id, **_clean_line(data))
    db.session.add(line)
    db.session.flush()
    audit.record("funding.budget.add", "budget_line", line.id, user_id=by_user_id, event_id=event.id,
                 category=line.category, planned=line.planned, actual=line.actual)
    return line


@unit_of_work
def update_budget_line(line: BudgetLine, data: BudgetLineInput, *, by_user_id: int | None = None) -> BudgetLine:
    if line.voided_at is not None:
        raise Conflict(_l("Pos anggaran ini sudah dibatalkan dan tidak dapat diubah."))
    values = _clean_line(data)
    changes = {k: [getattr(line, k), v] for k, v in values.items() if getattr(line, k) != v and k != "description"}
    if values["description"] != line.description:
        changes["description"] = "changed"
    for key, value in values.items():
        setattr(line, key, value)
    if changes:
        audit.record("funding.budget.update", "budget_line", line.id, user_id=by_user_id, event_id=line.event_id,
                     changes=changes)
    return line


@unit_of_work
def void_budget_line(line: BudgetLine, reason: str | None, *, by_user_id: int | None = None) -> BudgetLine:
    if line.voided_at is not None:
        raise Conflict(_l("Pos anggaran ini sudah dibatalkan sebelumnya."))
    covering = db.session.scalar(sa.select(sa.func.count()).select_from(Contribution).where(
        Contribution.budget_line_id == line.id, Contribution.voided_at.is_(None),
        Contribution.status != ContributionStatus.CANCELLED.value))
    if covering:
        raise Conflict(_l("Pos anggaran ini ditutup oleh sumbangan barang/jasa. Batalkan sumbangan itu dahulu."))
    line.void_reason = _reason(reason)
    line.voided_at, line.voided_by_id = now(), by_user_id
    audit.record("funding.budget.void", "budget_line", line.id, user_id=by_user_id, event_id=line.event_id,
                 planned=line.planned, actual=line.actual)
    return line


def budget_lines(event_id: int, *, include_voided: bool = False) -> list[BudgetLine]:
    query = sa.select(BudgetLine).where(BudgetLine.event_id == event_id).order_by(BudgetLine.id)
    if not include_voided:
        query = query.where(BudgetLine.voided_at.is_(None))
    return list(db.session.scalars(query))


# ---------------------------------------------------------------- target

def parse_share_percent(text: str | None) -> int:
    """"60", "60%", "57,5" → basis points (6000, 5750)."""
    raw = (text or "").strip().rstrip("%").strip().replace(",", ".")
    if not raw:
        raise DomainError(_l("Target porsi APBD wajib diisi, misalnya 60."), field="percent")
    if not re.fullmatch(r"\d{1,3}(\.\d{1,2})?", raw):
        raise DomainError(_l("Target porsi APBD berupa persen 0–100, misalnya 60 atau 57,5."), field="percent")
    bp = round(float(raw) * 100)
    if not 0 <= bp <= 10_000:
        raise DomainError(_l("Target porsi APBD harus antara 0 dan 100 persen."), field="percent")
    return bp


@unit_of_work
def set_target(year: int | None, percent_text: str | None, *, by_user_id: int | None = None) -> FundingTarget:
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise DomainError(_l("Tahun tidak valid (2000–2100)."), field="year")
    bp = parse_share_percent(percent_text)
    target = db.session.get(FundingTarget, year)
    old = target.apbd_max_share_bp if target else None
    if target is None:
        target = FundingTarget(year=year, apbd_max_share_bp=bp, set_by_id=by_user_id)
        db.session.add(target)
    else:
        target.apbd_max_share_bp, target.set_by_id, target.set_at = bp, by_user_id, now()
    audit.record("funding.target.set", "funding_target", year, user_id=by_user_id, old_bp=old, new_bp=bp)
    return target


def target_bp(year: int) -> int | None:
    target = db.session.get(FundingTarget, year)
    return target.apbd_max_share_bp if target else None


# ---------------------------------------------------------------- the mix

def share(part: int, total: int) -> float | None:
    return None if total <= 0 else round(part / total, 4)


@dataclass
class Mix:
    """Money of one event (or a year). All amounts integer rupiah."""

    total_cost: int = 0
    sponsor_cash: int = 0
    in_kind: int = 0
    pledged_cash: int = 0
    pledged_in_kind: int = 0

    @property
    def sponsors(self) -> int:
        return self.sponsor_cash + self.in_kind

    @property
    def apbd_amount(self) -> int:
        return max(0, self.total_cost - self.sponsors)

    @property
    def surplus(self) -> int:
        return max(0, self.sponsors - self.total_cost)

    @property
    def apbd_share(self) -> float | None:
        return share(self.apbd_amount, self.total_cost)

    @property
    def sponsor_share(self) -> float | None:
        return None if self.total_cost <= 0 else round(1 - self.apbd_share, 4)

    @property
    def pledged(self) -> int:
        return self.pledged_cash + self.pledged_in_kind

    def add(self, contribution: Contribution) -> None:
        """Count one contribution by the rule: received and live counts, pledged is shown apart."""
        if contribution.voided_at is not None:
            return
        cash = contribution.form == ContributionForm.CASH.value
        if contribution.status == ContributionStatus.RECEIVED.value:
            if cash:
                self.sponsor_cash += contribution.value
            else:
                self.in_kind += contribution.value
        elif contribution.status == ContributionStatus.PLEDGED.value:
            if cash:
                self.pledged_cash += contribution.value
            else:
                self.pledged_in_kind += contribution.value

    def within(self, bp: int | None) -> bool | None:
        """APBD share at or under a target in basis points (None without target or cost)."""
        if bp is None or self.total_cost <= 0:
            return None
        return self.apbd_amount * 10_000 <= bp * self.total_cost


@dataclass
class EventMix(Mix):
    event_id: int = 0
    title: str = ""
    date: date | None = None
    status: str = ""
    budget_lines: int = 0


def _event_mixes(events: list[Event]) -> dict[int, EventMix]:
    mixes = {e.id: EventMix(event_id=e.id, title=e.title, date=e.date, status=e.status) for e in events}
    if not mixes:
        return mixes
    ids = list(mixes)
    for line in db.session.scalars(sa.select(BudgetLine).where(BudgetLine.event_id.in_(ids),
                                                                BudgetLine.voided_at.is_(None))):
        mixes[line.event_id].total_cost += line.cost
        mixes[line.event_id].budget_lines += 1
    for contribution in db.session.scalars(sa.select(Contribution).where(Contribution.event_id.in_(ids),
                                                                         Contribution.voided_at.is_(None))):
        mixes[contribution.event_id].add(contribution)
    return mixes


def funding_mix(event_id: int) -> EventMix:
    """The funding mix of one event by the rule in this module's docstring."""
    event = db.session.get(Event, event_id)
    if event is None:
        raise NotFound(_l("Kegiatan tidak ditemukan."))
    return _event_mixes([event])[event.id]


@dataclass
class YearFunding(Mix):
    year: int = 0
    target_bp: int | None = None
    events: list[EventMix] = field(default_factory=list)
    programme: Mix = field(default_factory=Mix)  # contributions without an event
    by_kind: dict[str, int] = field(default_factory=dict)     # received value per sponsor kind
    by_sector: dict[str, int] = field(default_factory=dict)   # received value per sector
    by_sponsor: list[tuple[int, str, str, int]] = field(default_factory=list)  # (id, name, kind, value)

    @property
    def target_share(self) -> float | None:
        return None if self.target_bp is None else round(self.target_bp / 10_000, 4)

    @property
    def on_track(self) -> bool | None:
        return self.within(self.target_bp)

    @property
    def events_apbd(self) -> int:
        """Σ of the events' own APBD remainders, each event on its own."""
        return sum(m.apbd_amount for m in self.events)

    @property
    def events_surplus(self) -> int:
        """Σ of what sponsors gave events beyond their cost. How the per-event rows add up to the year:
        events_apbd − events_surplus − programme.sponsors = apbd_amount − surplus (the year's balance)."""
        return sum(m.surplus for m in self.events)


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def yearly_funding(year: int) -> YearFunding:
    """A year's funding: its events (by date) plus programme-wide contributions booked in the year."""
    start, end = year_bounds(year)
    events = list(db.session.scalars(sa.select(Event).where(Event.date.between(start, end))
                                     .order_by(Event.date, Event.id)))
    mixes = _event_mixes(events)
    result = YearFunding(year=year, target_bp=target_bp(year), events=list(mixes.values()))
    for mix in result.events:
        result.total_cost += mix.total_cost
        result.sponsor_cash += mix.sponsor_cash
        result.in_kind += mix.in_kind
        result.pledged_cash += mix.pledged_cash
        result.pledged_in_kind += mix.pledged_in_kind
    book_date = sa.func.coalesce(Contribution.received_on, Contribution.pledged_on)
    programme = db.session.scalars(sa.select(Contribution).where(
        Contribution.event_id.is_(None), Contribution.voided_at.is_(None), book_date.between(start, end)))
    for contribution in programme:
        result.programme.add(contribution)
        result.add(contribution)
    # who carried it: received, live contributions of the year by sponsor kind, sector and sponsor
    ids = [e.id for e in events]
    conditions = [sa.and_(Contribution.event_id.is_(None), book_date.between(start, end))]
    if ids:
        conditions.append(Contribution.event_id.in_(ids))
    rows = db.session.execute(sa.select(Sponsor.id, Sponsor.name, Sponsor.kind, Sponsor.sector, Contribution.value)
                              .join(Contribution.sponsor)
                              .where(sa.or_(*conditions), Contribution.voided_at.is_(None),
                                     Contribution.status == ContributionStatus.RECEIVED.value)).all()
    per_sponsor: dict[int, list] = {}
    for sponsor_id, name, kind, sector, value in rows:
        result.by_kind[kind] = result.by_kind.get(kind, 0) + int(value)
        key = sector or "Lainnya"
        result.by_sector[key] = result.by_sector.get(key, 0) + int(value)
        per_sponsor.setdefault(sponsor_id, [sponsor_id, name, kind, 0])[3] += int(value)
    result.by_sponsor = sorted((tuple(v) for v in per_sponsor.values()), key=lambda r: (-r[3], r[1]))
    result.by_sector = dict(sorted(result.by_sector.items(), key=lambda kv: (-kv[1], kv[0])))
    return result


def funding_years() -> list[int]:
    """Years that have events or contributions, plus last, this and next year (targets are set ahead), newest first."""
    this_year = today_wib().year
    years = {this_year - 1, this_year, this_year + 1}
    years.update(d.year for d in db.session.scalars(sa.select(Event.date)))
    years.update(d.year for d in db.session.scalars(sa.select(Contribution.pledged_on)))
    return sorted(years, reverse=True)


def funding_api_payload(year: int) -> dict:
    """The JSON of GET /api/v1/funding?year=YYYY (a stable interface, docs/architecture.md): integer rupiah, shares as 0–1 floats."""
    funding = yearly_funding(year)
    return {
        "year": year,
        "total_cost": funding.total_cost,
        "sponsor_cash": funding.sponsor_cash,
        "in_kind": funding.in_kind,
        "apbd_amount": funding.apbd_amount,
        "apbd_share": funding.apbd_share,
        "target_share": funding.target_share,
        "events": [{
            "id": m.event_id, "title": m.title, "date": m.date.isoformat() if m.date else None,
            "total_cost": m.total_cost, "sponsor_cash": m.sponsor_cash, "in_kind": m.in_kind,
            "apbd_amount": m.apbd_amount, "apbd_share": m.apbd_share,
        } for m in funding.events],
    }


def public_sponsors(event_id: int) -> list[str]:
    """Names to thank on the board: received, live contributors to the event who agreed to be named."""
    names = db.session.scalars(
        sa.select(Sponsor.name).join(Contribution.sponsor).where(
            Contribution.event_id == event_id, Contribution.voided_at.is_(None),
            Contribution.status == ContributionStatus.RECEIVED.value, Sponsor.public_thanks.is_(True))
        .group_by(Sponsor.id, Sponsor.name).order_by(sa.func.sum(Contribution.value).desc(), Sponsor.name))
    return list(names)
