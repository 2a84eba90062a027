"""The SKM survey: `/survey/<public token>` on the citizen's phone (linked from the ticket's status page), and
`/survey/kiosk/<event id>` on a tablet at the exit.

The kiosk needs a signed-in staff session on that tablet: a citizen types the code printed on their ticket,
answers, and the screen returns to the code entry. The answers are recorded with channel "kiosk" and the
staff account as `entered_by`. Abuse is bounded by the rules in botram/domain/skm.py: only a ticket of this
event, only after at least one of its services was done, and only once per ticket.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, make_response, redirect, render_template, request, session, url_for
from werkzeug.datastructures import MultiDict
from flask_babel import gettext as _
from flask_login import current_user

from ...domain import Conflict, DomainError, NotFound, skm
from ...extensions import db
from ...models import UNSUR_KEYS, Event, EventStatus, SurveyResponse
from ...permissions import may_run_survey_kiosk
from ...security import requires
from . import bp
from .forms import KioskAnswerForm, KioskCodeForm, SurveyForm, desa_groups



def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _page(template: str, status: int = 200, **context):
    return _no_store(make_response(render_template(template, desa_groups=desa_groups(), **context), status))


def _answered(visit_id: int) -> bool:
    return db.session.scalar(sa.select(SurveyResponse.id).where(SurveyResponse.visit_id == visit_id)) is not None


# ---------------------------------------------------------------------------------------------- phone

@bp.route("/<token>", methods=["GET", "POST"])
def answer(token: str):
    visit = skm.visit_for_token(token)
    if visit is None:
        return _page("survey/not_found.html", 404)
    event = visit.event
    if _answered(visit.id):
        return _page("survey/thanks.html", 409 if request.method == "POST" else 200, visit=visit, event=event,
                     token=token, already=True)
    reason = skm.can_answer(visit)
    if reason:
        return _page("survey/not_yet.html", 409 if request.method == "POST" else 200, visit=visit, event=event,
                     token=token, reason=reason)
    if request.method == "GET":
        return _answer_page(visit, token)
    form = SurveyForm()
    if not form.validate_on_submit():
        abort(400)
    problems = skm.score_problems(form.scores())
    if problems:
        return _back_to_form(token, problems)
    try:
        skm.submit_survey(token, form.scores(), form.comment.data, channel="qr", **form.profile())
    except NotFound:
        return _page("survey/not_found.html", 404)
    except Conflict:
        return _page("survey/thanks.html", 409, visit=visit, event=event, token=token, already=True)
    except DomainError as exc:
        return _back_to_form(token, {exc.field or "__form__": exc.message})
    return redirect(url_for("survey.thanks", token=token), 303)


# A refused answer is redirected back to the form (post-redirect-get), so the phone's Back button never
# offers to resubmit a form. The answers given and the messages ride along in the session, once.
_DRAFT = "survey_draft"
_DRAFT_FIELDS = ("sex", "age_band", "education", "occupation", "comment", "next_desa_code", *UNSUR_KEYS)


def _back_to_form(token: str, problems: dict[str, str]):
    answers = {name: request.form.get(name, "")[:1200] for name in _DRAFT_FIELDS if request.form.get(name)}
    session[_DRAFT] = {"token": token, "answers": answers, "problems": problems}
    return redirect(url_for("survey.answer", token=token), 303)


def _answer_page(visit, token: str):
    draft = session.pop(_DRAFT, None)
    if draft and draft.get("token") == token:
        form = SurveyForm(formdata=MultiDict(draft.get("answers") or {}))
        form.apply_problems(draft.get("problems") or {})
        return _page("survey/answer.html", visit=visit, event=visit.event, token=token, form=form)
    return _page("survey/answer.html", visit=visit, event=visit.event, token=token, form=SurveyForm())


@bp.get("/<token>/terima-kasih")
def thanks(token: str):
    visit = skm.visit_for_token(token)
    if visit is None:
        return _page("survey/not_found.html", 404)
    return _page("survey/thanks.html", visit=visit, event=visit.event, token=token, already=False)


# ---------------------------------------------------------------------------------------------- kiosk

def _kiosk_event(event_id: int) -> Event:
    event = db.get_or_404(Event, event_id)
    if event.status == EventStatus.DRAFT:
        abort(404)
    return event


@bp.route("/kiosk/<int:event_id>", methods=["GET", "POST"])
@requires(may_run_survey_kiosk)
def kiosk(event_id: int):
    """Step 1: the citizen types the ticket code. A valid one opens the questions."""
    event = _kiosk_event(event_id)
    form = KioskCodeForm()
    if request.method == "GET":
        return _page("survey/kiosk.html", event=event, form=form, done=request.args.get("selesai") == "1")
    if not form.validate_on_submit():
        abort(400)
    code = (form.code.data or "").strip()
    visit = skm.visit_for_code(event.id, code) if code else None
    status = 422
    if not code:
        form.code.errors = [_("Ketik nomor pada tiket Anda, misalnya A-012.")]
    elif visit is None:
        form.code.errors = [_("Nomor tiket tidak ditemukan di kegiatan ini. Periksa lagi tiket Anda.")]
        status = 404
    elif _answered(visit.id):
        form.code.errors = [_("Survei untuk tiket ini sudah diisi. Terima kasih!")]
        status = 409
    elif skm.can_answer(visit):
        form.code.errors = [skm.can_answer(visit)]
        status = 409
    else:
        answer_form = KioskAnswerForm(formdata=None, code=visit.code)
        return _page("survey/kiosk_answer.html", event=event, visit=visit, form=answer_form)
    return _page("survey/kiosk.html", status, event=event, form=form, done=False)


@bp.post("/kiosk/<int:event_id>/jawab")
@requires(may_run_survey_kiosk)
def kiosk_answer(event_id: int):
    """Step 2: the answers, saved as channel "kiosk" with the signed-in staff account as `entered_by`."""
    event = _kiosk_event(event_id)
    form = KioskAnswerForm()
    if not form.validate_on_submit():
        abort(400)
    visit = skm.visit_for_code(event.id, form.code.data)
    if visit is None:
        return redirect(url_for("survey.kiosk", event_id=event.id), 303)
    problems = skm.score_problems(form.scores())
    if problems:
        form.apply_problems(problems)
        return _page("survey/kiosk_answer.html", 422, event=event, visit=visit, form=form)
    try:
        skm.submit_survey_by_code(event.id, form.code.data, form.scores(), form.comment.data, channel="kiosk",
                                  entered_by_id=current_user.id, **form.profile())
    except DomainError as exc:
        if exc.status in (404, 409):
            code_form = KioskCodeForm(formdata=None)
            code_form.code.errors = [exc.message]
            return _page("survey/kiosk.html", exc.status, event=event, form=code_form, done=False)
        form.apply_problems({exc.field or "__form__": exc.message})
        return _page("survey/kiosk_answer.html", 422, event=event, visit=visit, form=form)
    return redirect(url_for("survey.kiosk", event_id=event.id, selesai=1), 303)
