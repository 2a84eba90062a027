"""Print requests through the outbox (docs/outbox.md): the job and its outbox row ("print.ticket") are
written in the unit of work that asks for them (the ticket's own, at the kiosk); the outbox worker sends
them after the commit; each job prints at most once.

- The dedupe key is the visit and the print request (`print:visit:42:<press key>`): a repeated press, a
  retried request or a second worker never makes a second row, and a reprint is a new request with the
  reprint button's own key (one press of *Cetak ulang*, one ticket).
- The payload is self-contained (the ESC/POS bytes and where to send them), so any process can send it.
- The job is claimed (pending → sending) by one conditional UPDATE before anything goes to the printer: the
  outbox delivers at least once (a worker that died mid-send leaves its row to be claimed again), and the
  claim makes that "never twice" on paper.
- A printer problem is `outbox.Permanent`: no automatic retry. A ticket printed half an hour late, when the
  citizen has gone, is worse than none; the kiosk and reception show the problem and a reprint button.
"""
from __future__ import annotations

import base64

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import Printer, PrintJob, PrintStatus, Visit
from .. import DomainError, NotFound, audit, outbox
from ..clock import now, to_wib
from ..uow import unit_of_work
from . import escpos_render, transport
from .layout import ticket_layout
from .transport import PrinterProblem

KIND = "print.ticket"
KIND_PREFIX = "print."
MAX_KEY = 100


def _key(visit_id: int, request_key: str) -> str:
    return f"print:visit:{visit_id}:{request_key}"[:120]


@unit_of_work
def request_print(visit_id: int, printer_id: int, request_key: str, *, status_url: str,
                  priority_text: str = "", by_user_id: int | None) -> PrintJob:
    """A job to print the visit's ticket, once per `request_key` (a repeat returns the same job)."""
    key = _key(visit_id, request_key)
    job = db.session.scalar(sa.select(PrintJob).where(PrintJob.request_key == key))
    if job is not None:
        return job
    printer = db.session.get(Printer, printer_id)
    visit = db.session.get(Visit, visit_id)
    if printer is None or visit is None:
        raise NotFound(_l("Printer atau tiket tidak ditemukan."))
    data = escpos_render.render_ticket(ticket_layout(visit, status_url, priority_text), printer.paper_mm)
    job = PrintJob(request_key=key, visit_id=visit_id, printer_id=printer_id, status=PrintStatus.PENDING)
    db.session.add(job)
    db.session.flush()
    outbox.enqueue(KIND, key, {"job_id": job.id, "printer_id": printer.id, "connection": printer.connection,
                               "target": printer.target, "data": base64.b64encode(data).decode("ascii")},
                   event_id=visit.event_id)
    audit.record("print.request", "print_job", job.id, user_id=by_user_id, event_id=visit.event_id,
                 visit=visit_id, printer=printer_id)
    return job


def request_reprint(visit_id: int, printer_id: int, request_key: str, *, status_url: str,
                    priority_text: str = "", by_user_id: int | None) -> PrintJob:
    """Reprint from reception or the kiosk: a new request, keyed by the reprint button's own key."""
    request_key = (request_key or "").strip()
    if not request_key or len(request_key) > MAX_KEY or not request_key.replace("-", "").replace("_", "").isalnum():
        raise DomainError(_l("Permintaan cetak ulang tidak valid; muat ulang halaman."), field="reprint")
    try:
        return request_print(visit_id, printer_id, "reprint:" + request_key, status_url=status_url,
                             priority_text=priority_text, by_user_id=by_user_id)
    except IntegrityError:  # the same button pressed twice at once: the other request wrote it
        db.session.rollback()
        return db.session.scalar(sa.select(PrintJob).where(PrintJob.request_key == _key(visit_id, "reprint:" + request_key)))


@unit_of_work(audited=False)  # the sender's bookkeeping; the request was audited
def _claim(job_id: int) -> bool:
    table = PrintJob.__table__
    result = db.session.execute(sa.update(table).where(table.c.id == job_id, table.c.status == PrintStatus.PENDING)
                                .values(status=PrintStatus.SENDING, attempts=table.c.attempts + 1))
    return result.rowcount == 1


@unit_of_work(audited=False)
def _finish(job_id: int, printer_id: int, error: str | None) -> None:
    at = now()
    db.session.execute(sa.update(PrintJob.__table__).where(PrintJob.__table__.c.id == job_id).values(
        status=PrintStatus.FAILED if error else PrintStatus.SENT, error=error, sent_at=None if error else at))
    _note_printer(printer_id, error, at)


def _note_printer(printer_id: int, error: str | None, at) -> None:
    db.session.execute(sa.update(Printer.__table__).where(Printer.__table__.c.id == printer_id)
                       .values(last_error=error[:255] if error else None, last_checked_at=at))


class _Target:
    """What transport.send needs of a printer, from the payload (the sender reads no printer row)."""

    def __init__(self, connection: str, target: str):
        self.connection, self.target = connection, target


def send_print(kind: str, payload: dict) -> None:
    """The outbox's sender for "print.": claim the job, send its bytes, record the outcome."""
    job_id, printer_id = int(payload["job_id"]), int(payload["printer_id"])
    if not _claim(job_id):
        return  # already sent (or being sent) by an earlier delivery of this row: never twice on paper
    try:
        transport.send(_Target(payload["connection"], payload["target"]), base64.b64decode(payload["data"]))
    except PrinterProblem as exc:
        _finish(job_id, printer_id, exc.message)
        raise outbox.Permanent(f"printer {printer_id} did not print") from None
    _finish(job_id, printer_id, None)


def install_sender() -> None:
    """Every process that runs an outbox worker prints: printers need no configuration beyond their rows."""
    outbox.register_sender(KIND_PREFIX, send_print)


@unit_of_work(audited=False)
def _note_test(printer_id: int, error: str | None) -> None:
    _note_printer(printer_id, error, now())


def print_test_page(printer_id: int, *, by_user_id: int | None) -> str | None:
    """Send the printer's test page now, while the admin waits (not through the outbox: the admin wants the
    answer on the page); None when it printed, else the problem in words."""
    printer = db.session.get(Printer, printer_id)
    if printer is None:
        raise NotFound(_l("Printer tidak ditemukan."))
    error = None
    try:
        transport.send(printer, escpos_render.render_test_page(
            printer.name, printer.paper_mm, to_wib(now()).strftime("%d-%m-%Y %H.%M WIB")))
    except PrinterProblem as exc:
        error = exc.message
    _note_test(printer_id, error)
    return error


def last_job_for(visit_id: int) -> PrintJob | None:
    return db.session.scalar(sa.select(PrintJob).where(PrintJob.visit_id == visit_id)
                             .order_by(PrintJob.id.desc()).limit(1))

