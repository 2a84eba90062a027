"""The queue over JSON: reception issues tickets, desks (or their hardware call buttons) call and serve,
the projector board and LED displays read. Every rule is in botram.domain.queue; these views parse input,
check who is asking, and shape the answer. No name, NIK or phone ever leaves through here.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, current_app
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from ...domain import queue
from ...board_watch import fresh_version
from ...domain.board import state_at
from ...extensions import db
from ...models import Desk, Step
from ...permissions import may_register_visitors, may_reopen_steps, may_work_desks, why_not_work_desk
from . import bp
from .auth import api_public, api_requires
from .errors import ApiError, get_or_404
from .schemas import (
    Board, CalledStep, DeskStatus, FinishRequest, ReopenRequest, Step as StepAnswer, Visit, VisitRequest,
)
from .spec import TAGS, answer, answers, api_spec
from ..public.routes import status_url as public_status_url

QUEUE = [TAGS["queue"]]


def _check_desk_officer(desk: Desk) -> None:
    """The officer rule of botram.permissions, the same as the desk console's."""
    refusal = why_not_work_desk(current_user, desk)
    if refusal is not None:
        raise ApiError(403, refusal)


def _step_for_desk_action(step_id: int) -> Step:
    step = db.session.scalar(sa.select(Step).where(Step.id == step_id).options(joinedload(Step.desk)))
    if step is None:
        raise ApiError(404, _("Langkah antrean tidak ditemukan."))
    if step.desk is None:
        raise ApiError(409, _("Nomor ini belum dipanggil di loket mana pun."))
    _check_desk_officer(step.desk)
    return step


def _loaded(step: Step) -> Step:
    """The step with its visit, service and desk loaded in one query, for its answer. The id comes from the
    identity map: reading `step.id` of a step the commit expired would cost a query of its own."""
    return queue.loaded_step(sa.inspect(step).identity[0])


@bp.post("/events/<int:event_id>/visits")
@api_requires(may_register_visitors)
@api_spec.validate(resp=answers(201, Visit, errors=(409, 422), description="The ticket."), tags=QUEUE,
                   operation_id="issueVisit")
def issue_visit(event_id: int, json: VisitRequest):
    """Register a visitor: one ticket, one step per service

    Reception or a ticket kiosk. The event must be open and offer every service. At most
    BOTRAM_MAX_TICKETS_PER_NIK active tickets per NIK per event (422).
    """
    issued = queue.issue_visit(
        event_id, json.services, priority=json.priority, name=json.name or None, nik=json.nik or None,
        phone=json.phone or None, by_user_id=current_user.id, notify=json.notify, locale=json.locale)
    visit = issued.visit
    return answer(Visit, visit, 201, status_url=public_status_url(visit.public_token), warnings=issued.warnings)


@bp.post("/desks/<int:desk_id>/call-next")
@api_requires(may_work_desks)
@api_spec.validate(resp=answers(200, CalledStep, errors=(409, 422), empty=(204,),
                                description="The called step."),
                   tags=QUEUE, operation_id="callNext")
def call_next(desk_id: int):
    """Call the next eligible visitor to this desk

    Atomic: two desks calling at once never get the same step, and a visitor is never called at two desks.
    Priority groups first, then arrival, with a fairness cap. 204 when no one eligible waits; 409 while the
    desk still has someone called.
    """
    desk = get_or_404(Desk, desk_id, _("Loket tidak ditemukan."))
    _check_desk_officer(desk)
    step = queue.call_next(desk.id, by_user_id=current_user.id)
    if step is None:
        return "", 204
    return answer(CalledStep, step)


