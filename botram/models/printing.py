"""Thermal printers, the print jobs sent to them, and the kiosk's presses (one press, one ticket)."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import StableId, UTCDateTime, utcnow


class PrinterConnection(enum.StrEnum):
    NETWORK = "network"  # raw TCP, host:9100
    USB = "usb"          # the kernel's printer device file, e.g. /dev/usb/lp0
    CUPS = "cups"        # a CUPS queue, sent raw through `lp`


class Printer(StableId, db.Model):
    """An ESC/POS thermal printer, attached to a kiosk's device token or to a reception computer (station).
    A kiosk's printer travels to a field laptop with its token (docs/field-sync.md)."""

    __tablename__ = "printer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    connection: Mapped[str] = mapped_column(sa.String(10), default=PrinterConnection.NETWORK)
    target: Mapped[str] = mapped_column(sa.String(200))  # host:port, device path or CUPS queue name
    paper_mm: Mapped[int] = mapped_column(default=80)
    token_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_token.id"))
    station: Mapped[str | None] = mapped_column(sa.String(80))  # a reception computer's name
    active: Mapped[bool] = mapped_column(default=True)
    # The last send's outcome, shown on the admin page, at reception and at the kiosk.
    last_error: Mapped[str | None] = mapped_column(sa.String(255))
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    token = relationship("ApiToken")


class PrintStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by one sender: nobody else sends it
    SENT = "sent"
    FAILED = "failed"


class PrintJob(db.Model):
    """One request to print one ticket on one printer. `request_key` is unique: a repeated press or a
    retried request finds its job instead of printing again; a reprint is a new request with a new key."""

    __tablename__ = "print_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id"), index=True)
    printer_id: Mapped[int] = mapped_column(sa.ForeignKey("printer.id"))
    status: Mapped[str] = mapped_column(sa.String(10), default=PrintStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    printer: Mapped[Printer] = relationship()


class KioskPress(db.Model):
    """The key of one press of a kiosk's ticket button and the visit it made: a double tap or a retried
    request answers the same ticket."""

    __tablename__ = "kiosk_press"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id"))
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
