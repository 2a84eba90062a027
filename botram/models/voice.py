"""Recordings an admin uploaded to replace the default voice-call clips (botram/static/audio/)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .uploads import UploadedFile


class VoiceClip(UploadedFile, db.Model):
    """One replaced clip, e.g. `nomor-antrean` in the regency announcer's own voice.

    Keyed by the clip key; without a row the default file is served. The audio is small (a word or two),
    so it lives in the database: every worker process and a backup see the same voice.
    """

    __tablename__ = "voice_clip"

    key: Mapped[str] = mapped_column(sa.String(60), primary_key=True)

    def __repr__(self) -> str:
        return f"<VoiceClip {self.key}>"
