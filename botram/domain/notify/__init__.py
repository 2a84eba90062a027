"""Messages to a citizen's phone (issue 22, docs/outbox.md "Messages"): "your turn is near" and "you are called",
for citizens who ticked "kirimi saya pesan". Written to the outbox in a unit of work, sent by its worker.

- Opt-in: `issue_visit(..., notify=True, locale=...)` at reception; booking and the kiosk call
  `record_opt_in(visit_id, phone, locale=..., by_user_id=...)` (the hook for them) once their visit exists.
- "called": `queue_called` inside call_next's unit of work, once per step (`called:step:UUID`): the call
  and its message are committed together or not at all.
- "near": `queue_near(event_id)`, run by the outbox worker whenever an event's queue changed: a waiting step
  of an opted-in visit with `BOTRAM_NOTIFY_NEAR_AHEAD` or fewer people ahead (the queue's own order,
  `wait.ahead_by_service`; N is the event's own, `near_ahead(event)`) gets one message (`near:step:UUID`). Being near is a state of the whole queue that
  any change may reach (a call at another desk, a no-show, a cancel), so it is looked for after each change
  rather than by each writer; a call pays nothing for it.

Texts carry the ticket code, the service, the desk and the event, never a name or NIK; the phone number is
in the payload only (the audit says "sent", not to whom).
"""
from __future__ import annotations

from collections import Counter

import lokal
import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import Desk, Event, EventStatus, Outbox, Service, Step, Visit
from .. import DomainError, NotFound, audit, field, outbox
from ..uow import unit_of_work
from . import texts

NEAR = "message.near"
CALLED = "message.called"
LOCALES = ("id", "en")


def enabled() -> bool:
    """A gateway is configured: the tick is offered and messages are queued. Off otherwise."""
    from .sender import configured_urls

    return bool(configured_urls(current_app.config.get("BOTRAM_NOTIFY_URLS", "")))


def near_ahead(event: Event | None = None) -> int:
    """How many people ahead (or fewer) make a turn "near": the event's own number when its coordinator set
    one, else BOTRAM_NOTIFY_NEAR_AHEAD. The message, the status page's notifier and the event form ask here."""
    if event is not None and event.notify_near_ahead:
        return event.notify_near_ahead
    return current_app.config["BOTRAM_NOTIFY_NEAR_AHEAD"]


def message_phone(raw: str | None) -> str:
    """The number a message can go to, as +62…; refused (field `phone`) when empty, invalid or a landline."""
    text = (raw or "").strip()
    if not text:
        raise DomainError(_l("Isi nomor HP untuk menerima pesan."), field="phone")
    parsed = lokal.parse_phone(text)
    if not parsed.valid:
        raise DomainError(_l("Nomor HP tidak valid; tulis seperti 0812-3456-7890."), field="phone")
    if parsed.type != "mobile":
        raise DomainError(_l("Pesan hanya bisa dikirim ke nomor HP, bukan telepon rumah atau kantor."),
                          field="phone")
    return parsed.e164


def clean_locale(locale: str | None) -> str:
    return locale if locale in LOCALES else "id"


@unit_of_work
def record_opt_in(visit_id: int, phone: str, *, locale: str | None = None, by_user_id: int | None = None) -> Visit:
    """The hook for booking and the kiosk: the citizen of `visit_id` asked for messages to `phone`.
    Refused (field `phone`) when messages are off or the number cannot take them."""
    if not enabled():
        raise DomainError(_l("Pengiriman pesan belum diatur di server ini."), field="notify")
    number = message_phone(phone)
    visit = db.session.scalar(sa.select(Visit).where(Visit.id == visit_id).with_for_update(key_share=True))
    if visit is None:
        raise NotFound(_l("Antrean tidak ditemukan."))
    visit.phone, visit.notify, visit.locale = number, True, clean_locale(locale)
    db.session.flush()
    audit.record("visit.notify_opt_in", "visit", visit.id, user_id=by_user_id, event_id=visit.event_id)
    return visit


def near_key(step_uuid: str) -> str:
    """At most one "near" per step. By the step's UUID, which is the same on a field laptop and the regency
    server (docs/field-sync.md): a message the laptop sent is known as sent after the check-in."""
    return f"near:step:{step_uuid}"


def called_key(step_uuid: str) -> str:
    return f"called:step:{step_uuid}"


def _payload(visit: Visit, text: str, step_id: int) -> dict:
    return {"phone": visit.phone, "text": text, "step_id": step_id, "visit_code": visit.code}


