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
from .errors import ApiError
from .params import get_or_404, json_body
from .serialize import agency_ref, iso_datetime
from ...web import queue_rules
from ..public.routes import status_url as public_status_url

RECEPTION = (Role.RESEPSIONIS.value, Role.KOORDINATOR.value, Role.ADMIN.value)
DESK_ROLES = (Role.PETUGAS.value, Role.KOORDINATOR.value, Role.ADMIN.value)
PRIORITIES = ("none", "lansia", "disabilitas", "hamil")


def _optional_text(data: dict, name: str, limit: int) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError(422, _("%(name)s harus berupa teks.", name=name), field=name)
    if len(value) > limit:
        raise ApiError(422, _("%(name)s paling banyak %(n)s karakter.", name=name, n=limit), field=name)
    return value


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
def issue_visit(event_id: int):
    data = json_body()
    services = data.get("services")
    if not isinstance(services, list) or not services or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in services):
        raise ApiError(422, _("services harus daftar id layanan (angka), paling sedikit satu."), field="services")
    priority = data.get("priority", "none")
    if priority not in PRIORITIES:
        raise ApiError(422, _("priority harus salah satu dari: %(p)s.", p=", ".join(PRIORITIES)), field="priority")
    issued = queue.issue_visit(
        event_id, services, priority=priority, name=_optional_text(data, "name", 120),
        nik=_optional_text(data, "nik", 32), phone=_optional_text(data, "phone", 32), by_user_id=current_user.id,
        rules=queue_rules())
    visit = issued.visit
    body = {"id": visit.id, "code": visit.code,
            "status_url": public_status_url(visit.public_token),
            "steps": [{"id": s.id, "service": s.service.code, "service_name": s.service.name, "status": s.status}
                      for s in visit.steps],
            "warnings": issued.warnings}
    return jsonify(body), 201


@bp.post("/desks/<int:desk_id>/call-next")
@api_roles(*DESK_ROLES)
def call_next(desk_id: int):
    desk = get_or_404(Desk, desk_id, _("Loket tidak ditemukan."))
    _check_desk_officer(desk)
    step = queue.call_next(desk.id, by_user_id=current_user.id, rules=queue_rules())
    if step is None:
        return "", 204
    return jsonify({"step_id": step.id, "visit_code": step.visit.code, "service": step.service.code,
                    "service_name": step.service.name, "desk": desk.number})


@bp.get("/desks/<int:desk_id>")
@api_roles(*DESK_ROLES)
def desk_status(desk_id: int):
    """The desk's state and the step it holds: what a restarted call button needs to carry on."""
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
def finish(step_id: int):
    step = _step_for_desk_action(step_id)
    data = json_body()
    requirements = data.get("requirements")
    if requirements is not None and (not isinstance(requirements, list) or not all(
            isinstance(r, int) and not isinstance(r, bool) for r in requirements)):
        raise ApiError(422, _("requirements harus daftar id persyaratan (angka)."), field="requirements")
    amount = data.get("amount")
    if amount is not None and (not isinstance(amount, int) or isinstance(amount, bool)):
        raise ApiError(422, _("amount harus bilangan bulat rupiah."), field="amount")
    outcome = data.get("outcome")
    if not isinstance(outcome, str):
        raise ApiError(422, _("outcome wajib: done, incomplete, atau referred."), field="outcome")
    step = queue.finish(step.id, outcome=outcome, by_user_id=current_user.id, requirements_presented=requirements,
                        amount=amount, note=_optional_text(data, "note", 1000))
    return jsonify(step_json(step))


@bp.post("/steps/<int:step_id>/no-show")
@api_roles(*DESK_ROLES)
def no_show(step_id: int):
    step = _step_for_desk_action(step_id)
    return jsonify(step_json(queue.no_show(step.id, by_user_id=current_user.id)))


@bp.post("/steps/<int:step_id>/recall")
@api_roles(*DESK_ROLES)
def recall(step_id: int):
    step = _step_for_desk_action(step_id)
    step = queue.recall(step.id, by_user_id=current_user.id, rules=queue_rules())
    return jsonify(step_json(step))


@bp.get("/events/<int:event_id>/board")
@api_public
def board(event_id: int):
    """What the projector shows, with its `version`; codes and desks only."""
    state = state_at(event_id, fresh_version(current_app._get_current_object(), event_id))
    if state is None:
        raise ApiError(404, _("Kegiatan tidak ditemukan."))
    return Response(state.json_bytes(), mimetype="application/json")
