"""Funding pages. Thin: parse the form, check the role, call botram.domain.funding, show its message.

Roles: keuangan and admin write (sponsors, contributions, budget lines); koordinator reads everything and,
with admin, sets the yearly APBD target (keuangan records money but does not set the policy it is judged by).
"""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...domain import DomainError
from ...domain import funding as rules
from ...domain import letters
from ...domain.clock import today_wib
from ...domain.ids import parse_id
from ...domain.funding.export import export_rows, to_csv, to_xlsx
from ...extensions import db
from ...models import BudgetLine, Contribution, Event, Sponsor
from ...security import roles_required
from ...web import is_fragment_request, render_page_or_fragment, show_domain_error, toast
from . import bp, charts
from .forms import (BudgetLineForm, CancelForm, ContributionForm, ExportForm, ReasonForm, ReceiveForm, SponsorForm,
                    TargetForm)

WRITERS = ("keuangan", "admin")
READERS = ("keuangan", "admin", "koordinator")
TARGET_SETTERS = ("koordinator", "admin")
YEAR = re.compile(r"^\d{4}$")


def can_write() -> bool:
    return current_user.is_authenticated and current_user.role in WRITERS


def can_set_target() -> bool:
    return current_user.is_authenticated and current_user.role in TARGET_SETTERS


def _status(exc: DomainError) -> int:
    return 409 if exc.status == 409 else 422


def _labels() -> dict:
    return dict(kinds=rules.SPONSOR_KINDS, forms=rules.FORMS, categories=rules.IN_KIND_CATEGORIES,
                budget_categories=rules.BUDGET_CATEGORIES, statuses=rules.STATUSES, status_key=rules.status_key,
                can_write=can_write(), can_set_target=can_set_target(), fmt_phone=rules.format_phone,
                terbilang=letters.terbilang,
                fmt_npwp=rules.format_npwp)


def _year_arg() -> tuple[int, str | None]:
    raw = request.args.get("year", "").strip()
    if not raw:
        return today_wib().year, None
    if YEAR.match(raw) and 2000 <= int(raw) <= 2100:
        return int(raw), None
    return today_wib().year, _("Tahun tidak valid. Gunakan empat angka, misalnya 2026.")


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    return parse_id(raw)


# ---------------------------------------------------------------- overview

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
                    target=charts.TARGET_COLOUR), **_labels())


@bp.get("/")
@roles_required(*READERS)
def index():
    year, error = _year_arg()
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


# ---------------------------------------------------------------- sponsors

def get_sponsor(sponsor_id: int) -> Sponsor:
    """The sponsor or 404."""
    return db.get_or_404(Sponsor, sponsor_id)


@bp.get("/sponsors")
@roles_required(*READERS)
def sponsors():
    q = request.args.get("q", "").strip()[:80]
    kind = request.args.get("kind", "").strip()
    query = sa.select(Sponsor).order_by(Sponsor.name)
    error = None
    if q:
        like = f"%{q.lower()}%"
        query = query.where(sa.or_(sa.func.lower(Sponsor.name).like(like), sa.func.lower(Sponsor.sector).like(like)))
    if kind:
        if kind in rules.SPONSOR_KINDS:
            query = query.where(Sponsor.kind == kind)
        else:
            error = _("Jenis sponsor tidak dikenal.")
    rows = db.session.scalars(query).all()
    totals = _sponsor_totals()
    response = render_page_or_fragment("sponsors/sponsors.html", "sponsors/_sponsor_list.html", sponsors=rows,
                                       q=q, kind=kind, error=error, totals=totals, **_labels())
    if error:
        response.status_code = 422
    return response


def _sponsor_totals() -> dict[int, tuple[int, int]]:
    """sponsor id → (received value, pledged value), live contributions only."""
    totals: dict[int, list[int]] = {}
    rows = db.session.execute(sa.select(Contribution.sponsor_id, Contribution.status, Contribution.value)
                              .where(Contribution.voided_at.is_(None)))
    for sponsor_id, status, value in rows:
        entry = totals.setdefault(sponsor_id, [0, 0])
        if status == "received":
            entry[0] += int(value)
        elif status == "pledged":
            entry[1] += int(value)
    return {k: (v[0], v[1]) for k, v in totals.items()}


