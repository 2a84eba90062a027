"""Contributions, cash or in kind: recorded as a pledge or as received, then received, cancelled (a pledge)
or voided (a wrong entry, kept with its reason); never edited in place or deleted. And the list of them
that the pages and exports filter."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import BudgetLine, Contribution, ContributionForm, ContributionItem, ContributionStatus, Event, Sponsor
from .. import Conflict, DomainError, Problems, audit
from ..clock import now, today_wib
from ..uow import unit_of_work
from .shared import (BASIS_MAX, DESCRIPTION_MAX, FORMS, IN_KIND_CATEGORIES, ITEM_MAX, MAX_ITEMS, MAX_QUANTITY,
                     UNIT_MAX, clean_doc_number, clean_reason, clean_text, parse_amount, thanks_changed)


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
    status: str = ContributionStatus.PLEDGED
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
        number = clean_doc_number(receipt_number, "receipt_number", _l("Nomor tanda terima"), required=True)
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
        if data.status not in (ContributionStatus.PLEDGED, ContributionStatus.RECEIVED):
            raise DomainError(_l("Status awal harus dijanjikan atau diterima."), field="status")
    in_kind = data.form == ContributionForm.IN_KIND
    value = description = None
    with problems:
        value = parse_amount(data.value_text, "value", _l("Nilai taksiran") if in_kind else "Jumlah uang")
    with problems:
        description = clean_text(data.description, "description", _l("Keterangan"), DESCRIPTION_MAX, required=False)
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
            basis = clean_text(data.valuation_basis, "valuation_basis", _l("Dasar penilaian"), BASIS_MAX)
        with problems:
            items = _items(data.items)
        with problems:
            if data.budget_line_id is not None:
                line = db.session.get(BudgetLine, data.budget_line_id) if isinstance(data.budget_line_id, int) else None
                if line is None or line.voided_at is not None or event is None or line.event_id != event.id:
                    raise DomainError(_l("Pos anggaran tidak ada pada kegiatan yang dipilih."), field="budget_line_id")
        with problems:
            bast = clean_doc_number(data.bast_number, "bast_number", _l("Nomor BAST"), required=False)
        values.update(category=data.category, claimed_value=claimed, valuation_basis=basis,
                      budget_line_id=line.id if line else None, bast_number=bast)
    elif data.budget_line_id is not None:
        with problems:
            raise DomainError(_l("Hanya sumbangan barang/jasa yang dapat menutup pos anggaran."), field="budget_line_id")
    if data.status == ContributionStatus.RECEIVED:
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
    thanks_changed(contribution.event_id)
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


def _live(contribution: Contribution) -> None:
    if contribution.voided:
        raise Conflict(_l("Sumbangan ini sudah dibatalkan karena salah catat dan tidak dapat diubah lagi."))


@unit_of_work
def mark_received(contribution: Contribution, received_on: date | None, receipt_number: str | None,
                  bast_number: str | None = None, *, by_user_id: int | None = None) -> Contribution:
    _live(contribution)
    if contribution.status != ContributionStatus.PLEDGED:
        raise Conflict(_l("Hanya sumbangan yang masih dijanjikan yang dapat dicatat diterima."))
    bast = contribution.bast_number
    if contribution.form == ContributionForm.IN_KIND:
        bast = clean_doc_number(bast_number or bast, "bast_number", _l("Nomor BAST"), required=False)
        if not bast:
            raise DomainError(_l("Nomor BAST (berita acara serah terima) wajib diisi untuk barang/jasa yang sudah "
                                 "diserahkan."), field="bast_number")
    received_on, number = _check_received(received_on, receipt_number, contribution.pledged_on, contribution.id,
                                          event=contribution.event)
    contribution.status = ContributionStatus.RECEIVED
    contribution.received_on, contribution.receipt_number, contribution.bast_number = received_on, number, bast
    audit.record("funding.contribution.receive", "contribution", contribution.id, user_id=by_user_id,
                 event_id=contribution.event_id, value=contribution.value, received_on=received_on.isoformat())
    thanks_changed(contribution.event_id)
    return contribution


@unit_of_work
def cancel_pledge(contribution: Contribution, reason: str | None, *, by_user_id: int | None = None) -> Contribution:
    """The sponsor withdrew a pledge. A received contribution is not cancelled: a wrong one is voided."""
    _live(contribution)
    if contribution.status != ContributionStatus.PLEDGED:
        raise Conflict(_l("Hanya janji sumbangan yang dapat dibatalkan; sumbangan yang salah catat dibatalkan "
                       "dengan \"Batalkan catatan\"."))
    contribution.cancelled_reason = clean_reason(reason)
    contribution.status = ContributionStatus.CANCELLED
    audit.record("funding.contribution.cancel", "contribution", contribution.id, user_id=by_user_id,
                 event_id=contribution.event_id, value=contribution.value)
    return contribution


@unit_of_work
def void_contribution(contribution: Contribution, reason: str | None, *, by_user_id: int | None = None
                      ) -> Contribution:
    """A wrong entry: kept, marked void with a reason, no longer counted anywhere."""
    if contribution.voided:
        raise Conflict(_l("Sumbangan ini sudah dibatalkan sebelumnya."))
    contribution.void_reason = clean_reason(reason)
    contribution.voided_at = now()
    contribution.voided_by_id = by_user_id
    audit.record("funding.contribution.void", "contribution", contribution.id, user_id=by_user_id,
                 event_id=contribution.event_id, value=contribution.value, status=contribution.status)
    thanks_changed(contribution.event_id)
    return contribution


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
