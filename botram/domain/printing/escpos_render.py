"""A ticket (layout.py) as ESC/POS bytes, rendered by python-escpos's Dummy printer: the library knows the
commands (sizes, the printer's native QR, the cut) so we do not hand-write byte sequences."""
from __future__ import annotations

import textwrap
import unicodedata

from flask_babel import gettext as _

from .layout import TicketLayout

COLUMNS = {58: 32, 80: 48}


def Dummy():  # noqa: N802 - python-escpos's printer; imported on first use (it brings PIL, qrcode, barcode)
    from escpos.printer import Dummy as printer

    return printer()  # characters of font A per line on the two roll widths


def ascii_text(text: str) -> str:
    """Thermal printers' code pages differ; Indonesian needs no accents, so the text goes as plain ASCII
    (an accent or a dash from a name is folded, never a wrong glyph)."""
    text = text.replace("\u2013", "-").replace("\u2014", "-").replace("\u00b7", "-")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _lines(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(ascii_text(text), width) or [""]) + "\n"


def render_ticket(ticket: TicketLayout, paper_mm: int = 80) -> bytes:
    width = COLUMNS.get(paper_mm, 48)
    p = Dummy()
    p.set(align="center", bold=True)
    p.text(_lines("BOTRAM - " + _("Kabupaten Bekasi"), width))
    p.set(align="center", bold=False)
    p.text(_lines(ticket.event_title, width))
    # The code as large as the roll allows: 4x on 80 mm, 3x on 58 mm (a code is at most 7 characters).
    size = 4 if paper_mm >= 80 else 3
    p.set(align="center", bold=True, custom_size=True, width=size, height=size)
    p.text(ascii_text(ticket.code) + "\n")
    p.set(align="center", bold=False, normal_textsize=True)
    if ticket.priority:
        p.text(_lines(_("Prioritas") + ": " + ticket.priority, width))
    p.text(_lines(ticket.issued_wib, width))
    p.set(align="left", normal_textsize=True)
    p.text("-" * width + "\n")
    for number, (name, desks) in enumerate(ticket.services, start=1):
        p.text(_lines(f"{number}. {name}", width))
        p.text(_lines("   " + _("Loket") + " " + desks, width))
    p.text("-" * width + "\n")
    if ticket.bring:
        p.text(_lines(ticket.bring, width))
    p.set(align="center")
    p.qr(ticket.status_url, native=True, size=6 if paper_mm >= 80 else 4, center=False)
    p.text(_lines(_("Pindai kode QR untuk melihat antrean Anda."), width))
    p.cut()
    return p.output


def render_test_page(printer_name: str, paper_mm: int, when_wib: str) -> bytes:
    width = COLUMNS.get(paper_mm, 48)
    p = Dummy()
    p.set(align="center", bold=True, double_height=True, double_width=True)
    p.text(_lines(_("Halaman uji"), width // 2))
    p.set(align="center", normal_textsize=True)
    p.text(_lines(printer_name, width))
    p.text(_lines(_("Kertas %(mm)d mm", mm=paper_mm), width))
    p.text(_lines(when_wib, width))
    p.text("1234567890" * (width // 10) + "\n")
    p.cut()
    return p.output
