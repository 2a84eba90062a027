"""The one XLSX writer of every export (XlsxWriter): a workbook in memory, cells written by their type.

XlsxWriter writes a year's rows in well under half openpyxl's time (bench/scale.py), and writes only what it is
told to: text goes through write_string, so a name that starts with "=" is never taken for a formula.
openpyxl stays a test dependency, to read exports back.
"""
from __future__ import annotations

import io
from datetime import date

import xlsxwriter

HEAD = {"bold": True, "font_color": "#FFFFFF", "bg_color": "#0F4C5C", "valign": "vcenter", "text_wrap": True}
WARN = {"bg_color": "#FDE8E6"}


class Book:
    """A workbook being written; `bytes()` closes it and gives the file."""

    def __init__(self, title: str):
        self._buffer = io.BytesIO()
        self.workbook = xlsxwriter.Workbook(self._buffer, {"in_memory": True})
        self.workbook.set_properties({"title": title, "author": "BOTRAM Kabupaten Bekasi"})
        self._formats: dict[tuple, object] = {}

    def style(self, **spec):
        """A cell format, made once per distinct spec (XlsxWriter keeps every format it is given)."""
        key = tuple(sorted(spec.items()))
        if key not in self._formats:
            self._formats[key] = self.workbook.add_format(spec)
        return self._formats[key]

    def sheet(self, name: str):
        return self.workbook.add_worksheet(name)

    @staticmethod
    def cell(sheet, row: int, column: int, value, style=None) -> None:
        if value is None or value == "":
            if style is not None:
                sheet.write_blank(row, column, None, style)
        elif isinstance(value, str):
            sheet.write_string(row, column, value, style)
        elif isinstance(value, date):
            sheet.write_datetime(row, column, value, style)
        elif isinstance(value, bool):
            sheet.write_boolean(row, column, value, style)
        else:
            sheet.write_number(row, column, value, style)

    def table(self, sheet, headers: list[str], rows: list[list], *, widths: list[int] | None = None, start: int = 0,
              formats: dict[int, object] | None = None, flag=None) -> int:
        """A header row and its rows from row `start` (0-based), the panes frozen below the header; `formats`
        per column, `flag(row)` marks a row as a warning. Returns the first row after the table."""
        head = self.style(**HEAD)
        for column, text in enumerate(headers):
            sheet.write_string(start, column, text, head)
        formats = formats or {}
        for r, row in enumerate(rows, start=start + 1):
            warn = bool(flag and flag(row))
            for column, value in enumerate(row):
                style = formats.get(column)
                if isinstance(value, float) and style is None:
                    style = self.style(num_format="0.00", **(WARN if warn else {}))
                elif warn:
                    style = self.style(**WARN)
                self.cell(sheet, r, column, value, style)
        for column, width in enumerate(widths or []):
            sheet.set_column(column, column, width)
        sheet.freeze_panes(start + 1, 0)
        return start + len(rows) + 1

    def bytes(self) -> bytes:
        self.workbook.close()
        return self._buffer.getvalue()
