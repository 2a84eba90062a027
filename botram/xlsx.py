"""The XLSX writers of every export: `Book` (XlsxWriter), a workbook in memory, cells written by their type; and
`table_file`, one header row over thousands of plain rows written straight as SpreadsheetML (the contributions
export of a year): the file `Book.table` makes, byte for byte, in a fourth of the time.

XlsxWriter writes a year's rows in well under half openpyxl's time (bench/scale.py), and writes only what it is
told to: text goes through write_string, so a name that starts with "=" is never taken for a formula.
openpyxl stays a test dependency, to read exports back.
"""
from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, timezone
from xml.sax.saxutils import escape

import xlsxwriter
from xlsxwriter.theme import THEME_XML_2007

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


# --- One big table, written straight as SpreadsheetML ----------------------------------------------------------
# XlsxWriter spends ~8 µs a cell (a namedtuple per cell, then a method call and attribute escaping per cell on
# close): a year's contributions export is 38,000 cells, two thirds of the request's CPU (issue 25). A sheet
# that is one header row over plain rows needs none of its generality, so `table_file` writes the parts
# XlsxWriter writes for `Book.table` itself, one f-string per cell: the same bytes, part for part (styles,
# number formats, widths, frozen header, autofilter, properties, rows), as tests/test_xlsx_table.py checks.

