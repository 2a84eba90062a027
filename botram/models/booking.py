"""Bookings made before the day (pendaftaran daring): the coordinator's plan for an event (windows, quotas per
service and window, a closing time) and the citizens' bookings. The rules live in botram/domain/booking/."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import StableId, UTCDateTime, utcnow


class BookingStatus(enum.StrEnum):
    """A booking is `booked` until it is checked in (a visit), cancelled, or, once its window ended plus the
    grace, counted as a no-show (computed on read: domain/booking/release.py)."""

    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"


class BookingPlan(StableId, db.Model):
    """Booking opened for one event: when it closes and how long a window's places wait for a late booker."""

    __tablename__ = "booking_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"), unique=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    grace_minutes: Mapped[int] = mapped_column(default=15)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    windows: Mapped[list["BookingWindow"]] = relationship(
        back_populates="plan", order_by="BookingWindow.starts_at", cascade="all, delete-orphan")


class BookingWindow(StableId, db.Model):
    """A time window of the day (e.g. 14.00–16.00 WIB) citizens book."""

    __tablename__ = "booking_window"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("booking_plan.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    plan: Mapped[BookingPlan] = relationship(back_populates="windows")
    quotas: Mapped[list["BookingQuota"]] = relationship(
        back_populates="window", order_by="BookingQuota.service_id", cascade="all, delete-orphan")


class BookingQuota(StableId, db.Model):
    """How many places of one service may be booked in one window, and how many are taken. The row a booking
    takes its place from with a conditional UPDATE (`taken < quota`), so a rush cannot overbook it."""

    __tablename__ = "booking_quota"
    __table_args__ = (sa.UniqueConstraint("window_id", "service_id"),
                      sa.CheckConstraint("taken >= 0 AND taken <= quota", name="taken"))

    id: Mapped[int] = mapped_column(primary_key=True)
    window_id: Mapped[int] = mapped_column(sa.ForeignKey("booking_window.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("service.id"))
    quota: Mapped[int] = mapped_column(default=0)
    taken: Mapped[int] = mapped_column(default=0)

    window: Mapped[BookingWindow] = relationship(back_populates="quotas")
    service: Mapped["Service"] = relationship()  # noqa: F821


booking_service = sa.Table(
    "booking_service",
    db.metadata,
    sa.Column("booking_id", sa.ForeignKey("booking.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("service_id", sa.ForeignKey("service.id"), primary_key=True),
)


class Booking(StableId, db.Model):
    """One citizen's booked place: services in one window. Phone required, name and NIK optional; none of them
    is ever public. `code` is read aloud and typed by a scanner; `token` opens the private page."""

    __tablename__ = "booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id"), index=True)
    window_id: Mapped[int] = mapped_column(sa.ForeignKey("booking_window.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(8), unique=True)
    token: Mapped[str] = mapped_column(sa.String(43), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20), index=True)  # +62…; None once purged
    name: Mapped[str | None] = mapped_column(sa.String(120))
    nik: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    status: Mapped[str] = mapped_column(sa.String(12), default=BookingStatus.BOOKED)
    package_id: Mapped[int | None] = mapped_column(sa.ForeignKey("life_event_package.id"))
    # A hash of the address it came from: throttling without keeping the address itself.
    origin: Mapped[str] = mapped_column(sa.String(16), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit.id"))
    pii_purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The citizen ticked "kirimi saya pesan": confirmation, day-before reminder, cancelled/moved notes go to
    # `phone` in `locale` (docs/outbox.md, "Booking messages"). Never on by default.
    notify: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    locale: Mapped[str | None] = mapped_column(sa.String(5))

    window: Mapped[BookingWindow] = relationship()
    services: Mapped[list["Service"]] = relationship(  # noqa: F821
        secondary=booking_service, order_by="Service.code")
