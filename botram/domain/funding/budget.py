"""An event's budget lines (planned and actual cost, corrected with an audit of old and new amounts, voided
rather than deleted) and the year's APBD target: the highest share of the cost the regency budget carries."""
from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import BudgetLine, Contribution, ContributionStatus, Event, FundingTarget
from .. import Conflict, DomainError, audit
from ..clock import now
from ..uow import unit_of_work
from .shared import BUDGET_CATEGORIES, BUDGET_DESCRIPTION_MAX, clean_reason, clean_text, parse_amount


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
                description=clean_text(data.description, "description", _l("Uraian"), BUDGET_DESCRIPTION_MAX, lo=3),
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
        Contribution.status != ContributionStatus.CANCELLED))
    if covering:
        raise Conflict(_l("Pos anggaran ini ditutup oleh sumbangan barang/jasa. Batalkan sumbangan itu dahulu."))
    line.void_reason = clean_reason(reason)
    line.voided_at, line.voided_by_id = now(), by_user_id
    audit.record("funding.budget.void", "budget_line", line.id, user_id=by_user_id, event_id=line.event_id,
                 planned=line.planned, actual=line.actual)
    return line


def budget_lines(event_id: int, *, include_voided: bool = False) -> list[BudgetLine]:
    query = sa.select(BudgetLine).where(BudgetLine.event_id == event_id).order_by(BudgetLine.id)
    if not include_voided:
        query = query.where(BudgetLine.voided_at.is_(None))
    return list(db.session.scalars(query))


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
