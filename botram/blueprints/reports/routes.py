"""Reports: the regency view, the event report (A4 print, XLSX), paper survey entry, and the desk officer's
on-the-day change of their desk's hours. Thin: the numbers come from botram/domain/{stats,hours,skm,regency}.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...domain import DomainError, regency, skm, summaries
from ...domain.clock import to_wib
from ...domain.ids import is_digits
from ...extensions import db
from ...models import Desk, Event, EventStatus, SurveyResponse, Visit
from ...permissions import may_enter_paper_surveys, may_read_reports, may_work_desk, may_work_desks
from ...security import requires
from ...web import safe_next
from ..form_action import change_desk_hours, refusal_status, wib_clock
from ..events.forms import DeskHoursForm
from ..survey.forms import CodeSurveyForm, desa_groups
from . import bp, charts
from .xlsx import event_workbook



ALL_YEARS_EVENT_ROWS = 50


def get_event(event_id: int) -> Event:
    """The event or 404."""
    return db.get_or_404(Event, event_id)


# ---------------------------------------------------------------------------------------------- regency

@bp.get("/")
@requires(may_read_reports)
def index():
    years = regency.event_years()
    raw = request.args.get("year", "").strip()
    year = None
    status = 200
    error = None
    if raw:
        if is_digits(raw) and len(raw) == 4 and 2000 <= int(raw) <= 2100:
            year = int(raw)
        else:
            error, status = _("Tahun tidak valid. Pilih dari daftar."), 422
    view = regency.regency_view(year)
    # A year lists every event it held; all years list the latest (five years hold ~1,000, a 400 KB page).
    event_rows = len(view.events) if year else ALL_YEARS_EVENT_ROWS
    return render_template("reports/index.html", view=view, years=years, year=year, error=error,
                           trend_svg=charts.trend_chart(view.trend), event_rows=event_rows), status


# ---------------------------------------------------------------------------------------------- event

@bp.get("/events/<int:event_id>")
@requires(may_read_reports)
def event(event_id: int):
    get_event(event_id)
    report = summaries.event_report(event_id)
    return render_template("reports/event.html", report=report, event=report.event,
                           forecast_then=summaries.look_back(report),
                           booked_rows=summaries.booked_rows(event_id),
                           hours_svg=charts.hours_chart(report.hours), unsur=skm.UNSUR,
                           can_enter_paper=may_enter_paper_surveys(current_user))


@bp.get("/events/<int:event_id>.xlsx")
@requires(may_read_reports)
def event_xlsx(event_id: int):
    get_event(event_id)
    report = summaries.event_report(event_id)
    data = event_workbook(report, summaries.booked_rows(event_id))
    response = make_response(data)
    response.headers["Content-Type"] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = f"laporan-botram-{report.event.date.isoformat()}-{report.event.id}.xlsx"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------------------------- paper entry

@bp.route("/events/<int:event_id>/survei-kertas", methods=["GET", "POST"])
@requires(may_enter_paper_surveys)
def paper(event_id: int):
    """Staff type in paper SKM forms one after another: ticket code, nine answers, optional profile."""
    event = get_event(event_id)
    if event.status == EventStatus.DRAFT:
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
                status = refusal_status(exc)
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

@bp.route("/desks/<int:desk_id>/hours", methods=["GET", "POST"])
@requires(may_work_desks)
def desk_hours(desk_id: int):
    """A desk officer (of the desk's agency) or a coordinator changes a desk's hours on the day — usually:
    stays open longer. Audited by botram.domain.events.set_desk_hours; the board shows the new hours."""
    desk = db.get_or_404(Desk, desk_id)
    if not may_work_desk(current_user, desk):
        abort(403)
    event = desk.event
    back = safe_next(request.values.get("next"))
    form = DeskHoursForm(formdata=None) if request.method == "GET" else DeskHoursForm()
    if request.method == "GET":
        form.opens.data, form.closes.data = wib_clock(desk.opens_at), wib_clock(desk.closes_at)
        return render_template("reports/desk_hours.html", desk=desk, event=event, form=form, back=back)
    done = change_desk_hours(desk, form, request.form.get("extend", "").strip())
    if not done:
        return render_template("reports/desk_hours.html", desk=desk, event=event, form=form, back=back), \
            done.status
    flash(_("Jam loket %(number)s kini %(opens)s–%(closes)s WIB.", number=desk.number,
            opens=to_wib(desk.opens_at).strftime("%H.%M"), closes=to_wib(desk.closes_at).strftime("%H.%M")), "ok")
    return redirect(back or url_for("reports.desk_hours", desk_id=desk.id), 303)
