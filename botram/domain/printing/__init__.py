"""Silent printing of tickets on ESC/POS thermal printers (docs/operations.md, "Printers").

- `layout.py`: what a ticket says (code, services in order, desks, status URL, what to bring, time WIB);
- `escpos_render.py`: that layout as ESC/POS bytes, rendered by python-escpos (native QR, cut);
- `transport.py`: the bytes to a printer over TCP (host:9100), a USB printer device or a CUPS queue;
- `printers.py`: the admin's printers (create, edit, remove) and which printer a kiosk or reception uses;
- `jobs.py`: a print request written in the ticket's unit of work as an outbox row ("print.ticket"), sent
  after the commit by the outbox worker, never twice on paper.
"""
from . import printers
from .jobs import install_sender, last_job_for, print_test_page, request_print, request_reprint, send_print
from .printers import (PRINTER_FIELDS, PrinterInput, create_printer, delete_printer, printer_for_station,
                       printer_for_token, update_printer)
from .transport import PrinterProblem

__all__ = ["PRINTER_FIELDS", "PrinterInput", "PrinterProblem", "create_printer", "delete_printer",
           "install_sender", "last_job_for", "send_print", "print_test_page", "printer_for_station", "printer_for_token", "request_print",
           "request_reprint", "update_printer"]
