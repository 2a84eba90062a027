"""The queue over JSON: reception issues tickets, desks (or their hardware call buttons) call and serve,
the projector board and LED displays read. Every rule is in botram.domain.queue; these views parse input,
check who is asking, and shape the answer. No name, NIK or phone ever leaves through here.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, current_app, jsonify
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from ...domain import queue
from ...board_watch import fresh_version
from ...domain.board import state_at
from ...extensions import db
from ...models import Desk, Role, Step
from . import bp
from .auth import api_public, api_roles
from .errors import ApiError, get_or_404
from .schemas import Board, CalledStep, DeskStatus, FinishRequest, Step as StepAnswer, Visit, VisitRequest
from .serialize import agency_ref, iso_datetime
from .spec import TAGS, answers, api_spec
from ...web import queue_rules
from ..public.routes import status_url as public_status_url

RECEPTION = (Role.RESEPSIONIS.value, Role.KOORDINATOR.value, Role.ADMIN.value)
DESK_ROLES = (Role.PETUGAS.value, Role.KOORDINATOR.value, Role.ADMIN.value)
QUEUE = [TAGS["queue"]]


def _check_desk_officer(desk: Desk) -> None:
    """A desk officer acts only at desks of their own agency; coordinators and admins anywhere."""
    if current_user.role == Role.PETUGAS.value and current_user.agency_id != desk.agency_id:
        raise ApiError(403, _("Loket ini milik instansi lain."))


def _step_for_desk_action(step_id: int) -> Step:
    step = db.session.scalar(sa.select(Step).where(Step.id == step_id).options(joinedload(Step.desk)))
    if step is None:
        raise ApiError(404, _("Langkah antrean tidak ditemukan."))
    if step.desk is None:
        raise ApiError(409, _("Nomor ini belum dipanggil di loket mana pun."))
    _check_desk_officer(step.desk)
    return step


def step_json(step: Step) -> dict:
    # The id from the identity map: reading `step.id` of a step the commit expired would cost a query.
    step = queue.loaded_step(sa.inspect(step).identity[0])
    return {"id": step.id, "visit_code": step.visit.code, "service": step.service.code,
            "service_name": step.service.name, "status": step.status, "outcome": step.outcome,
            "desk": step.desk.number if step.desk else None, "recall_count": step.recall_count}


@bp.post("/events/<int:event_id>/visits")
@api_roles(*RECEPTION)
@api_spec.validate(resp=answers(201, Visit, errors=(409, 422), description="The ticket."), tags=QUEUE,
                   operation_id="issueVisit")
def issue_visit(event_id: int, json: VisitRequest):
    """Register a visitor: one ticket, one step per service

    Reception or a ticket kiosk. The event must be open and offer every service. At most
    BOTRAM_MAX_TICKETS_PER_NIK active tickets per NIK per event (422).
    """
    issued = queue.issue_visit(
        event_id, json.services, priority=json.priority, name=json.name or None, nik=json.nik or None,
        phone=json.phone or None, by_user_id=current_user.id, rules=queue_rules())
    visit = issued.visit
    body = {"id": visit.id, "code": visit.code,
            "status_url": public_status_url(visit.public_token),
            "steps": [{"id": s.id, "service": s.service.code, "service_name": s.service.name, "status": s.status}
                      for s in visit.steps],
            "warnings": issued.warnings}
    return jsonify(body), 201


@bp.post("/desks/<int:desk_id>/call-next")
@api_roles(*DESK_ROLES)
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
    step = queue.call_next(desk.id, by_user_id=current_user.id, rules=queue_rules())
    if step is None:
        return "", 204
    return jsonify({"step_id": step.id, "visit_code": step.visit.code, "service": step.service.code,
                    "service_name": step.service.name, "desk": desk.number})


@bp.get("/desks/<int:desk_id>")
@api_roles(*DESK_ROLES)
@api_spec.validate(resp=answers(200, DeskStatus, description="The desk."), tags=QUEUE, operation_id="getDesk")
def desk_status(desk_id: int):
    """A desk's state and the visitor it holds

    What a call button or desk device that restarted needs to carry on: open, paused or closed, and the
    called or serving step, if any (else `step` is null). An officer sees only desks of their own agency (403).
    """
    desk = db.session.scalar(sa.select(Desk).where(Desk.id == desk_id).options(joinedload(Desk.agency)))
    if desk is None:
        raise ApiError(404, _("Loket tidak ditemukan."))
    _check_desk_officer(desk)
    current = queue.desk_current(desk.id)
    return jsonify({"id": desk.id, "number": desk.number, "label": desk.label, "event_id": desk.event_id,
                    "agency": agency_ref(desk.agency), "state": desk.state,
                    "opens_at": iso_datetime(desk.opens_at), "closes_at": iso_datetime(desk.closes_at),
                    "step": step_json(current) if current is not None else None})


@bp.post("/steps/<int:step_id>/finish")
@api_roles(*DESK_ROLES)
@api_spec.validate(resp=answers(200, StepAnswer, errors=(409, 422), description="The finished step."),
                   tags=QUEUE, operation_id="finishStep")
def finish(step_id: int, json: FinishRequest):
    """Finish serving a called or serving step"""
    step = _step_for_desk_action(step_id)
    step = queue.finish(step.id, outcome=json.outcome, by_user_id=current_user.id,
                        requirements_presented=json.requirements, amount=json.amount, note=json.note or None)
    return jsonify(step_json(step))


@bp.post("/steps/<int:step_id>/no-show")
@api_roles(*DESK_ROLES)
@api_spec.validate(resp=answers(200, StepAnswer, errors=(409, 422), description="The step."), tags=QUEUE,
                   operation_id="noShowStep")
def no_show(step_id: int):
    """Mark a called visitor as not present

    Reception can put the ticket back in the queue later.
    """
    step = _step_for_desk_action(step_id)
    return jsonify(step_json(queue.no_show(step.id, by_user_id=current_user.id)))


@bp.post("/steps/<int:step_id>/recall")
@api_roles(*DESK_ROLES)
@api_spec.validate(resp=answers(200, StepAnswer, errors=(409, 422), description="The step."), tags=QUEUE,
                   operation_id="recallStep")
def recall(step_id: int):
    """Announce a called visitor again

    Refused (422) beyond BOTRAM_NO_SHOW_RECALLS recalls: mark the visitor not present.
    """
    step = _step_for_desk_action(step_id)
    step = queue.recall(step.id, by_user_id=current_user.id, rules=queue_rules())
    return jsonify(step_json(step))


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
