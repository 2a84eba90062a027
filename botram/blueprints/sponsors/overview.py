"""The funding overview of a year (`/funding/`): the mix, the charts, the APBD target and its form."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, url_for
from flask_babel import format_date, gettext as _, lazy_gettext as _l
from flask_login import current_user

from ...domain import funding as rules
from ...domain.clock import today_wib
from ...permissions import may_read_funding, may_set_funding_target
from ...security import requires
from ...web import render_page_or_fragment
from ..reports import charts
from ..form_action import submit
from . import bp
from .forms import ExportForm, TargetForm
from .shared import labels, page_arg, year_arg


PER_PAGE = 25  # events per page of the table and the bar chart; a regency year holds 200 (bench/scale.py)
# The amount columns' names, which a phone shows beside each amount (its table has no header row there): given
# once to the table as CSS strings (sponsors.css reads them with var()) rather than once per cell, 175 times.
PHONE_LABELS = (("cost", _l("Total biaya")), ("cash", _l("Tunai sponsor")), ("in-kind", _l("Barang/jasa")),
                ("apbd", _l("APBD")), ("surplus", _l("Kelebihan sumbangan")), ("share", _l("Porsi APBD")),
                ("pledged", _l("Dijanjikan")))


def _phone_labels() -> str:
    def css_string(text) -> str:
        return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "; ".join(f"--fund-{key}: {css_string(label)}" for key, label in PHONE_LABELS)


def _overview_context(year: int, target_form: TargetForm | None = None, error: str | None = None,
                      page: int = 1) -> dict:
    """The year's figures are over all its events; the table and the bars show one page of them, so a
    regency year's page stays a few dozen KB instead of rendering 190 rows and bars (issue 25)."""
    funding = rules.yearly_funding(year)
    if target_form is None:
        target_form = TargetForm(formdata=None, year=year)
        if funding.target_bp is not None:
            target_form.percent.data = f"{funding.target_bp / 100:g}".replace(".", ",")
    today = today_wib()
    export_form = ExportForm(formdata=None, date_from=date(year, 1, 1),
                             date_to=min(date(year, 12, 31), today) if year == today.year else date(year, 12, 31))
    pages = max(1, -(-len(funding.events) // PER_PAGE))
    page = min(page, pages)  # a page past the end shows the last one
    shown = funding.events[(page - 1) * PER_PAGE:page * PER_PAGE]
    if pages > 1:  # a point per event would be hundreds of unreadable labels: the year's trend by month
        points = rules.by_month(funding.events)
        for month in points:
            month.title = format_date(month.date, "MMM yyyy")
        trend_caption = _("Porsi APBD per bulan")
    else:
        points, trend_caption = funding.events, _("Porsi APBD per kegiatan")
    return dict(year=year, years=rules.funding_years(), funding=funding, target_form=target_form,
                export_form=export_form, error=error, shown_events=shown, page_number=page, pages=pages,
                phone_labels=_phone_labels(), per_page=PER_PAGE, bars=charts.stacked_bars(shown),
                trend=charts.share_trend(points, funding.target_bp), trend_caption=trend_caption, colours=dict(
                    apbd=charts.APBD_COLOUR, cash=charts.CASH_COLOUR, in_kind=charts.IN_KIND_COLOUR,
                    target=charts.TARGET_COLOUR), **labels())


@bp.get("/")
@requires(may_read_funding)
def index():
    year, error = year_arg()
    page, page_error = page_arg()
    response = render_page_or_fragment("sponsors/index.html", "sponsors/_overview.html",
                                       **_overview_context(year, error=error or page_error, page=page))
    if error or page_error:
        response.status_code = 422
    return response


@bp.post("/target")
@requires(may_set_funding_target)
def set_target():
    form = TargetForm()
    year = form.year.data if isinstance(form.year.data, int) else today_wib().year
    done = submit(form, lambda: rules.set_target(form.year.data, form.percent.data, by_user_id=current_user.id))
    if done:
        flash(_("Target porsi APBD tahun %(year)s disimpan.", year=form.year.data), "ok")
        return redirect(url_for("sponsors.index", year=form.year.data), 303)
    year = year if 2000 <= year <= 2100 else today_wib().year
    return render_template("sponsors/index.html", **_overview_context(year, target_form=form)), done.status
