"""The audit log: who did what, when. Never holds a name, NIK or phone in clear."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import StableId, UTCDateTime, utcnow


class AuditLog(StableId, db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    action: Mapped[str] = mapped_column(sa.String(60))
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[int | None]
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("event.id"), index=True)
    detail: Mapped[dict | None] = mapped_column(sa.JSON)

    user: Mapped["User | None"] = relationship()  # noqa: F821
