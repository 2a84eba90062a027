"""Personal data retention (UU PDP No. 27/2022): remove what identifies a citizen once it is no longer needed.

`purge_pii(older_than)` clears the name, NIK and phone of every visit of a *closed* event held more than
`older_than` ago, and the officers' free-text notes on its steps (a note may name someone). Everything
the statistics need stays: visits and their codes, steps with their services, states, outcomes and
times, amounts, requirements presented, survey scores and the respondent profile. Events that are not
closed are never touched, whatever their date. Each purge is audited with counts only.

Survey comments are kept, since what citizens write is what the SKM report is for, but anything in them
that identifies someone by number (a NIK, a phone number, any run of nine or more digits) or an e-mail
address is replaced by "[dihapus]". A name written into a comment cannot be told from other words and
stays: the survey form asks respondents not to write one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Event, EventStatus, Step, SurveyResponse, Visit
from . import DomainError, audit
from .clock import now, today_wib
from .uow import unit_of_work

DURATION = re.compile(r"^\s*(\d{1,5})\s*([dw]?)\s*$", re.I)


def parse_age(text: str) -> timedelta:
    """'90d' (days, the default unit) or '13w' (weeks)."""
    match = DURATION.match(text or "")
    if not match:
        raise DomainError(_l("Umur data ditulis seperti 90d (hari) atau 13w (minggu)."), field="older_than")
    amount, unit = int(match.group(1)), match.group(2).lower()
    return timedelta(weeks=amount) if unit == "w" else timedelta(days=amount)


# Nine or more digits (a date like 12.03.2026 has eight), allowing the spaces, dots and dashes people write between groups
# ("0812-3456-7890", "3216 0145 0895 0001", "+62 812 ..."), and e-mail addresses.
IDENTIFYING = re.compile(r"\+?\d(?:[\s.\-]?\d){8,}|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
REDACTED = "[dihapus]"


def redact(text: str) -> str:
    return IDENTIFYING.sub(REDACTED, text)


@dataclass
class PurgeResult:
    events: int
    visits: int
    notes: int
    comments: int = 0


def purgeable_events(older_than: timedelta) -> list[int]:
    cutoff = today_wib() - older_than
    return list(db.session.scalars(sa.select(Event.id).where(
        Event.status == EventStatus.CLOSED.value, Event.date < cutoff).order_by(Event.id)))


@unit_of_work
def purge_pii(older_than: timedelta, *, dry_run: bool = False, by_user_id: int | None = None) -> PurgeResult:
    """Clear names, NIK, phones (and step notes) of closed events older than `older_than`."""
    if older_than < timedelta(days=1):
        raise DomainError(_l("Data hanya dapat dihapus untuk kegiatan yang selesai paling sedikit 1 hari lalu."),
                          field="older_than")
    event_ids = purgeable_events(older_than)
    if not event_ids:
        return PurgeResult(0, 0, 0)
    has_pii = sa.or_(Visit.name.is_not(None), Visit.nik.is_not(None), Visit.phone.is_not(None))
    visits = db.session.scalar(sa.select(sa.func.count(Visit.id)).where(Visit.event_id.in_(event_ids), has_pii))
    notes = db.session.scalar(sa.select(sa.func.count(Step.id)).where(Step.event_id.in_(event_ids),
                                                                      Step.note.is_not(None)))
    comments = [(response_id, redact(text)) for response_id, text in db.session.execute(
        sa.select(SurveyResponse.id, SurveyResponse.comment).where(
            SurveyResponse.event_id.in_(event_ids), SurveyResponse.comment.is_not(None)))
        if redact(text) != text]
    if dry_run:
        return PurgeResult(len(event_ids), visits, notes, len(comments))
    for response_id, text in comments:
        db.session.execute(sa.update(SurveyResponse).where(SurveyResponse.id == response_id).values(comment=text)
                           .execution_options(synchronize_session=False))
    db.session.execute(sa.update(Visit).where(Visit.event_id.in_(event_ids), has_pii)
                       .values(name=None, nik=None, phone=None).execution_options(synchronize_session=False))
    # The mark a field import reads so that it never brings the data back (docs/field-sync.md).
    db.session.execute(sa.update(Visit).where(Visit.event_id.in_(event_ids), Visit.pii_purged_at.is_(None))
                       .values(pii_purged_at=now()).execution_options(synchronize_session=False))
    db.session.execute(sa.update(Step).where(Step.event_id.in_(event_ids), Step.note.is_not(None))
                       .values(note=None).execution_options(synchronize_session=False))
    audit.record("privacy.purge", "event", None, user_id=by_user_id, events=event_ids, visits=visits, notes=notes,
                 comments=len(comments), older_than_days=older_than.days)
    db.session.expire_all()
    return PurgeResult(len(event_ids), visits, notes, len(comments))


@unit_of_work
def note_nik_revealed(step: Step, desk, *, by_user_id: int) -> None:
    """A desk officer looked at a visitor's NIK in clear: who, where and for which step (never the NIK)."""
    audit.record("visit.reveal_nik", "visit", step.visit_id, user_id=by_user_id, event_id=desk.event_id,
                 step_id=step.id, desk_id=desk.id)
