"""Exports of contributions for a period (CSV and XLSX): one row per contribution, voided ones included
with their status, amounts as integer rupiah so spreadsheets can sum them."""
from __future__ import annotations

import csv
import io
from datetime import date
from flask_babel import lazy_gettext as _l

from ...models import Contribution
from .. import DomainError
from .contributions import ContributionFilter, list_contributions
from .shared import FORMS, IN_KIND_CATEGORIES, SPONSOR_KINDS, STATUSES, status_key

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


def _row(c: Contribution, label) -> list:
    return [_safe(v) for v in [
        c.id, c.book_date, c.sponsor.name, label(SPONSOR_KINDS, c.sponsor.kind), c.sponsor.sector,
        c.event.title if c.event else "Program BOTRAM (tanpa kegiatan)", c.event.date if c.event else None,
        label(FORMS, c.form), label(IN_KIND_CATEGORIES, c.category or "", ""), c.description,
        label(STATUSES, status_key(c)), c.value, c.claimed_value, c.pledged_on, c.received_on, c.receipt_number,
        c.bast_number, c.valuation_basis, c.void_reason or c.cancelled_reason,
    ]]


def export_rows(date_from: date | None, date_to: date | None) -> list[list]:
    """Contributions whose book date (received, else pledged) lies in the period, oldest first."""
    start, end = check_period(date_from, date_to)
    rows = list_contributions(ContributionFilter(date_from=start, date_to=end))
    rows.sort(key=lambda c: (c.book_date, c.id))
    # The labels are lazy strings (botram.domain.funding): a spreadsheet cell needs plain text, and
    # translating each once rather than per row keeps a year's export (thousands of rows) fast.
    texts: dict = {}

    def label(labels: dict, key: str, default=None) -> str:
        if (id(labels), key) not in texts:
            texts[id(labels), key] = str(labels.get(key, key if default is None else default))
        return texts[id(labels), key]

    return [_row(c, label) for c in rows]


def to_csv(rows: list[list]) -> bytes:
    """UTF-8 with a byte-order mark so Excel reads the Indonesian text right; ISO dates."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, date) else v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list], title: str) -> bytes:
    """The rows as one sheet. XlsxWriter, not openpyxl as the event report: it writes a year's contributions
    (2,000 rows) in well under half the time (bench/scale.py), and writes only what it is told to: strings
    with write_string, so text is never taken for a formula."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Sumbangan")
    head = workbook.add_format({"bold": True, "font_color": "#FFFFFF", "bg_color": "#0F4C5C", "valign": "vcenter",
                                "text_wrap": True})
    money = workbook.add_format({"num_format": '"Rp" #,##0'})
    day = workbook.add_format({"num_format": "dd/mm/yyyy"})
    formats = {column: money for column in AMOUNT_COLUMNS} | {column: day for column in (1, 6, 13, 14)}
    for column, text in enumerate(HEADER):
        sheet.write_string(0, column, text, head)
    for r, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            style = formats.get(column)
            if value is None or value == "":
                if style is not None:
                    sheet.write_blank(r, column, None, style)
            elif isinstance(value, str):
                sheet.write_string(r, column, value)
            elif isinstance(value, date):
                sheet.write_datetime(r, column, value, style)
            else:
                sheet.write_number(r, column, value, style)
    for index, width in enumerate([10, 13, 32, 16, 16, 34, 14, 13, 20, 36, 22, 18, 18, 13, 14, 20, 16, 30, 30]):
        sheet.set_column(index, index, width)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(rows), len(HEADER) - 1)
    workbook.set_properties({"title": title, "author": "BOTRAM Kabupaten Bekasi"})
    workbook.close()
    return buffer.getvalue()