_NS = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument"
_EPOCH = date(1899, 12, 30).toordinal()  # Excel's day 0 in the 1900 date system (its day 60 bug is before 1900-03)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]")
_ESCAPED = re.compile("(_x[0-9a-fA-F]{4}_)")
_NEEDS_WORK = re.compile(r"[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
# style ids of `table_file`, in the order of cellXfs below
_STYLE_IDS = {"money": 3, "date": 2}


def _column_letters(n: int) -> list[str]:
    letters = []
    for i in range(n):
        name, i = "", i + 1
        while i:
            i, rest = divmod(i - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


def _si(text: str) -> str:
    """A shared string as Excel escapes it: control characters as _xHHHH_ (and a literal _xHHHH_ guarded),
    leading or trailing spaces kept."""
    if len(text) > 32767:  # Excel's limit; XlsxWriter's write_string truncates the same way
        text = text[:32767]
    if not _NEEDS_WORK.search(text):
        return f"<si><t>{text}</t></si>"
    text = _ESCAPED.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f"<si><t{space}>{text}</t></si>"


def _width(width: float) -> str:
    """A width in characters as XlsxWriter's set_column stores it: whole pixels (7 a digit plus 5 of padding),
    back in characters to 1/256."""
    pixels = int(width * 7 + 0.5) + 5 if width >= 1 else int(width * 12 + 0.5)
    return f"{(pixels * 256 // 7) / 256:.16g}"


def table_file(title: str, sheet_name: str, headers: list[str], rows: list[list], *,
               formats: dict[int, str] | None = None, widths: list[int] | None = None) -> bytes:
    """One sheet: a header row (white on teal, frozen, filterable) over `rows`. `formats` names a column's
    number format, "money" (`"Rp" #,##0`) or "date" (dd/mm/yyyy); such a column's empty cells keep the format.
    Values: str, int, date/datetime (naive), bool, float or None: the file `Book.table` gives, but for floats,
    written as plain numbers (`Book.table` gives them a 0.00 format; no export of this writer has any)."""
    formats = formats or {}
    columns = len(headers)
    letters = _column_letters(max(columns, max((len(r) for r in rows), default=0)))
    strings: dict[str, int] = {}
    count = 0
    written: list[tuple[int, int, int, str]] = []  # (row, first and last column written, the row's cells)
    if headers:
        written.append((1, 0, len(headers) - 1, "".join(
            f'<c r="{letters[column]}1" s="1" t="s"><v>{strings.setdefault(text, len(strings))}</v></c>'
            for column, text in enumerate(headers))))
        count += len(headers)
    styles = [_STYLE_IDS.get(formats.get(column, ""), 0) for column in range(len(letters))]
    for r, row in enumerate(rows, start=2):
        out = []
        first = last = None
        for column, value in enumerate(row):
            s = styles[column]
            ref = f"{letters[column]}{r}"
            kind = type(value)
            if value is None or value == "":
                if not s:
                    continue
                cell = f'<c r="{ref}" s="{s}"/>'
            elif kind is str:
                index = strings.get(value)
                if index is None:
                    index = strings[value] = len(strings)
                count += 1
                cell = (f'<c r="{ref}" s="{s}" t="s"><v>{index}</v></c>' if s else
                        f'<c r="{ref}" t="s"><v>{index}</v></c>')
            elif kind is bool:
                cell = (f'<c r="{ref}" s="{s}" t="b"><v>{int(value)}</v></c>' if s else
                        f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
            else:
                if kind is int:
                    text = str(value)
                elif kind is date:
                    text = str(value.toordinal() - _EPOCH)
                elif isinstance(value, datetime):
                    since = value - datetime(1899, 12, 30)
                    text = repr(since.days + since.seconds / 86_400 + since.microseconds / 86_400e6)
                else:
                    text = str(value) if isinstance(value, int) else repr(float(value))
                cell = f'<c r="{ref}" s="{s}"><v>{text}</v></c>' if s else f'<c r="{ref}"><v>{text}</v></c>'
            out.append(cell)
            if first is None:
                first = column
            last = column
        if out:  # a row of nothing is not written, as in XlsxWriter
            written.append((r, first, last, "".join(out)))
    # Each block of 16 rows carries the columns its rows span (an optimisation Excel writes, and XlsxWriter too)
    blocks: dict[int, list[int]] = {}
    for r, first, last, _cells in written:
        block = blocks.setdefault((r - 1) // 16, [first, last])
        block[0], block[1] = min(block[0], first), max(block[1], last)
    sheet_data = "".join(
        f'<row r="{r}" spans="{blocks[(r - 1) // 16][0] + 1}:{blocks[(r - 1) // 16][1] + 1}">{cells}</row>'
        for r, _first, _last, cells in written)
    last = f"{letters[columns - 1]}{len(rows) + 1}"
    spans: list[list] = []  # neighbours of one width share a <col>, as XlsxWriter writes them
    for i, width in enumerate(widths or []):
        if spans and spans[-1][2] == width and spans[-1][1] == i:
            spans[-1][1] = i + 1
        else:
            spans.append([i + 1, i + 1, width])
    cols = "".join(f'<col min="{low}" max="{high}" width="{_width(w)}" customWidth="1"/>' for low, high, w in spans)
    sheet = (f'{_XML}<worksheet {_NS}><dimension ref="A1:{last}"/><sheetViews><sheetView tabSelected="1" '
             'workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
             '<selection pane="bottomLeft"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
             + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>" + sheet_data + "</sheetData>"
             f'<autoFilter ref="A1:{last}"/><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" '
             'header="0.3" footer="0.3"/></worksheet>')
    shared = (f'{_XML}<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{count}" '
              f'uniqueCount="{len(strings)}">' + "".join(map(_si, strings)) + "</sst>")
    name = escape(sheet_name)
    quoted = name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", sheet_name) else "'" + name.replace("'", "''") + "'"
    workbook = (f'{_XML}<workbook {_NS}><fileVersion appName="xl" lastEdited="4" lowestEdited="4" rupBuild="4505"/>'
                '<workbookPr defaultThemeVersion="124226"/><bookViews><workbookView xWindow="240" yWindow="15" '
                'windowWidth="16095" windowHeight="9660"/></bookViews><sheets>'
                f'<sheet name="{escape(sheet_name, {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/></sheets>'
                f'<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
                f'{quoted}!$A$1:${letters[columns - 1]}${len(rows) + 1}</definedName></definedNames>'
                '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    author = "BOTRAM Kabupaten Bekasi"
    core = (f'{_XML}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:title>{escape(title)}</dc:title><dc:creator>{author}</dc:creator><cp:lastModifiedBy>{author}'
            f'</cp:lastModifiedBy><dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>')
    app = (f'{_XML}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
           'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>'
           'Microsoft Excel</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop><HeadingPairs>'
           '<vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr></vt:variant>'
           '<vt:variant><vt:i4>1</vt:i4></vt:variant></vt:vector></HeadingPairs><TitlesOfParts>'
           f'<vt:vector size="1" baseType="lpstr"><vt:lpstr>{name}</vt:lpstr></vt:vector></TitlesOfParts>'
           '<Company></Company><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>'
           '<HyperlinksChanged>false</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>')
    parts = {
        "[Content_Types].xml": (
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/docProps/app.xml" ContentType="{_CT}.extended-properties+xml"/>'
            '<Override PartName="/docProps/core.xml" '
            'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.spreadsheetml.styles+xml"/>'
            f'<Override PartName="/xl/theme/theme1.xml" ContentType="{_CT}.theme+xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.spreadsheetml.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.spreadsheetml.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.spreadsheetml.sharedStrings+xml"/>'
            '</Types>'),
        "_rels/.rels": (
            f'{_XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/'
            'core-properties" Target="docProps/core.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
            '</Relationships>'),
        "docProps/app.xml": app,
        "docProps/core.xml": core,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": (
            f'{_XML}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}/theme" Target="theme/theme1.xml"/>'
            f'<Relationship Id="rId3" Type="{_REL}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId4" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
            '</Relationships>'),
        "xl/styles.xml": _STYLES,
        "xl/theme/theme1.xml": THEME_XML_2007,
        "xl/worksheets/sheet1.xml": sheet,
        "xl/sharedStrings.xml": shared,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for part, text in parts.items():
            # a fixed stamp, as XlsxWriter's: the same rows give the same sheet parts
            archive.writestr(zipfile.ZipInfo(part, (1980, 1, 1, 0, 0, 0)), text.encode("utf-8"),
                             compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


_STYLES = (
    f'{_XML}<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="2">'
    '<numFmt numFmtId="164" formatCode="dd/mm/yyyy"/><numFmt numFmtId="165" formatCode="&quot;Rp&quot; #,##0"/>'
    '</numFmts><fonts count="2"><font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/>'
    '<scheme val="minor"/></font><font><b/><sz val="11"/><color rgb="FFFFFFFF"/><name val="Calibri"/>'
    '<family val="2"/><scheme val="minor"/></font></fonts><fills count="3"><fill><patternFill patternType="none"/>'
    '</fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill patternType="solid">'
    '<fgColor rgb="FF0F4C5C"/><bgColor indexed="64"/></patternFill></fill></fills><borders count="1"><border>'
    '<left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" '
    'fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" fontId="0" '
    'fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" '
    'applyFont="1" applyFill="1" applyAlignment="1"><alignment vertical="center" wrapText="1"/></xf>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" '
    'fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs><cellStyles count="1">'
    '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles><dxfs count="0"/><tableStyles count="0" '
    'defaultTableStyle="TableStyleMedium9" defaultPivotStyle="PivotStyleLight16"/></styleSheet>')
