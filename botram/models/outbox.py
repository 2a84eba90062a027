"""The outbox: what must leave the app (a message to a citizen's phone, a ticket to print), written in the same
transaction as the change that causes it and sent after the commit by a worker (docs/outbox.md)."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its first send or a retry (next_attempt_at)
    SENT = "sent"
    FAILED = "failed"  # the sender refused it for good (a malformed payload): no retry
    GIVEN_UP = "given_up"  # retried until the give-up time the admin set, never delivered


class Outbox(db.Model):
    """One side effect to carry out once. `dedupe_key` makes it at most once per cause ("near:visit:42")."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))  # "message.near", "print.ticket": senders match a prefix
    dedupe_key: Mapped[str] = mapped_column(sa.String(120), unique=True)
    payload: Mapped[dict] = mapped_column(sa.JSON)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("event.id"), index=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A worker that claimed the row owns it until then; past it (the worker died mid-send) it is claimable again.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(200))  # the error's type and a short reason, no PII
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
