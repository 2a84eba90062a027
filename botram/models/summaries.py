"""The figures of a closed event, computed once (botram/domain/summaries.py) so that reports over years read a
row per event instead of every step of every event."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class EventSummary(db.Model):
    """One closed event's report figures as of `computed_at`. The counts the regency view adds up across events
    are columns; the rest of the event report (groups, hours, IKM, profile) is `figures`, by ids: names come
    from the live catalogue when the report is shown, so a renamed agency is shown by its new name."""

    __tablename__ = "event_summary"

    event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id"), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    visits: Mapped[int] = mapped_column(sa.Integer)
    done_steps: Mapped[int] = mapped_column(sa.Integer)
    respondents: Mapped[int] = mapped_column(sa.Integer)
    score_totals: Mapped[dict] = mapped_column(sa.JSON)  # unsur key -> Σ scores, what skm.ikm_from_totals needs
    # [[desa code, desa, kecamatan, n], ...]: where its respondents asked BOTRAM to go next (the regency view
    # adds these up over a year; a column of its own, so the database need not parse `figures` to find them)
    requests: Mapped[list] = mapped_column(sa.JSON)
    figures: Mapped[dict] = mapped_column(sa.JSON)
    # Booked vs walk-in (domain/booking/report.py `summary_of`): {"rows": the report's rows by service id,
    # "totals": {service id: sums the regency view adds up}}; both empty for an event without booking. NULL: a row
    # from before this column, read live until `botram refresh-summaries` computes it.
    booking: Mapped[dict | None] = mapped_column(sa.JSON(none_as_null=True), nullable=True)