@bp.get("/desks/<int:desk_id>")
@api_requires(may_work_desks)
@api_spec.validate(resp=answers(200, DeskStatus, description="The desk."), tags=QUEUE, operation_id="getDesk")
def desk_status(desk_id: int):
    """A desk's state and the visitor it holds

    What a call button or desk device that restarted needs to carry on: open, paused or closed, and the
    called or serving step, if any (else `step` is null). An officer sees only desks of their own agency at an
    open event (403 otherwise, as on the desk console).
    """
    desk = db.session.scalar(sa.select(Desk).where(Desk.id == desk_id).options(joinedload(Desk.agency)))
    if desk is None:
        raise ApiError(404, _("Loket tidak ditemukan."))
    _check_desk_officer(desk)
    current = queue.desk_current(desk.id)
    return answer(DeskStatus, desk, step=_loaded(current) if current is not None else None)


@bp.post("/steps/<int:step_id>/finish")
@api_requires(may_work_desks)
@api_spec.validate(resp=answers(200, StepAnswer, errors=(409, 422), description="The finished step."),
                   tags=QUEUE, operation_id="finishStep")
def finish(step_id: int, json: FinishRequest):
    """Finish serving a called or serving step"""
    step = _step_for_desk_action(step_id)
    step = queue.finish(step.id, outcome=json.outcome, by_user_id=current_user.id,
                        requirements_presented=json.requirements, amount=json.amount, note=json.note or None)
    return answer(StepAnswer, _loaded(step))


@bp.post("/steps/<int:step_id>/no-show")
@api_requires(may_work_desks)
@api_spec.validate(resp=answers(200, StepAnswer, errors=(409, 422), description="The step."), tags=QUEUE,
                   operation_id="noShowStep")
def no_show(step_id: int):
    """Mark a called visitor as not present

    Refused (409, the detail says what remains) until the visitor was recalled BOTRAM_NO_SHOW_RECALLS times
    or BOTRAM_NO_SHOW_MIN_SECONDS passed since the last call. Reception can put the ticket back later.
    """
    step = _step_for_desk_action(step_id)
    return answer(StepAnswer, _loaded(queue.no_show(step.id, by_user_id=current_user.id)))


@bp.post("/steps/<int:step_id>/reopen")
@api_requires(may_reopen_steps)
@api_spec.validate(resp=answers(200, StepAnswer, errors=(409, 422), description="The reopened step, waiting."),
                   tags=QUEUE, operation_id="reopenStep")
def reopen(step_id: int, json: ReopenRequest):
    """Open a done, no-show or transferred step again

    The step waits again with its original arrival time (a transfer is taken back: the step it created is
    cancelled while still waiting). A desk officer reopens only steps a desk of their agency closed today;
    reception, coordinators and admins any step of an open event. The reason is audited.
    """
    step = db.session.get(Step, step_id)
    if step is None:
        raise ApiError(404, _("Langkah antrean tidak ditemukan."))
    desk_id = None
    if not may_register_visitors(current_user):  # an officer: only what a desk of their agency closed today
        step = _step_for_desk_action(step_id)
        desk_id = step.desk_id
    return answer(StepAnswer, _loaded(queue.reopen_step(step.id, reason=json.reason, by_user_id=current_user.id,
                                                        desk_id=desk_id)))


@bp.post("/steps/<int:step_id>/recall")
@api_requires(may_work_desks)
@api_spec.validate(resp=answers(200, StepAnswer, errors=(409, 422), description="The step."), tags=QUEUE,
                   operation_id="recallStep")
def recall(step_id: int):
    """Announce a called visitor again

    Refused (422) beyond BOTRAM_NO_SHOW_RECALLS recalls: mark the visitor not present.
    """
    step = _step_for_desk_action(step_id)
    step = queue.recall(step.id, by_user_id=current_user.id)
    return answer(StepAnswer, _loaded(step))


@bp.get("/events/<int:event_id>/board")
@api_public
@api_spec.validate(resp=answers(200, Board, description="The board."), tags=QUEUE, operation_id="getBoard")
def board(event_id: int):
    """What the projector board shows

    Public for open and closed events; codes, desks and counts only, never a name, NIK or phone. Poll cheaply
    by comparing `version`.
    """
    state = state_at(event_id, fresh_version(current_app._get_current_object(), event_id))
    if state is None:
        raise ApiError(404, _("Kegiatan tidak ditemukan."))
    return Response(state.json_bytes(), mimetype="application/json")
