"""The columns every file an admin uploads into the database carries (a voice clip, the crest)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from .types import UTCDateTime, utcnow


class UploadedFile:
    """Mixin: the bytes (deferred: lists and letter pages read only the digest), their sniffed type and
    size, the SHA-256 that versions their URL, and who uploaded them when."""

    data: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    original_filename: Mapped[str] = mapped_column(sa.String(255), default="")
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @declared_attr
    def uploaded_by_id(cls) -> Mapped[int | None]:
        return mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    @declared_attr
    def uploaded_by(cls) -> Mapped["User | None"]:  # noqa: F821
        return relationship()
