"""Exports of contributions for a period (CSV and XLSX): one row per contribution, voided ones included
with their status, amounts as integer rupiah so spreadsheets can sum them. A voided contribution books
nothing: its "Nilai dibukukan" is 0, so the column's sum is what the funding summary counts."""
from __future__ import annotations

import csv
import io
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import Contribution, Event, Sponsor
from .. import DomainError
from .shared import FORMS, IN_KIND_CATEGORIES, SPONSOR_KINDS, STATUSES

HEADER = ["No. catatan", "Tanggal buku", "Sponsor", "Jenis sponsor", "Sektor", "Kegiatan", "Tanggal kegiatan",
          "Bentuk", "Jenis barang/jasa", "Keterangan", "Status", "Nilai dibukukan (Rp)",
          "Nilai menurut sponsor (Rp)", "Tanggal janji", "Tanggal diterima", "No. tanda terima", "No. BAST",
          "Dasar penilaian", "Alasan pembatalan"]
AMOUNT_COLUMNS = (11, 12)  # zero-based
MAX_DAYS = 366 * 5


def check_period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    if date_from is None:
        raise DomainError(_l("Tanggal awal wajib diisi."), field="date_from")
    if date_to is None:
        raise DomainError(_l("Tanggal akhir wajib diisi."), field="date_to")
    if date_to < date_from:
        raise DomainError(_l("Tanggal akhir tidak boleh sebelum tanggal awal."), field="date_to")
    if (date_to - date_from).days > MAX_DAYS:
        raise DomainError(_l("Rentang ekspor paling lama 5 tahun."), field="date_to")
    return date_from, date_to


def _safe(value):
    """Text that a spreadsheet would run as a formula (=, +, -, @) is written as plain text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


_COLUMNS = (Contribution.id, Contribution.received_on, Contribution.pledged_on, Sponsor.name, Sponsor.kind,
            Sponsor.sector, Event.title, Event.date, Contribution.form, Contribution.category,
            Contribution.description, Contribution.status, Contribution.voided_at, Contribution.value,
            Contribution.claimed_value, Contribution.receipt_number, Contribution.bast_number,
            Contribution.valuation_basis, Contribution.void_reason, Contribution.cancelled_reason)


def _row(r, label) -> list:
    """One contribution's cells. Only the text people typed can start like a formula, so only it goes through
    `_safe` (a year is 2,000 rows: 38,000 calls were a third of reading them); labels are made safe once."""
    voided = r.voided_at is not None
    return [
        r.id, r.received_on or r.pledged_on, _safe(r.name), label(SPONSOR_KINDS, r.kind), _safe(r.sector),
        _safe(r.title) if r.title is not None else "Program BOTRAM (tanpa kegiatan)", r.date,
        label(FORMS, r.form), label(IN_KIND_CATEGORIES, r.category or "", ""), _safe(r.description),
        label(STATUSES, "voided" if voided else r.status), 0 if voided else r.value, r.claimed_value, r.pledged_on,
        r.received_on, _safe(r.receipt_number), _safe(r.bast_number), _safe(r.valuation_basis),
        _safe(r.void_reason or r.cancelled_reason),
    ]


def export_rows(date_from: date | None, date_to: date | None) -> list[list]:
    """Contributions whose book date (received, else pledged) lies in the period, oldest first. Read as plain
    rows, not objects: a year's 2,000 contributions with their sponsors and events (bench/scale.py)."""
    start, end = check_period(date_from, date_to)
    book_date = sa.func.coalesce(Contribution.received_on, Contribution.pledged_on)
    rows = db.session.execute(
        sa.select(*_COLUMNS).join(Sponsor, Sponsor.id == Contribution.sponsor_id)
        .outerjoin(Event, Event.id == Contribution.event_id)
        .where(book_date >= start, book_date <= end).order_by(book_date, Contribution.id)).all()
    # The labels are lazy strings (botram.domain.funding): a spreadsheet cell needs plain text, and
    # translating each once rather than per row keeps a year's export (thousands of rows) fast.
    texts: dict = {}

    def label(labels: dict, key: str, default=None) -> str:
        if (id(labels), key) not in texts:
            texts[id(labels), key] = _safe(str(labels.get(key, key if default is None else default)))
        return texts[id(labels), key]

    return [_row(r, label) for r in rows]


def to_csv(rows: list[list]) -> bytes:
    """UTF-8 with a byte-order mark so Excel reads the Indonesian text right; ISO dates."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, date) else v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list], title: str) -> bytes:
    """The rows as one sheet, amounts as rupiah and dates as dates, filterable. Written by `table_file`, not
    cell by cell through XlsxWriter: a year's 2,000 rows are 38,000 cells (issue 25, bench/funding_xlsx.py)."""
    from ...xlsx import table_file

    formats = {column: "money" for column in AMOUNT_COLUMNS} | {column: "date" for column in (1, 6, 13, 14)}
    return table_file(title, "Sumbangan", HEADER, rows, formats=formats,
                      widths=[10, 13, 32, 16, 16, 34, 14, 13, 20, 36, 22, 18, 18, 13, 14, 20, 16, 30, 30])
