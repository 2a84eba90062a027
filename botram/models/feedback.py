"""Citizen satisfaction: SKM survey responses (Permenpan RB No. 14/2017), one per visit.

The nine elements (unsur) are integer columns named exactly as the API keys; each holds 1..4.
The rules (validation, IKM, grades, sample size) live in botram/domain/skm.py.
"""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import StableId, UTCDateTime, utcnow

# The nine SKM elements, in the regulation's order; the API and the columns use these keys.
UNSUR_KEYS = ("persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi", "perilaku", "sarana",
              "pengaduan")


class SurveyChannel(enum.StrEnum):
    QR = "qr"        # the citizen's own phone, from the QR on the ticket
    KIOSK = "kiosk"  # a staff-signed-in tablet at the exit
    PAPER = "paper"  # a paper form typed in by staff


class SurveyResponse(StableId, db.Model):
    """One visit's answers to the nine-element SKM survey, with the optional respondent profile."""

    __tablename__ = "survey_response"
    __table_args__ = tuple(
        sa.CheckConstraint(f"{key} BETWEEN 1 AND 4", name=f"{key}_range") for key in UNSUR_KEYS
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id", ondelete="CASCADE"), unique=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(8), default=SurveyChannel.QR)

    persyaratan: Mapped[int] = mapped_column(sa.SmallInteger)
    prosedur: Mapped[int] = mapped_column(sa.SmallInteger)
    waktu: Mapped[int] = mapped_column(sa.SmallInteger)
    biaya: Mapped[int] = mapped_column(sa.SmallInteger)
    produk: Mapped[int] = mapped_column(sa.SmallInteger)
    kompetensi: Mapped[int] = mapped_column(sa.SmallInteger)
    perilaku: Mapped[int] = mapped_column(sa.SmallInteger)
    sarana: Mapped[int] = mapped_column(sa.SmallInteger)
    pengaduan: Mapped[int] = mapped_column(sa.SmallInteger)

    # Optional respondent profile, as the regulation's report tabulates it.
    sex: Mapped[str | None] = mapped_column(sa.String(1))            # L / P
    age_band: Mapped[str | None] = mapped_column(sa.String(8))       # e.g. "<20", "20-29" ... "60+"
    education: Mapped[str | None] = mapped_column(sa.String(12))     # sd, smp, sma, d1-d3, s1, s2+
    occupation: Mapped[str | None] = mapped_column(sa.String(16))    # pns, tni-polri, swasta, wirausaha, ...

    comment: Mapped[str | None] = mapped_column(sa.Text)
    next_desa_code: Mapped[str | None] = mapped_column(sa.ForeignKey("region.code"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))  # staff, for paper/kiosk

    visit: Mapped["Visit"] = relationship()  # noqa: F821
    next_desa: Mapped["Region | None"] = relationship()  # noqa: F821

    def scores(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in UNSUR_KEYS}

    def __repr__(self) -> str:
        return f"<SurveyResponse visit={self.visit_id}>"
