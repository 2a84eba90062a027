"""Security records shared by every server process: failed sign-ins (for lockout) and signed-in sessions.

Both live in the database, not in memory, so a lockout holds across several worker processes and a
restart, and a session ended by logout or idle time stays ended even if its cookie is replayed.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow


class LoginFailure(db.Model):
    """One failed sign-in. Holds the username typed (lower-cased, cut to 40) and the client address,
    never the password."""

    __tablename__ = "login_failure"
    __table_args__ = (sa.Index("ix_login_failure_username_at", "username", "at"),
                      sa.Index("ix_login_failure_ip_at", "ip", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    username: Mapped[str] = mapped_column(sa.String(40))
    ip: Mapped[str] = mapped_column(sa.String(45))


class LoginSession(db.Model):
    """A signed-in browser session. The cookie carries a random id; only its SHA-256 is stored."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(sa.String(12))  # logout, idle, expired; password, deactivated, role_change (domain.users)


class IdempotentRequest(db.Model):
    """An API write sent with an `Idempotency-Key` header, so that a repeat answers the first answer.

    The row is written in the same transaction as the write it guards (see `botram.domain.idempotency`):
    if it exists, the write happened. The answer is stored right after; a day later the key may be reused.
    """

    __tablename__ = "idempotent_request"
    __table_args__ = (sa.UniqueConstraint("user_id", "route", "key", name="uq_idempotent_request_user_route_key"),
                      sa.Index("ix_idempotent_request_created_at", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    route: Mapped[str] = mapped_column(sa.String(200))  # "POST /api/v1/desks/3/call-next"
    key: Mapped[str] = mapped_column(sa.String(200))
    request_hash: Mapped[str] = mapped_column(sa.String(64))  # SHA-256 of the body: a different body is refused
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[int | None] = mapped_column()  # None until the answer is stored
    content_type: Mapped[str | None] = mapped_column(sa.String(100))
    body: Mapped[str | None] = mapped_column(sa.Text)
