"""`table_file` (botram/xlsx.py) writes the same workbook XlsxWriter's `Book.table` writes, cell for cell.

The contributions export of a year is written by `table_file` since issue 25 (a fifth of the CPU); these tests
pin what the file holds against the XlsxWriter book it replaced: every value and its type, the number formats,
the header's style, the widths, the frozen header, the autofilter and its hidden name, the properties, and
text that a spreadsheet would misread (formulas, markup, control characters, Excel's own _xHHHH_ escapes,
leading spaces).
"""
from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from xml.dom import minidom

from openpyxl import load_workbook

from botram.domain.funding.export import AMOUNT_COLUMNS, HEADER, to_xlsx
from botram.xlsx import Book, table_file

WIDTHS = [10, 13, 32, 16, 16, 34, 14, 13, 20, 36, 22, 18, 18, 13, 14, 20, 16, 30, 30]
DATES = (1, 6, 13, 14)


def book_table(rows: list[list], title: str) -> bytes:
    """The export as XlsxWriter wrote it before issue 25 (botram/domain/funding/export.py at 4bd0ac6)."""
    book = Book(title)
    sheet = book.sheet("Sumbangan")
    money, day = book.style(num_format='"Rp" #,##0'), book.style(num_format="dd/mm/yyyy")
    formats = {column: money for column in AMOUNT_COLUMNS} | {column: day for column in DATES}
    book.table(sheet, HEADER, rows, formats=formats, widths=WIDTHS)
    sheet.autofilter(0, 0, len(rows), len(HEADER) - 1)
    return book.bytes()


def tricky_rows() -> list[list]:
    texts = ["'=HYPERLINK(\"http://evil.example\")", "A & B <b>tebal</b>", "kontrol \x01\x1f di tengah",
             "_x0041_ bukan A", "  spasi depan", "spasi belakang  ", "ünïcödé — “kutip” 'x'", "x" * 33_000,
             "PT Sumber Makmur", "PT Sumber Makmur"]  # a repeated string is shared once
    rows = []
    for i, text in enumerate(texts):
        rows.append([
            i + 1, date(2026, 1, 1 + i), text, "BUMD", None if i % 3 else "Perbankan", f"Kegiatan {i}",
            None if i % 2 else date(2025, 12, 31), "Tunai", None, text, "Diterima", i * 1_250_000,
            None if i % 2 else 999_999_999_999, date(1999, 3, 1 + i), None, f"KW-{i}", "", text, None])
    rows.append([11, datetime(2026, 5, 17, 13, 45, 30), "Waktu", "", "", "", None, "", "", "", "", 0, -5,
                 None, None, None, None, None, None])
    rows += [[12 + i, date(2026, 2, 1), f"Baris {i}"] + [None] * 16 for i in range(20)]  # a second block of 16
    return rows


def cells(data: bytes) -> list[tuple]:
    sheet = load_workbook(io.BytesIO(data))["Sumbangan"]
    return [(c.coordinate, c.value, c.data_type, c.number_format, c.font.b, c.font.color and c.font.color.rgb,
             c.fill.fill_type, c.fill.fgColor.rgb, c.alignment.vertical, c.alignment.wrap_text)
            for row in sheet.iter_rows() for c in row]


def widths(sheet) -> dict[int, float]:
    """Column number → width; a <col> may span neighbours of one width."""
    return {i: d.width for d in sheet.column_dimensions.values() for i in range(d.min, d.max + 1)}


def test_the_table_holds_what_xlsxwriter_wrote():
    rows = tricky_rows()
    new, old = table_file("uji", "Sumbangan", HEADER, rows, widths=WIDTHS,
                          formats={c: "money" for c in AMOUNT_COLUMNS} | {c: "date" for c in DATES}), \
        book_table(rows, "uji")
    assert cells(new) == cells(old)
    a, b = load_workbook(io.BytesIO(new)), load_workbook(io.BytesIO(old))
    assert a.sheetnames == b.sheetnames == ["Sumbangan"]
    sa, sb = a["Sumbangan"], b["Sumbangan"]
    assert (sa.freeze_panes, sa.auto_filter.ref, sa.dimensions) == (sb.freeze_panes, sb.auto_filter.ref,
                                                                    sb.dimensions) == ("A2", "A1:S32", "A1:S32")
    assert widths(sa) == widths(sb) and widths(sa)[1] == 10.7109375 and len(widths(sa)) == len(WIDTHS)
    assert (a.properties.title, a.properties.creator) == (b.properties.title, b.properties.creator) == (
        "uji", "BOTRAM Kabupaten Bekasi")
    # the values themselves, as a spreadsheet reads them back
    assert sa["C2"].value.startswith("'=") and sa["C2"].data_type == "s"
    assert sa["C3"].value == "A & B <b>tebal</b>" and sa["C6"].value == "  spasi depan"
    assert len(sa["C9"].value) == 32_767
    assert sa["M2"].value == 999_999_999_999 and sa["M2"].number_format == '"Rp" #,##0'
    assert sa["N2"].value == datetime(1999, 3, 1) and sa["B12"].value == datetime(2026, 5, 17, 13, 45, 30)
    assert sa["O2"].value is None and sa["O2"].number_format == "dd/mm/yyyy"  # blank, still a date column
    # every part is well-formed XML, and Excel's filter range is named as XlsxWriter names it
    archive = zipfile.ZipFile(io.BytesIO(new))
    assert sorted(archive.namelist()) == sorted(zipfile.ZipFile(io.BytesIO(old)).namelist())
    for part in archive.namelist():
        minidom.parseString(archive.read(part))
    # Excel's escapes, which openpyxl leaves as they are: a control character as _xHHHH_, a literal _xHHHH_
    # guarded by _x005F, surrounding spaces kept
    shared = archive.read("xl/sharedStrings.xml").decode()
    for text in ("<t>kontrol _x0001__x001F_ di tengah</t>", "<t>_x005F_x0041_ bukan A</t>",
                 '<t xml:space="preserve">  spasi depan</t>', "<t>A &amp; B &lt;b&gt;tebal&lt;/b&gt;</t>"):
        assert text in shared, text
    workbook = archive.read("xl/workbook.xml").decode()
    assert '<definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">' \
           "Sumbangan!$A$1:$S$32</definedName>" in workbook
    # in fact every part is XlsxWriter's byte for byte, the sheet's rows included (their 16-row spans too); the
    # properties carry the second they were written in
    old_archive = zipfile.ZipFile(io.BytesIO(old))
    assert {p for p in archive.namelist() if archive.read(p) != old_archive.read(p)} <= {"docProps/core.xml"}


def test_the_export_is_that_table():
    rows = tricky_rows()[:3]
    assert cells(to_xlsx(rows, "uji")) == cells(book_table(rows, "uji"))


def test_an_empty_period_is_a_header_and_a_filter():
    sheet = load_workbook(io.BytesIO(to_xlsx([], "kosong")))["Sumbangan"]
    assert [c.value for c in sheet[1]] == HEADER and sheet.max_row == 1 and sheet.auto_filter.ref == "A1:S1"
