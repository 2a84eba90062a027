"""BOTRAM events and the desks set up at them."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import StableId, UTCDateTime, utcnow


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class DeskState(enum.StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class Event(StableId, db.Model):
    __tablename__ = "event"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(160))
    date: Mapped[date] = mapped_column(sa.Date, index=True)
    venue: Mapped[str] = mapped_column(sa.String(200))
    kecamatan_code: Mapped[str] = mapped_column(sa.ForeignKey("region.code"))
    desa_code: Mapped[str | None] = mapped_column(sa.ForeignKey("region.code"))
    # Planned hours, stored UTC; forms and pages speak WIB.
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(10), default=EventStatus.DRAFT)
    running_text: Mapped[str] = mapped_column(sa.Text, default="")
    # Set while a draft is announced: on the public schedule and bookable, not yet open (domain/visibility.py).
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by every queue change; the board and desk consoles watch it.
    queue_version: Mapped[int] = mapped_column(default=0)
    # "Your turn is near" goes at this many people ahead (1..20, the coordinator's choice for this event);
    # None: the server's BOTRAM_NOTIFY_NEAR_AHEAD (notify.near_ahead is the one place that decides).
    notify_near_ahead: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    kecamatan: Mapped["Region"] = relationship(foreign_keys=[kecamatan_code])  # noqa: F821
    desa: Mapped["Region | None"] = relationship(foreign_keys=[desa_code])  # noqa: F821
    desks: Mapped[list["Desk"]] = relationship(
        back_populates="event", order_by="Desk.number", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title!r}>"


desk_service = sa.Table(
    "desk_service",
    db.metadata,
    sa.Column("desk_id", sa.ForeignKey("desk.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("service_id", sa.ForeignKey("service.id"), primary_key=True),
)


class Desk(StableId, db.Model):
    """A numbered desk (loket) of one agency at one event, with its own hours and state."""

    __tablename__ = "desk"
    __table_args__ = (sa.UniqueConstraint("event_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(sa.ForeignKey("agency.id"))
    number: Mapped[int]
    label: Mapped[str] = mapped_column(sa.String(80))
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(sa.String(10), default=DeskState.CLOSED)
    # Consecutive priority calls, for the fairness cap (call_next in docs/queue-domain.md).
    priority_streak: Mapped[int] = mapped_column(default=0)
    # Consecutive due booked calls, for the walk-ins' fairness cap (queue/order.py rule 3).
    booked_streak: Mapped[int] = mapped_column(default=0, server_default="0")

    event: Mapped[Event] = relationship(back_populates="desks")
    agency: Mapped["Agency"] = relationship()  # noqa: F821
    services: Mapped[list["Service"]] = relationship(  # noqa: F821
        secondary=desk_service, order_by="Service.code"
    )

    def __repr__(self) -> str:
        return f"<Desk {self.event_id}/{self.number}>"
