"""Visits (tickets) and their steps, one per requested service. The rules live in botram/domain/queue/."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import StableId, UTCDateTime, utcnow


class Priority(enum.StrEnum):
    """Priority groups of UU 25/2009; rank 0 is served first."""

    LANSIA = "lansia"
    DISABILITAS = "disabilitas"
    HAMIL = "hamil"  # ibu hamil / anak kecil
    NONE = "none"

    @property
    def rank(self) -> int:
        return 1 if self is Priority.NONE else 0


class StepStatus(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    CANCELLED = "cancelled"


ACTIVE_STEP_STATES = (StepStatus.CALLED, StepStatus.SERVING)


class Visit(StableId, db.Model):
    """A ticket: one citizen's visit to one event. Personal fields are optional and never public."""

    __tablename__ = "visit"
    __table_args__ = (sa.UniqueConstraint("event_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(10))  # e.g. A-047
    letter: Mapped[str] = mapped_column(sa.String(1))
    seq: Mapped[int]
    name: Mapped[str | None] = mapped_column(sa.String(120))
    nik: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))  # +62… (botram/domain/notify/phone.py)
    # The citizen ticked "kirimi saya pesan": messages go to `phone` (never on by default), in `locale`.
    notify: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    locale: Mapped[str | None] = mapped_column(sa.String(5))
    priority: Mapped[str] = mapped_column(sa.String(12), default=Priority.NONE)
    public_token: Mapped[str] = mapped_column(sa.String(43), unique=True)
    # The desk currently calling or serving this visit; the guard that keeps it at one desk at a time.
    busy_desk_id: Mapped[int | None] = mapped_column(sa.ForeignKey("desk.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    # Came through a booking (pendaftaran daring); the desk marks its ticket, nothing else shows it.
    booked: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Set by `purge-pii`: the name, NIK, phone and notes are gone for good, and no field import brings them back.
    pii_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped["Event"] = relationship()  # noqa: F821
    steps: Mapped[list["Step"]] = relationship(
        back_populates="visit", order_by="Step.position", cascade="all, delete-orphan"
    )


class Step(StableId, db.Model):
    """One requested service of a visit, waiting in that service's queue from registration."""

    __tablename__ = "step"
    __table_args__ = (
        sa.Index("ix_step_queue", "event_id", "service_id", "status", "priority_rank", "arrived_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id"))
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("service.id"))
    position: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(12), default=StepStatus.WAITING)
    priority_rank: Mapped[int] = mapped_column(default=1)
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # kept on transfer
    # The start of the booked window of a booker checked in by then (None: a walk-in); the order's booked band.
    booked_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    desk_id: Mapped[int | None] = mapped_column(sa.ForeignKey("desk.id"))
    served_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recall_count: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str | None] = mapped_column(sa.String(12))  # done, incomplete, referred
    note: Mapped[str | None] = mapped_column(sa.Text)
    amount: Mapped[int | None] = mapped_column(sa.BigInteger)  # integer rupiah
    requirements_presented: Mapped[list | None] = mapped_column(sa.JSON)  # requirement ids
    transferred_from_id: Mapped[int | None] = mapped_column(sa.ForeignKey("step.id"))

    visit: Mapped[Visit] = relationship(back_populates="steps")
    service: Mapped["Service"] = relationship()  # noqa: F821
    desk: Mapped["Desk | None"] = relationship()  # noqa: F821