def _sponsor_input(form: SponsorForm) -> rules.SponsorInput:
    return rules.SponsorInput(name=form.name.data, kind=form.kind.data, sector=form.sector.data,
                              contact_person=form.contact_person.data, phone=form.phone.data,
                              email=form.email.data, npwp=form.npwp.data, address=form.address.data,
                              notes=form.notes.data, public_thanks=form.public_thanks.data)


@bp.route("/sponsors/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def sponsor_create():
    form = SponsorForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                sponsor = rules.create_sponsor(_sponsor_input(form), by_user_id=current_user.id)
            except DomainError as exc:
                show_domain_error(form, exc)
                return render_template("sponsors/sponsor_form.html", form=form, sponsor=None), _status(exc)
            flash(_("Sponsor disimpan."), "ok")
            return redirect(url_for("sponsors.sponsor_detail", sponsor_id=sponsor.id), 303)
        return render_template("sponsors/sponsor_form.html", form=form, sponsor=None), 422
    return render_template("sponsors/sponsor_form.html", form=form, sponsor=None)


@bp.route("/sponsors/<int:sponsor_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def sponsor_edit(sponsor_id: int):
    sponsor = get_sponsor(sponsor_id)
    if request.method == "GET":
        form = SponsorForm(obj=sponsor)
        form.phone.data = rules.format_phone(sponsor.phone)
        form.npwp.data = rules.format_npwp(sponsor.npwp)
        return render_template("sponsors/sponsor_form.html", form=form, sponsor=sponsor)
    form = SponsorForm()
    if form.validate_on_submit():
        try:
            rules.update_sponsor(sponsor, _sponsor_input(form), by_user_id=current_user.id)
        except DomainError as exc:
            show_domain_error(form, exc)
            return render_template("sponsors/sponsor_form.html", form=form, sponsor=sponsor), _status(exc)
        flash(_("Perubahan sponsor disimpan."), "ok")
        return redirect(url_for("sponsors.sponsor_detail", sponsor_id=sponsor.id), 303)
    return render_template("sponsors/sponsor_form.html", form=form, sponsor=sponsor), 422


@bp.get("/sponsors/<int:sponsor_id>")
@roles_required(*READERS)
def sponsor_detail(sponsor_id: int):
    sponsor = get_sponsor(sponsor_id)
    received, pledged = _sponsor_totals().get(sponsor.id, (0, 0))
    return render_template("sponsors/sponsor_detail.html", sponsor=sponsor, received=received, pledged=pledged,
                           history=rules.history("sponsor", sponsor.id), **_labels())


# ---------------------------------------------------------------- contributions

def get_contribution(contribution_id: int) -> Contribution:
    """The contribution or 404."""
    return db.get_or_404(Contribution, contribution_id)


def _event_choices() -> list[tuple[str, str]]:
    events = db.session.scalars(sa.select(Event).order_by(Event.date.desc(), Event.id.desc())).all()
    return [(str(e.id), f"{e.title} · {e.date.strftime('%d/%m/%Y')}") for e in events]


@bp.get("/contributions")
@roles_required(*READERS)
def contributions():
    errors = []
    f = rules.ContributionFilter()
    year_raw = request.args.get("year", "").strip()
    if year_raw:
        if YEAR.match(year_raw) and 2000 <= int(year_raw) <= 2100:
            f.year = int(year_raw)
        else:
            errors.append(_("Tahun tidak valid. Gunakan empat angka, misalnya 2026."))
    event_raw = request.args.get("event_id", "").strip()
    if event_raw == "program":
        f.event_id = 0
    elif event_raw:
        f.event_id = _int_arg("event_id")
        if f.event_id is None:
            errors.append(_("Kegiatan tidak dikenal."))
    for name, allowed in (("kind", rules.SPONSOR_KINDS), ("form", rules.FORMS), ("status", rules.STATUSES)):
        value = request.args.get(name, "").strip()
        if value and value not in allowed:
            errors.append(_("Saringan tidak dikenal: %(value)s.", value=value[:20]))
        elif value:
            setattr(f, name, value)
    f.sponsor_id = _int_arg("sponsor_id")
    rows = rules.list_contributions(f)
    live = [c for c in rows if not c.voided and c.status != "cancelled"]
    summary = dict(received=sum(c.value for c in live if c.status == "received"),
                   pledged=sum(c.value for c in live if c.status == "pledged"))
    response = render_page_or_fragment(
        "sponsors/contributions.html", "sponsors/_contribution_list.html", rows=rows, summary=summary,
        filters=dict(year=year_raw, event_id=event_raw, kind=request.args.get("kind", ""),
                     form=request.args.get("form", ""), status=request.args.get("status", ""),
                     sponsor_id=request.args.get("sponsor_id", "")),
        errors=errors, event_choices=_event_choices(), years=rules.funding_years(),
        sponsor_choices=db.session.execute(sa.select(Sponsor.id, Sponsor.name).order_by(Sponsor.name)).all(),
        **_labels())
    if errors:
        response.status_code = 422
    return response


def _line_choices(event_id: str | None) -> list[tuple[str, str]]:
    choices = [("", _("— Tidak menutup pos tertentu —"))]
    if parse_id(event_id):
        for line in rules.budget_lines(parse_id(event_id)):
            choices.append((str(line.id), f"{rules.BUDGET_CATEGORIES[line.category]}: {line.description}"))
    return choices


def _contribution_choices(form: ContributionForm) -> None:
    form.sponsor_id.choices = [("", _("— Pilih sponsor —"))] + [
        (str(i), n) for i, n in db.session.execute(sa.select(Sponsor.id, Sponsor.name).order_by(Sponsor.name))]
    form.event_id.choices = [("", _("Program BOTRAM (seluruh tahun, tanpa kegiatan)"))] + _event_choices()
    form.budget_line_id.choices = _line_choices(form.event_id.data)


def _as_int(value) -> int | None:
    value = (value or "").strip() if isinstance(value, str) else value
    if value in (None, ""):
        return None
    return parse_id(value) or -1


def _contribution_input(form: ContributionForm) -> rules.ContributionInput:
    return rules.ContributionInput(
        sponsor_id=_as_int(form.sponsor_id.data), event_id=_as_int(form.event_id.data), form=form.form.data,
        value_text=form.value.data, status=form.status.data, category=form.category.data or None,
        description=form.description.data, claimed_text=form.claimed_value.data,
        valuation_basis=form.valuation_basis.data, bast_number=form.bast_number.data,
        budget_line_id=_as_int(form.budget_line_id.data),
        items=[rules.ItemInput(name=i.form.name.data, quantity=i.form.quantity.data, unit=i.form.unit.data)
               for i in form.items] if form.form.data == "in_kind" else [],
        pledged_on=form.pledged_on.data, received_on=form.received_on.data,
        receipt_number=form.receipt_number.data)


def _contribution_form_page(form: ContributionForm, status: int = 200):
    _contribution_choices(form)
    return render_template("sponsors/contribution_form.html", form=form, today=today_wib(), **_labels()), status


@bp.route("/contributions/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def contribution_create():
    form = ContributionForm()
    if request.method == "GET":
        form.sponsor_id.data = request.args.get("sponsor_id", "")
        form.event_id.data = request.args.get("event_id", "")
        form.pledged_on.data = form.received_on.data = today_wib()
        return _contribution_form_page(form)
    if form.validate_on_submit():
        try:
            contribution = rules.record_contribution(_contribution_input(form), by_user_id=current_user.id)
        except DomainError as exc:
            show_domain_error(form, exc)
            return _contribution_form_page(form, _status(exc))
        flash(_("Sumbangan dicatat."), "ok")
        return redirect(url_for("sponsors.contribution_detail", contribution_id=contribution.id), 303)
    return _contribution_form_page(form, 422)


@bp.get("/contributions/line-options")
@roles_required(*WRITERS)
def line_options():
    """The budget-line <select> for the chosen event (htmx swaps it in when the event changes)."""
    form = ContributionForm(formdata=None)
    form.budget_line_id.choices = _line_choices(request.args.get("event_id", ""))
    return render_template("sponsors/_line_field.html", form=form)


def _detail(contribution: Contribution, status: int = 200, **forms):
    receive_form = forms.get("receive_form") or ReceiveForm(formdata=None, received_on=today_wib())
    return render_template(
        "sponsors/contribution_detail.html", c=contribution, history=rules.history("contribution", contribution.id),
        receive_form=receive_form, cancel_form=forms.get("cancel_form") or CancelForm(formdata=None),
        void_form=forms.get("void_form") or ReasonForm(formdata=None), open_dialog=forms.get("open_dialog"),
        today=today_wib(), **_labels()), status


@bp.get("/contributions/<int:contribution_id>")
@roles_required(*READERS)
def contribution_detail(contribution_id: int):
    return _detail(get_contribution(contribution_id))


@bp.get("/contributions/<int:contribution_id>/void")
@roles_required(*WRITERS)
def void_form(contribution_id: int):
    """Without JavaScript the void dialog is shown open on the detail page."""
    return _detail(get_contribution(contribution_id), open_dialog="void")


@bp.post("/contributions/<int:contribution_id>/receive")
@roles_required(*WRITERS)
def contribution_receive(contribution_id: int):
    contribution = get_contribution(contribution_id)
    form = ReceiveForm()
    if form.validate_on_submit():
        try:
            rules.mark_received(contribution, form.received_on.data, form.receipt_number.data, form.bast_number.data,
                                by_user_id=current_user.id)
        except DomainError as exc:
            show_domain_error(form, exc)
            return _detail(contribution, _status(exc), receive_form=form, open_dialog="receive")
        flash(_("Sumbangan dicatat sudah diterima."), "ok")
        return redirect(url_for("sponsors.contribution_detail", contribution_id=contribution.id), 303)
    return _detail(contribution, 422, receive_form=form, open_dialog="receive")


@bp.post("/contributions/<int:contribution_id>/cancel")
@roles_required(*WRITERS)
def contribution_cancel(contribution_id: int):
    contribution = get_contribution(contribution_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            rules.cancel_pledge(contribution, form.cancel_reason.data, by_user_id=current_user.id)
        except DomainError as exc:
            if exc.field == "reason":
                exc.field = "cancel_reason"
                exc.errors = [("cancel_reason" if f == "reason" else f, m) for f, m in exc.errors]
            show_domain_error(form, exc)
            return _detail(contribution, _status(exc), cancel_form=form, open_dialog="cancel")
        flash(_("Janji sumbangan dibatalkan."), "ok")
        return redirect(url_for("sponsors.contribution_detail", contribution_id=contribution.id), 303)
    return _detail(contribution, 422, cancel_form=form, open_dialog="cancel")


@bp.post("/contributions/<int:contribution_id>/void")
@roles_required(*WRITERS)
def contribution_void(contribution_id: int):
    contribution = get_contribution(contribution_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            rules.void_contribution(contribution, form.reason.data, by_user_id=current_user.id)
        except DomainError as exc:
            show_domain_error(form, exc)
            return _detail(contribution, _status(exc), void_form=form, open_dialog="void")
        flash(_("Catatan sumbangan dibatalkan. Catatan tetap tersimpan dan tidak dihitung lagi."), "ok")
        return redirect(url_for("sponsors.contribution_detail", contribution_id=contribution.id), 303)
    return _detail(contribution, 422, void_form=form, open_dialog="void")


def _document(contribution_id: int, kind: str):
    contribution = get_contribution(contribution_id)
    try:
        doc = letters.document(contribution, kind)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("sponsors.contribution_detail", contribution_id=contribution.id), 303)
    return render_template(f"sponsors/{kind}.html", doc=doc, c=contribution, **_labels())


@bp.get("/contributions/<int:contribution_id>/receipt")
@roles_required(*READERS)
def receipt(contribution_id: int):
    return _document(contribution_id, "receipt")


@bp.get("/contributions/<int:contribution_id>/letter")
@roles_required(*READERS)
def letter(contribution_id: int):
    return _document(contribution_id, "letter")


# ---------------------------------------------------------------- event budget

def get_event(event_id: int) -> Event:
    """The event or 404."""
    return db.get_or_404(Event, event_id)


def get_line(line_id: int) -> BudgetLine:
    """The budget line or 404."""
    return db.get_or_404(BudgetLine, line_id)


def _budget_context(event: Event, line_form: BudgetLineForm | None = None, **extra) -> dict:
    lines = rules.budget_lines(event.id, include_voided=True)
    covering: dict[int, list[Contribution]] = {}
    contributions = rules.list_contributions(rules.ContributionFilter(event_id=event.id))
    for c in contributions:
        if c.budget_line_id and not c.voided and c.status != "cancelled":
            covering.setdefault(c.budget_line_id, []).append(c)
    mix = rules.funding_mix(event.id)
    context = dict(event=event, lines=lines, covering=covering, contributions=contributions, mix=mix,
                   line_form=line_form or BudgetLineForm(formdata=None), editing=None, edit_form=None,
                   void_line=None, void_form=ReasonForm(formdata=None), target_bp=rules.target_bp(event.date.year),
                   bars=charts.stacked_bars([mix], width=360, height=260),
                   colours=dict(apbd=charts.APBD_COLOUR, cash=charts.CASH_COLOUR, in_kind=charts.IN_KIND_COLOUR),
                   **_labels())
    context.update(extra)
    return context


@bp.get("/events/<int:event_id>")
@roles_required(*READERS)
def event_budget(event_id: int):
    return render_template("sponsors/event_budget.html", **_budget_context(get_event(event_id)))


def _line_input(form: BudgetLineForm) -> rules.BudgetLineInput:
    return rules.BudgetLineInput(category=form.category.data, description=form.description.data,
                                 planned_text=form.planned.data, actual_text=form.actual.data)


def _budget_response(event: Event, status: int, saved_message: str | None, **extra):
    """htmx gets the budget fragment (with a toast when saved); a plain POST redirects or re-renders."""
    if not is_fragment_request():
        if saved_message:
            flash(saved_message, "ok")
            return redirect(url_for("sponsors.event_budget", event_id=event.id), 303)
        return render_template("sponsors/event_budget.html", **_budget_context(event, **extra)), status
    response = make_response(render_template("sponsors/_budget.html", **_budget_context(event, **extra)), status)
    response.headers["Vary"] = "HX-Request"
    if saved_message:
        toast(response, saved_message)
    return response


@bp.post("/events/<int:event_id>/lines")
@roles_required(*WRITERS)
def line_create(event_id: int):
    event = get_event(event_id)
    form = BudgetLineForm()
    if form.validate_on_submit():
        try:
            rules.add_budget_line(event, _line_input(form), by_user_id=current_user.id)
        except DomainError as exc:
            show_domain_error(form, exc)
            return _budget_response(event, _status(exc), None, line_form=form)
        return _budget_response(event, 200, _("Pos anggaran ditambahkan."))
    return _budget_response(event, 422, None, line_form=form)


@bp.route("/lines/<int:line_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def line_edit(line_id: int):
    line = get_line(line_id)
    event = line.event
    if request.method == "GET":
        form = BudgetLineForm(formdata=None, category=line.category, description=line.description,
                              planned=str(line.planned), actual="" if line.actual is None else str(line.actual))
        return _budget_response(event, 200, None, editing=line.id, edit_form=form)
    form = BudgetLineForm()
    if form.validate_on_submit():
        try:
            rules.update_budget_line(line, _line_input(form), by_user_id=current_user.id)
        except DomainError as exc:
            show_domain_error(form, exc)
            return _budget_response(event, _status(exc), None, editing=line.id, edit_form=form)
        return _budget_response(event, 200, _("Pos anggaran diperbarui."))
    return _budget_response(event, 422, None, editing=line.id, edit_form=form)


@bp.post("/lines/<int:line_id>/void")
@roles_required(*WRITERS)
def line_void(line_id: int):
    line = get_line(line_id)
    event = line.event
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            rules.void_budget_line(line, form.reason.data, by_user_id=current_user.id)
        except DomainError as exc:
            show_domain_error(form, exc)
            return _budget_response(event, _status(exc), None, void_line=line.id, void_form=form)
        return _budget_response(event, 200, _("Pos anggaran dibatalkan."))
    return _budget_response(event, 422, None, void_line=line.id, void_form=form)


# ---------------------------------------------------------------- exports

@bp.get("/export")
@roles_required(*READERS)
def export():
    form = ExportForm(request.args)
    error = None
    if form.validate():
        try:
            rows = export_rows(form.date_from.data, form.date_to.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            stem = f"sumbangan-botram-{form.date_from.data.isoformat()}-{form.date_to.data.isoformat()}"
            if form.format.data == "csv":
                response = make_response(to_csv(rows))
                response.headers["Content-Type"] = "text/csv; charset=utf-8"
                response.headers["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
            else:
                response = make_response(to_xlsx(rows, title=stem))
                response.headers["Content-Type"] = (
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                response.headers["Content-Disposition"] = f'attachment; filename="{stem}.xlsx"'
            return response
    error = next((e for f in form for e in f.errors), None) or _("Periode ekspor tidak valid.")
    return render_template("sponsors/export.html", export_form=form, error=error, **_labels()), 422
