"""The funding overview of a year (`/funding/`): the mix, the charts, the APBD target and its form."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...domain import DomainError
from ...domain import funding as rules
from ...domain.clock import today_wib
from ...security import roles_required
from ...web import render_page_or_fragment, show_domain_error
from ..reports import charts
from . import bp
from .forms import ExportForm, TargetForm
from .shared import READERS, TARGET_SETTERS, labels, year_arg


def _overview_context(year: int, target_form: TargetForm | None = None, error: str | None = None) -> dict:
    funding = rules.yearly_funding(year)
    if target_form is None:
        target_form = TargetForm(formdata=None, year=year)
        if funding.target_bp is not None:
            target_form.percent.data = f"{funding.target_bp / 100:g}".replace(".", ",")
    today = today_wib()
    export_form = ExportForm(formdata=None, date_from=date(year, 1, 1),
                             date_to=min(date(year, 12, 31), today) if year == today.year else date(year, 12, 31))
    return dict(year=year, years=rules.funding_years(), funding=funding, target_form=target_form,
                export_form=export_form, error=error, bars=charts.stacked_bars(funding.events),
                trend=charts.share_trend(funding.events, funding.target_bp), colours=dict(
                    apbd=charts.APBD_COLOUR, cash=charts.CASH_COLOUR, in_kind=charts.IN_KIND_COLOUR,
                    target=charts.TARGET_COLOUR), **labels())


@bp.get("/")
@roles_required(*READERS)
def index():
    year, error = year_arg()
    response = render_page_or_fragment("sponsors/index.html", "sponsors/_overview.html",
                                       **_overview_context(year, error=error))
    if error:
        response.status_code = 422
    return response


@bp.post("/target")
@roles_required(*TARGET_SETTERS)
def set_target():
    form = TargetForm()
    year = form.year.data if isinstance(form.year.data, int) else today_wib().year
    if form.validate_on_submit():
        try:
            rules.set_target(form.year.data, form.percent.data, by_user_id=current_user.id)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Target porsi APBD tahun %(year)s disimpan.", year=form.year.data), "ok")
            return redirect(url_for("sponsors.index", year=form.year.data), 303)
    year = year if 2000 <= year <= 2100 else today_wib().year
    return render_template("sponsors/index.html", **_overview_context(year, target_form=form)), 422
