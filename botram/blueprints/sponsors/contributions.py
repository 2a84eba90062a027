"""Contribution pages: the filtered list, record (with the budget lines of the chosen event), the detail
with receive, cancel and void, and the printable receipt and thank-you letter."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...domain import DomainError
from ...domain import funding as rules
from ...domain import letters
from ...domain.clock import today_wib
from ...domain.ids import parse_id
from ...extensions import db
from ...models import Contribution, ContributionStatus, Event, Sponsor
from ...permissions import may_manage_funding, may_read_funding
from ...security import requires
from ...web import render_page_or_fragment
from ..form_action import attempt, submit
from . import bp
from .forms import CancelForm, ContributionForm, ReasonForm, ReceiveForm
from .shared import YEAR, int_arg, labels


def get_contribution(contribution_id: int) -> Contribution:
    """The contribution or 404."""
    return db.get_or_404(Contribution, contribution_id)


def _event_choices() -> list[tuple[str, str]]:
    events = db.session.scalars(sa.select(Event).order_by(Event.date.desc(), Event.id.desc())).all()
    return [(str(e.id), f"{e.title} · {e.date.strftime('%d/%m/%Y')}") for e in events]


@bp.get("/contributions")
@requires(may_read_funding)
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
        f.event_id = int_arg("event_id")
        if f.event_id is None:
            errors.append(_("Kegiatan tidak dikenal."))
    for name, allowed in (("kind", rules.SPONSOR_KINDS), ("form", rules.FORMS), ("status", rules.STATUSES)):
        value = request.args.get(name, "").strip()
        if value and value not in allowed:
            errors.append(_("Saringan tidak dikenal: %(value)s.", value=value[:20]))
        elif value:
            setattr(f, name, value)
    f.sponsor_id = int_arg("sponsor_id")
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
        **labels())
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
    return render_template("sponsors/contribution_form.html", form=form, today=today_wib(), **labels()), status


@bp.route("/contributions/new", methods=["GET", "POST"])
@requires(may_manage_funding)
def contribution_create():
    form = ContributionForm()
    if request.method == "GET":
        form.sponsor_id.data = request.args.get("sponsor_id", "")
        form.event_id.data = request.args.get("event_id", "")
        form.pledged_on.data = form.received_on.data = today_wib()
        return _contribution_form_page(form)
    done = submit(form, lambda: rules.record_contribution(_contribution_input(form), by_user_id=current_user.id))
    if not done:
        return _contribution_form_page(form, done.status)
    flash(_("Sumbangan dicatat."), "ok")
    return redirect(url_for("sponsors.contribution_detail", contribution_id=done.result.id), 303)


@bp.get("/contributions/line-options")
@requires(may_manage_funding)
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
        today=today_wib(), **labels()), status


@bp.get("/contributions/<int:contribution_id>")
@requires(may_read_funding)
def contribution_detail(contribution_id: int):
    return _detail(get_contribution(contribution_id))


@bp.get("/contributions/<int:contribution_id>/void")
@requires(may_manage_funding)
def void_form(contribution_id: int):
    """Without JavaScript the void dialog is shown open on the detail page."""
    return _detail(get_contribution(contribution_id), open_dialog="void")


def _pledge_open(contribution: Contribution) -> bool:
    return contribution.voided_at is None and contribution.status == ContributionStatus.PLEDGED


def _state_first(applies: bool, form, write):
    """A dialog's action on a record whose state no longer allows it (another tab received, cancelled or voided
    it meanwhile) is refused for what it is, by the domain's own rule (409, its message above the record),
    whatever the dialog's fields held: their messages would stand in a dialog that is no longer drawn."""
    return submit(form, write) if applies else attempt(form, write)


@bp.post("/contributions/<int:contribution_id>/receive")
@requires(may_manage_funding)
def contribution_receive(contribution_id: int):
    contribution = get_contribution(contribution_id)
    form = ReceiveForm()
    done = _state_first(_pledge_open(contribution), form, lambda: rules.mark_received(
        contribution, form.received_on.data, form.receipt_number.data, form.bast_number.data,
        by_user_id=current_user.id))
    if not done:
        return _detail(contribution, done.status, receive_form=form, open_dialog="receive")
    flash(_("Sumbangan dicatat sudah diterima."), "ok")
    return redirect(url_for("sponsors.contribution_detail", contribution_id=contribution.id), 303)


@bp.post("/contributions/<int:contribution_id>/cancel")
@requires(may_manage_funding)
def contribution_cancel(contribution_id: int):
    contribution = get_contribution(contribution_id)
    form = CancelForm()

    def cancel():
        try:
            return rules.cancel_pledge(contribution, form.cancel_reason.data, by_user_id=current_user.id)
        except DomainError as exc:
            if exc.field == "reason":  # the dialog's field has a name of its own on the detail page
                exc.field = "cancel_reason"
                exc.errors = [("cancel_reason" if f == "reason" else f, m) for f, m in exc.errors]
            raise

    done = _state_first(_pledge_open(contribution), form, cancel)
    if not done:
        return _detail(contribution, done.status, cancel_form=form, open_dialog="cancel")
    flash(_("Janji sumbangan dibatalkan."), "ok")
    return redirect(url_for("sponsors.contribution_detail", contribution_id=contribution.id), 303)


@bp.post("/contributions/<int:contribution_id>/void")
@requires(may_manage_funding)
def contribution_void(contribution_id: int):
    contribution = get_contribution(contribution_id)
    form = ReasonForm()
    done = _state_first(contribution.voided_at is None, form,
                        lambda: rules.void_contribution(contribution, form.reason.data, by_user_id=current_user.id))
    if not done:
        return _detail(contribution, done.status, void_form=form, open_dialog="void")
    flash(_("Catatan sumbangan dibatalkan. Catatan tetap tersimpan dan tidak dihitung lagi."), "ok")
    return redirect(url_for("sponsors.contribution_detail", contribution_id=contribution.id), 303)


def _document(contribution_id: int, kind: str):
    contribution = get_contribution(contribution_id)
    try:
        doc = letters.document(contribution, kind)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("sponsors.contribution_detail", contribution_id=contribution.id), 303)
    return render_template(f"sponsors/{kind}.html", doc=doc, c=contribution, **labels())


@bp.get("/contributions/<int:contribution_id>/receipt")
@requires(may_read_funding)
def receipt(contribution_id: int):
    return _document(contribution_id, "receipt")


@bp.get("/contributions/<int:contribution_id>/letter")
@requires(may_read_funding)
def letter(contribution_id: int):
    return _document(contribution_id, "letter")
