"""Printable documents of a contribution: the thank-you letter (surat ucapan terima kasih) and the receipt
(tanda terima). Only received, live contributions get them. Amounts are spelled with `lokal.terbilang`."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import lokal
from flask_babel import lazy_gettext as _l

from ..models import Contribution, ContributionForm, ContributionStatus
from . import Conflict
from .clock import today_wib
from .funding import FORMS, IN_KIND_CATEGORIES, SPONSOR_KINDS, format_npwp

ROMAN = ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]


def terbilang(amount: int) -> str:
    """`1500000` → `Satu juta lima ratus ribu rupiah`."""
    return lokal.terbilang(int(amount), currency=True, case="sentence")


def document_number(contribution: Contribution, kind: str) -> str:
    """`007/TT-BOTRAM/XI/2026` (tanda terima) or `007/UTK-BOTRAM/XI/2026` (ucapan terima kasih)."""
    day = contribution.received_on or contribution.pledged_on
    code = "TT" if kind == "receipt" else "UTK"
    return f"{contribution.id:03d}/{code}-BOTRAM/{ROMAN[day.month]}/{day.year}"


@dataclass
class Document:
    contribution: Contribution
    kind: str  # receipt | letter
    number: str
    issued_on: date
    amount_words: str
    form_label: str
    category_label: str
    kind_label: str
    npwp: str

    @property
    def in_kind(self) -> bool:
        return self.contribution.form == ContributionForm.IN_KIND


def document(contribution: Contribution, kind: str) -> Document:
    if contribution.voided_at is not None or contribution.status != ContributionStatus.RECEIVED:
        raise Conflict(_l("Tanda terima dan surat ucapan terima kasih hanya untuk sumbangan yang sudah diterima "
                       "dan tidak dibatalkan."))
    return Document(
        contribution=contribution, kind=kind, number=document_number(contribution, kind), issued_on=today_wib(),
        amount_words=terbilang(contribution.value), form_label=FORMS[contribution.form],
        category_label=IN_KIND_CATEGORIES.get(contribution.category or "", ""),
        kind_label=SPONSOR_KINDS.get(contribution.sponsor.kind, ""), npwp=format_npwp(contribution.sponsor.npwp))
