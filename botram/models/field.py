"""Field sync bookkeeping (docs/field-sync.md): which install this is, and which events are lent to a laptop.

`Install` holds one row: the identity of this database, written into every bundle it makes, so that a bundle
meant for another server is refused. `FieldCheckout` says where an event is: on the regency server a row with
role `out` (lent to the laptop `device`; queue writes for the event are refused while it is not released), on
the laptop a row with role `held` (the event came from the server `peer_install`).
"""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, new_uuid, utcnow


class CheckoutRole(enum.StrEnum):
    OUT = "out"    # server: the event is on a laptop
    HELD = "held"  # laptop: the event came from a server


class Install(db.Model):
    __tablename__ = "install"

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FieldCheckout(db.Model):
    __tablename__ = "field_checkout"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(4))
    device: Mapped[str] = mapped_column(sa.String(80))
    peer_install: Mapped[str | None] = mapped_column(sa.String(36))
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the laptop made the last check-in bundle applied here; an older bundle changes nothing.
    last_checkin_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checkins: Mapped[int] = mapped_column(default=0)
    # Check-ins are numbered by the laptop (docs/field-sync.md): on a laptop's row the last number it gave, on the
    # server's row the last number it applied. A check-in at or below it changes nothing.
    sequence: Mapped[int] = mapped_column(default=0, server_default="0")
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_reason: Mapped[str | None] = mapped_column(sa.Text)
    by_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    event: Mapped["Event"] = relationship()  # noqa: F821
