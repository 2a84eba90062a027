"""A desk serves the called visitor: starts, finishes with an outcome (documents shown, amount, note), and
takes back within seconds a hasty "Selesai" or "Tidak hadir"."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ...extensions import db
from ...models import ACTIVE_STEP_STATES, Desk, Requirement, Service, Step, StepStatus, Visit
from .. import Conflict, DomainError, NotFound, audit, money
from ..clock import now
from ..uow import bump_version, unit_of_work
from .shared import (
    CALLED, MAX_AMOUNT, OUTCOMES, SERVING, STATUS_LABEL, clean_ids, clean_note, current_step_id, lock_step,
    lock_visit, release_visit, require_status,
)


@unit_of_work
def start(step_id: int, *, by_user_id: int) -> Step:
    """The citizen sat down at the desk: called → serving."""
    step = lock_step(step_id)
    require_status(step, (CALLED,), _l("mulai dilayani"))
    step.status = SERVING
    step.started_at = now()
    step.served_by_id = by_user_id
    db.session.flush()
    audit.record("step.start", "step", step.id, user_id=by_user_id, event_id=step.event_id, desk_id=step.desk_id)
    bump_version(step.event_id)
    return step


def mandatory_missing(step: Step, presented: list[int] | None) -> list[Requirement]:
    """The step's required (not "bila berlaku") requirements not among `presented`: what makes a finish
    "belum lengkap" rather than "selesai"."""
    query = sa.select(Requirement).where(Requirement.service_id == step.service_id,
                                         Requirement.optional.is_(False)).order_by(Requirement.position, Requirement.id)
    if presented:
        query = query.where(Requirement.id.not_in(presented))
    return list(db.session.scalars(query))


class MissingRequirements(Conflict):
    """A "done" finish with required documents not shown, refused so that the officer is asked first."""

    def __init__(self, missing: list[Requirement]):
        super().__init__(_l("Persyaratan wajib belum dicentang: %(list)s. Catat sebagai belum lengkap?",
                            list=", ".join(r.text for r in missing)))
        self.missing = missing


@unit_of_work
def finish(step_id: int, *, outcome: str, by_user_id: int, requirements_presented: list[int] | None = None,
           amount: int | None = None, note: str | None = None, ask_if_missing: bool = False) -> Step:
    """Close a called or serving step with its outcome, the documents shown, an amount, a note.

    `ask_if_missing` (the desk console): a "done" with required requirements not presented is refused with
    MissingRequirements, after every other check, so the console can ask once and finish "incomplete"."""
    step = lock_step(step_id)
    require_status(step, ACTIVE_STEP_STATES, _l("diselesaikan"))
    if outcome not in OUTCOMES:
        raise DomainError(_l("Pilih hasil layanan: selesai, belum lengkap, atau dirujuk."), field="outcome")
    req_ids = clean_ids(requirements_presented, "requirements", _l("Persyaratan yang dipilih tidak dikenal."))
    if req_ids:
        known = set(db.session.scalars(
            sa.select(Requirement.id).where(Requirement.service_id == step.service_id, Requirement.id.in_(req_ids))))
        if set(req_ids) - known:
            raise DomainError(_l("Persyaratan yang dipilih bukan milik layanan ini."), field="requirements")
    service = db.session.get(Service, step.service_id)
    if amount is not None and amount != "":
        if not service.records_amount:
            raise DomainError(_l("Layanan ini tidak mencatat nominal."), field="amount")
        if isinstance(amount, bool) or not isinstance(amount, (int, str)):
            raise DomainError(_l("Nominal harus bilangan bulat rupiah."), field="amount")
        try:
            amount = int(amount)
        except ValueError:
            raise DomainError(_l("Nominal harus bilangan bulat rupiah."), field="amount") from None
        if not 0 <= amount <= MAX_AMOUNT:
            raise DomainError(_l("Nominal harus antara Rp 0 dan %(maximum)s.", maximum=money.format_plain(MAX_AMOUNT)),
                              field="amount")
    else:
        amount = None
    note = clean_note(note)
    if ask_if_missing and outcome == "done":
        missing = mandatory_missing(step, req_ids)
        if missing:
            raise MissingRequirements(missing)

    step.status = StepStatus.DONE
    step.outcome = outcome
    step.requirements_presented = req_ids
    step.amount = amount
    step.note = note
    step.finished_at = now()
    if step.served_by_id is None:
        step.served_by_id = by_user_id
    db.session.flush()
    release_visit(step)
    audit.record("step.finish", "step", step.id, user_id=by_user_id, event_id=step.event_id,
                 desk_id=step.desk_id, outcome=outcome, amount=amount, requirements=req_ids)
    bump_version(step.event_id)
    return step


UNDO_SECONDS = 15  # the desk's toast offers undo for 8 s; the rest is grace for a slow Wi-Fi


def _desk_name(desk_id: int | None) -> str:
    number = db.session.scalar(sa.select(Desk.number).where(Desk.id == desk_id)) if desk_id else None
    return str(_l("Loket %(n)s", n=number)) if number is not None else str(_l("loket lain"))


def _undo(step_id: int, *, desk_id: int, by_user_id: int, status: str, action: str, within_seconds: int) -> Step:
    """Put a step this desk just closed back to where it was (called, or serving when it had started),
    keeping its call and start times, and claim its visit for the desk again. Refused after the window,
    from another desk, when the desk has already called someone else, or when the visitor has since been
    called elsewhere or put back in the queue by reception."""
    desk = db.session.scalar(
        sa.select(Desk).where(Desk.id == desk_id).with_for_update(key_share=True)
        .execution_options(populate_existing=True))
    if desk is None:
        raise NotFound(_l("Loket tidak ditemukan."))
    step = lock_step(step_id)
    if step.desk_id != desk_id:
        raise Conflict(_l("Hanya loket yang menutup antrean ini yang dapat membatalkannya."))
    if step.status != status:
        raise Conflict(_l("Tidak dapat dibatalkan: antrean ini sekarang %(status)s.",
                          status=STATUS_LABEL.get(step.status, step.status)))
    at = now()
    if step.finished_at is None or (at - step.finished_at).total_seconds() > within_seconds:
        raise Conflict(_l("Waktu untuk membatalkan sudah lewat (%(n)d detik).", n=within_seconds))
    visit = lock_visit(step.visit_id)
    if visit.busy_desk_id not in (None, desk_id):
        raise Conflict(_l("Tidak dapat dibatalkan: pengunjung %(code)s sudah dipanggil di %(desk)s.",
                          code=visit.code, desk=_desk_name(visit.busy_desk_id)))
    other = current_step_id(desk_id)
    if other is not None and other != step.id:
        code = db.session.scalar(sa.select(Visit.code).join(Step, Step.visit_id == Visit.id)
                                 .where(Step.id == other))
        raise Conflict(_l("Tidak dapat dibatalkan: loket ini sudah memanggil %(code)s. Selesaikan dulu.", code=code))
    before = {"status": step.status, "outcome": step.outcome, "finished_at": step.finished_at.isoformat()}
    step.status = SERVING if step.started_at is not None else CALLED
    step.finished_at = None
    step.outcome = None
    visit.busy_desk_id = desk_id
    db.session.flush()
    audit.record(f"step.{action}", "step", step.id, user_id=by_user_id, event_id=step.event_id, desk_id=desk_id,
                 visit_id=visit.id, before=before, after=step.status)
    bump_version(step.event_id)
    return step


@unit_of_work
def undo_no_show(step_id: int, *, desk_id: int, by_user_id: int, within_seconds: int = UNDO_SECONDS) -> Step:
    """A hasty "Tidak hadir" taken back within seconds by the same desk: the visitor is called again,
    with the original call time and recall count."""
    return _undo(step_id, desk_id=desk_id, by_user_id=by_user_id, status=StepStatus.NO_SHOW,
                 action="undo_no_show", within_seconds=within_seconds)


@unit_of_work
def undo_finish(step_id: int, *, desk_id: int, by_user_id: int, within_seconds: int = UNDO_SECONDS) -> Step:
    """A hasty "Selesai" taken back within seconds by the same desk: the step is open again (called, or
    serving when it had started); the requirements, amount and note entered stay, to correct and finish."""
    return _undo(step_id, desk_id=desk_id, by_user_id=by_user_id, status=StepStatus.DONE,
                 action="undo_finish", within_seconds=within_seconds)
