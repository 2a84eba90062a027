"""Recordings an admin uploaded to replace the default voice-call clips (botram/static/audio/)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class VoiceClip(db.Model):
    """One replaced clip, e.g. `nomor-antrean` in the regency announcer's own voice.

    Keyed by the clip key; without a row the default file is served. The audio is small (a word or two),
    so it lives in the database: every worker process and a backup see the same voice.
    """

    __tablename__ = "voice_clip"

    key: Mapped[str] = mapped_column(sa.String(60), primary_key=True)
    # Deferred: the manifest and the admin list read keys and digests on every board load, never the bytes.
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    original_filename: Mapped[str] = mapped_column(sa.String(255), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by: Mapped["User | None"] = relationship()  # noqa: F821

    def __repr__(self) -> str:
        return f"<VoiceClip {self.key}>"
