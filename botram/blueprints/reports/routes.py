"""Reports: the regency view, the event report (A4 print, XLSX), paper survey entry, and the desk officer's
on-the-day change of their desk's hours. Thin: the numbers come from botram/domain/{stats,hours,skm,regency}.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...domain import DomainError, regency, skm, stats
from ...domain import events as event_rules
from ...domain.clock import to_wib
from ...extensions import db
from ...models import Desk, Event, EventStatus, SurveyResponse, Visit
from ...security import roles_required
from ...web import safe_next, show_domain_error
from ..events.forms import DeskHoursForm
from ..survey.forms import CodeSurveyForm, desa_groups
from . import bp, charts
from .xlsx import event_workbook

READERS = ("admin", "koordinator", "keuangan")
PAPER = ("admin", "koordinator", "resepsionis")
HOURS = ("admin", "koordinator", "petugas")


def get_event(event_id: int) -> Event:
    """The event or 404."""
    return db.get_or_404(Event, event_id)


# ---------------------------------------------------------------------------------------------- regency

@bp.get("/")
@roles_required(*READERS)
def index():
    years = regency.event_years()
    raw = request.args.get("year", "").strip()
    year = None
    status = 200
    error = None
    if raw:
        if raw.isdigit() and len(raw) == 4 and 2000 <= int(raw) <= 2100:
            year = int(raw)
        else:
            error, status = _("Tahun tidak valid. Pilih dari daftar."), 422
    view = regency.regency_view(year)
    return render_template("reports/index.html", view=view, years=years, year=year, error=error,
                           trend_svg=charts.trend_chart(view.trend)), status


# ---------------------------------------------------------------------------------------------- event

@bp.get("/events/<int:event_id>")
@roles_required(*READERS)
def event(event_id: int):
    get_event(event_id)
    report = stats.event_report(event_id)
    return render_template("reports/event.html", report=report, event=report.event,
                           hours_svg=charts.hours_chart(report.hours), unsur=skm.UNSUR,
                           can_enter_paper=current_user.role in PAPER)


@bp.get("/events/<int:event_id>.xlsx")
@roles_required(*READERS)
def event_xlsx(event_id: int):
    get_event(event_id)
    report = stats.event_report(event_id)
    data = event_workbook(report)
    response = make_response(data)
    response.headers["Content-Type"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = f"laporan-botram-{report.event.date.isoformat()}-{report.event.id}.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------------------------- paper entry

@bp.route("/events/<int:event_id>/survei-kertas", methods=["GET", "POST"])
@roles_required(*PAPER)
def paper(event_id: int):
    """Staff type in paper SKM forms one after another: ticket code, nine answers, optional profile."""
    event = get_event(event_id)
    if event.status == EventStatus.DRAFT.value:
        flash(_("Survei hanya untuk kegiatan yang sudah dibuka."), "warning")
        return redirect(url_for("events.detail", event_id=event.id), 303)
    form = CodeSurveyForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        problems = skm.score_problems(form.scores())
        if not (form.code.data or "").strip():
            problems["code"] = _("Nomor tiket wajib diisi, misalnya A-012.")
        if problems:
            form.apply_problems(problems)
            status = 422
        else:
            try:
                saved = skm.submit_survey_by_code(event.id, form.code.data, form.scores(), form.comment.data,
                                                  channel="paper", entered_by_id=current_user.id, **form.profile())
            except DomainError as exc:
                form.apply_problems({exc.field if exc.field and exc.field in form else "code": exc.message})
                status = 409 if exc.status == 409 else 422
            else:
                code = db.session.scalar(sa.select(Visit.code).where(Visit.id == saved.visit_id))
                flash(_("Survei kertas untuk tiket %(code)s tersimpan. Lanjutkan dengan formulir berikutnya.",
                        code=code), "ok")
                return redirect(url_for("reports.paper", event_id=event.id), 303)
    entered = db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse).where(
        SurveyResponse.event_id == event.id, SurveyResponse.channel == "paper"))
    return render_template("reports/paper.html", event=event, form=form, desa_groups=desa_groups(),
                           entered=entered), status


# ---------------------------------------------------------------------------------------------- desk hours

def _wib_time(value: datetime):
    return to_wib(value).time().replace(second=0, microsecond=0)


@bp.route("/desks/<int:desk_id>/hours", methods=["GET", "POST"])
@roles_required(*HOURS)
def desk_hours(desk_id: int):
    """A desk officer (of the desk's agency) or a coordinator changes a desk's hours on the day — usually:
    stays open longer. Audited by botram.domain.events.set_desk_hours; the board shows the new hours."""
    desk = db.get_or_404(Desk, desk_id)
    if current_user.role == "petugas" and current_user.agency_id != desk.agency_id:
        abort(403)
    event = desk.event
    back = safe_next(request.values.get("next"))
    form = DeskHoursForm(formdata=None) if request.method == "GET" else DeskHoursForm()
    if request.method == "GET":
        form.opens.data, form.closes.data = _wib_time(desk.opens_at), _wib_time(desk.closes_at)
        return render_template("reports/desk_hours.html", desk=desk, event=event, form=form, back=back)
    extend = request.form.get("extend", "").strip()
    if not form.validate_on_submit() and ("csrf_token" in form.errors or not extend):
        if "csrf_token" in form.errors:
            abort(400)
        return render_template("reports/desk_hours.html", desk=desk, event=event, form=form, back=back), 422
    try:
        if extend:
            form.opens.data, form.closes.data = _wib_time(desk.opens_at), _wib_time(desk.closes_at)
            event_rules.extend_desk_hours(desk, event_rules.parse_extension(extend), by_user_id=current_user.id)
        else:
            event_rules.set_desk_hours(desk, form.opens.data, form.closes.data, by_user_id=current_user.id)
    except DomainError as exc:
        if exc.status == 400:
            abort(400)
        show_domain_error(form, exc)
        return render_template("reports/desk_hours.html", desk=desk, event=event, form=form, back=back), \
            exc.status if exc.status == 409 else 422
    flash(_("Jam loket %(number)s kini %(opens)s–%(closes)s WIB.", number=desk.number,
            opens=to_wib(desk.opens_at).strftime("%H.%M"), closes=to_wib(desk.closes_at).strftime("%H.%M")), "ok")
    return redirect(back or url_for("reports.desk_hours", desk_id=desk.id), 303)