def queue_called(step_id: int, visit_id: int, desk_id: int) -> None:
    """Inside call_next's unit of work, for an opted-in visit: "tiket A-001 dipanggil ke Loket 2"."""
    row = db.session.execute(
        sa.select(Visit, Service.name, Desk.label, Event.title, Step.uuid)
        .join(Step, Step.visit_id == Visit.id).join(Service, Service.id == Step.service_id)
        .join(Desk, Desk.id == desk_id).join(Event, Event.id == Visit.event_id)
        .where(Step.id == step_id, Visit.id == visit_id)).first()
    if row is None or not row[0].notify or not row[0].phone:
        return
    visit, service, desk, event, step_uuid = row
    text = texts.called(visit.locale, code=visit.code, service=service, desk=desk, event=event)
    outbox.enqueue(CALLED, called_key(step_uuid), _payload(visit, text, step_id), event_id=visit.event_id)


def queue_near(event_id: int, ahead_at_most: int | None = None) -> int:
    """Queue "your turn is near" for every opted-in waiting step of the event with `ahead_at_most` (the
    setting) or fewer people ahead that has not had one. Returns how many were queued.

    The counting is a read done outside any write transaction: on SQLite a unit of work holds the writer
    lock, and desks calling must not wait behind a walk of the whole queue. Only the rows found are written,
    in a short unit of work (a key queued meanwhile by another process is a quiet no-op)."""
    due = near_due(event_id, ahead_at_most)
    db.session.rollback()  # end the read (SQLite: a reader cannot become a writer)
    return _enqueue_near(event_id, due) if due else 0


@unit_of_work(audited=False)
def _enqueue_near(event_id: int, due: list[tuple[str, dict]]) -> int:
    """Bookkeeping derived from the queue, not a person's action: the audit records the send (`outbox.sent`)."""
    for key, payload in due:
        outbox.enqueue(NEAR, key, payload, event_id=event_id)
    return len(due)


def near_due(event_id: int, ahead_at_most: int | None = None) -> list[tuple[str, dict]]:
    """(dedupe key, payload) of each "near" message the event's queue calls for now (a read)."""
    from ..queue import order, wait
    from ..queue_rules import current_rules

    event = db.session.get(Event, event_id)
    if event is None or event.status != EventStatus.OPEN or field.checkout_of(event_id) is not None:
        return []  # an event run on a field laptop: its queue here is frozen, the laptop sends its messages
    limit = near_ahead(event) if ahead_at_most is None else ahead_at_most
    candidates = list(db.session.execute(
        sa.select(Step, Visit, Service.name).join(Visit, Visit.id == Step.visit_id)
        .join(Service, Service.id == Step.service_id)
        .where(Step.event_id == event_id, Step.status == "waiting", Visit.notify.is_(True),
               Visit.phone.is_not(None))))
    if not candidates:
        return []
    done = set(db.session.scalars(sa.select(Outbox.dedupe_key).where(
        Outbox.event_id == event_id, Outbox.kind == NEAR)))
    shape = wait.queue_shape(event_id)
    cap = current_rules().priority_cap
    # People ahead of every waiting step at once: one walk of the queue's order per group of desks (the
    # order played forward, as wait.ahead_by_service does for one step), not one walk per step.
    groups: dict[int, tuple[frozenset, int]] = {}

    def group(service_id: int) -> tuple[frozenset, int]:
        if service_id not in groups:
            groups[service_id] = (frozenset(shape.shared_services(service_id)), shape.streak_for(service_id))
        return groups[service_id]

    ahead: dict[int, int] = {}
    walked: set[tuple] = set()
    for step, _visit, _service in candidates:
        services, streak = key = group(step.service_id)
        if key in walked:
            continue
        walked.add(key)
        seen_of_visit: Counter = Counter()
        for position, row in enumerate(order.call_sequence(order.waiting_rows(event_id, services),
                                                           streak=streak, cap=cap)):
            if group(row.service_id) == key:  # a step whose own desks are these: this walk is its order
                ahead[row.step_id] = position - seen_of_visit[row.visit_id]
            seen_of_visit[row.visit_id] += 1
    due = []
    for step, visit, service in candidates:
        key = near_key(step.uuid)
        if key in done or not shape.open_desks_offering(step.service_id):
            continue  # no open desk: nobody can say the turn is near
        people = ahead.get(step.id)
        if people is None or people > limit:
            continue
        text = texts.near(visit.locale, code=visit.code, service=service, ahead=people, event=event.title)
        due.append((key, _payload(visit, text, step.id)))
    return due
