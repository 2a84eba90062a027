"""An event's budget page: its lines with what covers them, add, edit and void a line."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...domain import funding as rules
from ...extensions import db
from ...models import BudgetLine, Contribution, Event
from ...permissions import may_manage_funding, may_read_funding
from ...security import requires
from ...web import is_fragment_request, render_page_or_fragment, toast
from ..reports import charts
from ..form_action import submit
from . import bp
from .forms import BudgetLineForm, ReasonForm
from .shared import labels


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
                   **labels())
    context.update(extra)
    return context


@bp.get("/events/<int:event_id>")
@requires(may_read_funding)
def event_budget(event_id: int):
    return render_template("sponsors/event_budget.html", **_budget_context(get_event(event_id)))


def _line_input(form: BudgetLineForm) -> rules.BudgetLineInput:
    return rules.BudgetLineInput(category=form.category.data, description=form.description.data,
                                 planned_text=form.planned.data, actual_text=form.actual.data)


def _budget_response(event: Event, status: int, saved_message: str | None, **extra):
    """htmx gets the budget fragment (with a toast when saved); a plain POST redirects or re-renders."""
    if saved_message and not is_fragment_request():
        flash(saved_message, "ok")
        return redirect(url_for("sponsors.event_budget", event_id=event.id), 303)
    response = render_page_or_fragment("sponsors/event_budget.html", "sponsors/_budget.html",
                                       **_budget_context(event, **extra))
    response.status_code = status
    return toast(response, saved_message) if saved_message else response


@bp.post("/events/<int:event_id>/lines")
@requires(may_manage_funding)
def line_create(event_id: int):
    event = get_event(event_id)
    form = BudgetLineForm()
    done = submit(form, lambda: rules.add_budget_line(event, _line_input(form), by_user_id=current_user.id))
    if not done:
        return _budget_response(event, done.status, None, line_form=form)
    return _budget_response(event, 200, _("Pos anggaran ditambahkan."))


@bp.route("/lines/<int:line_id>/edit", methods=["GET", "POST"])
@requires(may_manage_funding)
def line_edit(line_id: int):
    line = get_line(line_id)
    event = line.event
    if request.method == "GET":
        form = BudgetLineForm(formdata=None, category=line.category, description=line.description,
                              planned=str(line.planned), actual="" if line.actual is None else str(line.actual))
        return _budget_response(event, 200, None, editing=line.id, edit_form=form)
    form = BudgetLineForm()
    done = submit(form, lambda: rules.update_budget_line(line, _line_input(form), by_user_id=current_user.id))
    if not done:
        return _budget_response(event, done.status, None, editing=line.id, edit_form=form)
    return _budget_response(event, 200, _("Pos anggaran diperbarui."))


@bp.post("/lines/<int:line_id>/void")
@requires(may_manage_funding)
def line_void(line_id: int):
    line = get_line(line_id)
    event = line.event
    form = ReasonForm()
    done = submit(form, lambda: rules.void_budget_line(line, form.reason.data, by_user_id=current_user.id))
    if not done:
        return _budget_response(event, done.status, None, void_line=line.id, void_form=form)
    return _budget_response(event, 200, _("Pos anggaran dibatalkan."))
