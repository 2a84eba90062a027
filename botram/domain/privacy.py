"""Personal data retention (UU PDP No. 27/2022): remove what identifies a citizen once it is no longer needed.

`purge_pii(older_than)` clears the name, NIK and phone of every visit and every booking of a *closed* event held
more than `older_than` ago, the officers' free-text notes on its steps (a note may name someone), and the number
and text of every message sent to its citizens (the outbox row stays: that a message was sent, not to whom). Everything
the statistics need stays: visits and their codes, steps with their services, states, outcomes and
times, amounts, requirements presented, survey scores and the respondent profile. Events that are not
closed are never touched, whatever their date. Each purge is audited with counts only.

Survey comments are kept, since what citizens write is what the SKM report is for, but anything in them
that identifies someone by number (a NIK, a phone number, any run of nine or more digits) or an e-mail
address is replaced by "[dihapus]". A name written into a comment cannot be told from other words and
stays: the survey form asks respondents not to write one. Until the purge, every page that shows a comment
shows it through `redact` too (`skm.comments`), so the raw text is kept but never displayed.

`personal_number` is the guard of what goes up on the public board (the running text refuses what it finds);
`redact` masks the same findings, and what the purge has always masked besides.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import lokal
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Booking, Event, EventStatus, Outbox, Step, SurveyResponse, Visit
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


# A long run of digits (a NIK lokal-id cannot parse, a bank account, a phone written without its prefix)
# is personal data as far as a public projector is concerned; times and dates are short groups and pass.
DIGIT_RUN = re.compile(r"\d{9,}")
# Nine or more digits (a date like 12.03.2026 has eight), allowing the spaces, dots and dashes people write between groups
# ("0812-3456-7890", "3216 0145 0895 0001", "+62 812 ..."), and e-mail addresses.
IDENTIFYING = re.compile(r"\+?\d(?:[\s.\-]?\d){8,}|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
REDACTED = "[dihapus]"


def _detected(text: str) -> list:
    return lokal.detect_pii(text, types=["NIK", "PHONE"])


def personal_number(text: str) -> str | None:
    """The first NIK-like or phone-like number in `text` (what must not go up on the public board), or None.
    lokal-id recognises NIKs and Indonesian phone numbers written with spaces, dots or dashes (+62…, 08…,
    (021)…); any other run of nine or more digits counts too."""
    found = _detected(text)
    if found:
        return found[0].value
    match = DIGIT_RUN.search(text)
    return match.group(0) if match else None


def redact(text: str) -> str:
    """`text` with every number `personal_number` would find, and every e-mail address, replaced by
    "[dihapus]" (overlapping findings become one)."""
    spans = sorted([(m.start, m.end) for m in _detected(text)]
                   + [m.span() for m in IDENTIFYING.finditer(text)] + [m.span() for m in DIGIT_RUN.finditer(text)])
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + REDACTED + text[end:]
    return text


@dataclass
class PurgeResult:
    events: int
    visits: int
    notes: int
    comments: int = 0
    bookings: int = 0


def purgeable_events(older_than: timedelta) -> list[int]:
    cutoff = today_wib() - older_than
    return list(db.session.scalars(sa.select(Event.id).where(
        Event.status == EventStatus.CLOSED, Event.date < cutoff).order_by(Event.id)))


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
    booking_pii = sa.or_(Booking.name.is_not(None), Booking.nik.is_not(None), Booking.phone.is_not(None))
    bookings = db.session.scalar(sa.select(sa.func.count(Booking.id)).where(Booking.event_id.in_(event_ids),
                                                                            booking_pii))
    if dry_run:
        return PurgeResult(len(event_ids), visits, notes, len(comments), bookings)
    db.session.execute(sa.update(Booking).where(Booking.event_id.in_(event_ids), booking_pii)
                       .values(name=None, nik=None, phone=None, pii_purged_at=now())
                       .execution_options(synchronize_session=False))
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
    # Messages to citizens keep their number and text in the payload: only that they were sent stays.
    messages = db.session.execute(
        sa.update(Outbox).where(Outbox.event_id.in_(event_ids), Outbox.kind.startswith("message."))
        .values(payload={}).execution_options(synchronize_session=False)).rowcount
    db.session.execute(sa.update(Visit).where(Visit.event_id.in_(event_ids), Visit.notify.is_(True))
                       .values(notify=False).execution_options(synchronize_session=False))
    audit.record("privacy.purge", "event", None, user_id=by_user_id, events=event_ids, visits=visits, notes=notes,
                 comments=len(comments), messages=messages, bookings=bookings, older_than_days=older_than.days)
    from . import summaries  # summaries reads through skm, which imports this module: imported when needed

    # Of what a summary keeps only the comments can change here (names, NIK, phones and notes are never in a
    # report), so only the events whose comments were rewritten are computed again.
    rewritten = set(db.session.scalars(sa.select(SurveyResponse.event_id).where(
        SurveyResponse.id.in_([response_id for response_id, _text in comments])))) if comments else set()
    for event_id in sorted(rewritten):
        summaries.refresh(event_id)
    db.session.expire_all()
    return PurgeResult(len(event_ids), visits, notes, len(comments), bookings)


@unit_of_work
def note_nik_revealed(step: Step, desk, *, by_user_id: int) -> None:
    """A desk officer looked at a visitor's NIK in clear: who, where and for which step (never the NIK)."""
    audit.record("visit.reveal_nik", "visit", step.visit_id, user_id=by_user_id, event_id=desk.event_id,
                 step_id=step.id, desk_id=desk.id)
