"""What every funding module shares: the labels people read, the limits of each field, the cleaning of
typed text and document numbers, the audit trail of a record, and the refresh of the boards that thank
sponsors. Internal to the package, apart from the names `botram.domain.funding` exports."""
from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import (AuditLog, BudgetCategory, Contribution, ContributionForm, ContributionStatus, InKindCategory,
                       SponsorKind)
from .. import DomainError, money
from ..uow import bump_versions

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
    SponsorKind.CSR: _l("Perusahaan (CSR)"),
    SponsorKind.BUMD: _l("BUMD"),
    SponsorKind.COMMUNITY: _l("Komunitas"),
    SponsorKind.INDIVIDUAL: _l("Perorangan"),
    SponsorKind.OTHER: _l("Lainnya"),
}
FORMS = {ContributionForm.CASH: _l("Uang tunai"), ContributionForm.IN_KIND: _l("Barang/jasa")}
IN_KIND_CATEGORIES = {
    InKindCategory.GOODS: _l("Barang"),
    InKindCategory.SERVICES: _l("Jasa"),
    InKindCategory.VENUE: _l("Tempat"),
    InKindCategory.FOOD: _l("Konsumsi"),
    InKindCategory.TRANSPORT: _l("Transportasi"),
    InKindCategory.PRINTING: _l("Percetakan"),
    InKindCategory.HEALTH: _l("Perlengkapan kesehatan"),
}
BUDGET_CATEGORIES = {
    BudgetCategory.TENTS: _l("Tenda"),
    BudgetCategory.SOUND: _l("Pengeras suara"),
    BudgetCategory.CHAIRS: _l("Kursi dan meja"),
    BudgetCategory.FOOD: _l("Konsumsi"),
    BudgetCategory.TRANSPORT: _l("Transportasi"),
    BudgetCategory.PRINTING: _l("Percetakan"),
    BudgetCategory.HONORARIA: _l("Honorarium petugas"),
    BudgetCategory.HEALTH: _l("Perlengkapan kesehatan"),
    BudgetCategory.VENUE: _l("Sewa tempat"),
    BudgetCategory.OTHER: _l("Lainnya"),
}
STATUSES = {
    ContributionStatus.PLEDGED: _l("Dijanjikan"),
    ContributionStatus.RECEIVED: _l("Diterima"),
    ContributionStatus.CANCELLED: _l("Dibatalkan"),
    "voided": _l("Dibatalkan (salah catat)"),
}


def status_key(contribution: Contribution) -> str:
    """The status shown to people: `voided` wins over the lifecycle state."""
    return "voided" if contribution.voided else contribution.status


def parse_amount(text: str | None, field: str = "amount", label: str = _l("Jumlah"), required: bool = True,
                 allow_zero: bool = False) -> int | None:
    """Rupiah typed by a person → integer rupiah, or a DomainError naming `field` (botram.domain.money)."""
    return money.parse_rupiah(text, field=field, label=label, required=required, allow_zero=allow_zero)


def clean_text(value: str | None, name: str, label: str, hi: int, *, required: bool = True, lo: int = 1) -> str:
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


def clean_doc_number(value: str | None, name: str, label: str, *, required: bool) -> str:
    text = clean_text(value, name, label, NUMBER_MAX, required=required)
    if text and not DOC_NUMBER.match(text):
        raise DomainError(_l("%(label)s hanya boleh berisi huruf, angka, titik, garis miring, dan tanda hubung.",
                             label=label),
                          field=name)
    return text


def clean_reason(reason: str | None) -> str:
    return clean_text(reason, "reason", _l("Alasan"), REASON_MAX, lo=REASON_MIN)


def thanks_changed(*event_ids: int | None) -> None:
    """The boards of these events thank their sponsors (`public_sponsors`): tell them to refresh."""
    bump_versions(event_id for event_id in event_ids if event_id is not None)


def history(entity: str, entity_id: int) -> list[AuditLog]:
    """The audit trail of one funding record, oldest first."""
    return list(db.session.scalars(sa.select(AuditLog).where(
        AuditLog.entity == entity, AuditLog.entity_id == entity_id).order_by(AuditLog.at, AuditLog.id)))
