"""Events: list, create/edit, status, running text, and the desks of an event (inline through htmx).

Thin views: parse the form, check the role, call botram.domain.events, show its message next to the field.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from ...domain import field as field_sync
from ...domain import DomainError
from ...domain import events as rules
from ...domain.clock import to_wib
from ...domain.ids import parse_id
from ...extensions import db
from ...models import Desk, Event, EventStatus
from ...security import roles_required
from ... import web
from ...web import is_fragment_request, render_page_or_fragment, show_domain_error
from . import bp
from .forms import DeskForm, DeskHoursForm, EmptyForm, EventForm, RunningTextForm, StatusForm

WRITERS = ("koordinator", "admin")
READERS = ("koordinator", "admin", "keuangan")
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def get_event(event_id: int) -> Event:
    """The event or 404."""
    return db.get_or_404(Event, event_id)


def get_desk(event: Event, desk_id: int) -> Desk:
    """A desk of this event or 404 (a desk id from another event is not found here)."""
    desk = db.session.get(Desk, desk_id)
    if desk is None or desk.event_id != event.id:
        abort(404)
    return desk


def can_edit() -> bool:
    return current_user.is_authenticated and current_user.role in WRITERS


def _wib(value: datetime):
    return to_wib(value).time().replace(second=0, microsecond=0)


# ---------------------------------------------------------------- list

@bp.get("/")
@roles_required(*READERS)
def index():
    status = request.args.get("status", "").strip()
    month = request.args.get("month", "").strip()
    errors: dict[str, str] = {}
    query = sa.select(Event).order_by(Event.date.desc(), Event.id.desc())
    if status:
        if status in {s.value for s in EventStatus}:
            query = query.where(Event.status == status)
        else:
            errors["status"] = _("Status tidak dikenal.")
    if month:
        match = MONTH.match(month)
        if match and 1 <= int(match.group(2)) <= 12 and 2000 <= int(match.group(1)) <= 2100:
            start = date(int(match.group(1)), int(match.group(2)), 1)
            end = (start + timedelta(days=32)).replace(day=1)
            query = query.where(Event.date >= start, Event.date < end)
        else:
            errors["month"] = _("Bulan tidak valid. Gunakan format TTTT-BB, misalnya 2026-11.")
    events = db.session.scalars(query).all()
    desk_counts = dict(db.session.execute(
        sa.select(Desk.event_id, sa.func.count()).group_by(Desk.event_id)).all())
    totals = dict(db.session.execute(sa.select(Event.status, sa.func.count()).group_by(Event.status)).all())
    response = render_page_or_fragment(
        "events/index.html", "events/_list.html", events=events, desk_counts=desk_counts, totals=totals,
        checkouts=field_sync.checkouts_of(e.id for e in events),
        status=status, month=month, months=_month_choices(month if "month" not in errors else ""), errors=errors,
        can_edit=can_edit())
    if errors:
        response.status_code = 422
    return response


def _month_choices(selected: str) -> list[tuple[str, str]]:
    """Months that hold an event, newest first, as ("2026-11", "November 2026")."""
    months = {(d.year, d.month) for d in db.session.scalars(sa.select(Event.date).distinct())}
    if selected:
        months.add((int(selected[:4]), int(selected[5:7])))
    return [(f"{y:04d}-{m:02d}", format_date(date(y, m, 1), "MMMM y")) for y, m in sorted(months, reverse=True)]


# ---------------------------------------------------------------- create / edit

def _region_choices(form: EventForm) -> None:
    form.kecamatan_code.choices = [("", _("— Pilih kecamatan —"))] + [
        (r.code, r.name) for r in rules.kecamatan_list()]
    desa = rules.desa_list(form.kecamatan_code.data)
    placeholder = _("— Pilih desa/kelurahan —") if desa else _("Pilih kecamatan dahulu")
    form.desa_code.choices = [("", placeholder)] + [(r.code, r.label) for r in desa]


def _event_input(form: EventForm) -> rules.EventInput:
    return rules.EventInput(title=form.title.data, date=form.date.data, venue=form.venue.data,
                            kecamatan_code=form.kecamatan_code.data or None, desa_code=form.desa_code.data or None,
                            opens=form.opens.data, closes=form.closes.data)


def _event_form_page(form: EventForm, event: Event | None, status: int = 200):
    _region_choices(form)
    return render_template("events/form.html", form=form, event=event), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def create():
    form = EventForm()
    if request.method == "GET":
        form.opens.data, form.closes.data = time(8, 0), time(16, 0)
        return _event_form_page(form, None)
    if "refresh" in request.form:  # no-JS: reload the desa list for the chosen kecamatan
        form.desa_code.data = ""
        return _event_form_page(form, None)
    if form.validate_on_submit():
        try:
            event = rules.create_event(_event_input(form), by_user_id=current_user.id)
        except DomainError as exc:
            show_domain_error(form, exc)
            return _event_form_page(form, None, 422)
        flash(_("Kegiatan dibuat sebagai draf. Tambahkan loketnya, lalu buka kegiatan."), "ok")
        return redirect(url_for("events.detail", event_id=event.id), 303)
    return _event_form_page(form, None, 422)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def edit(event_id: int):
    event = get_event(event_id)
    if event.status == EventStatus.CLOSED.value:
        flash(_("Kegiatan sudah ditutup dan tidak dapat diubah lagi."), "warning")
        return redirect(url_for("events.detail", event_id=event.id), 303)
    form = EventForm(obj=event if request.method == "GET" else None)
    if request.method == "GET":
        form.opens.data, form.closes.data = _wib(event.opens_at), _wib(event.closes_at)
        return _event_form_page(form, event)
    if "refresh" in request.form:
        form.desa_code.data = ""
        return _event_form_page(form, event)
    if form.validate_on_submit():
        try:
            rules.update_event(event, _event_input(form), by_user_id=current_user.id)
        except DomainError as exc:
            show_domain_error(form, exc)
            return _event_form_page(form, event, 422)
        flash(_("Perubahan kegiatan disimpan."), "ok")
        return redirect(url_for("events.detail", event_id=event.id), 303)
    return _event_form_page(form, event, 422)


@bp.get("/desa-options")
@roles_required(*WRITERS)
def desa_options():
    """The desa <select> for a kecamatan (htmx swaps it in when the kecamatan changes)."""
    form = EventForm(formdata=None)
    form.kecamatan_code.data = request.args.get("kecamatan_code", "")
    _region_choices(form)
    return render_template("events/_desa_field.html", form=form)


# ---------------------------------------------------------------- detail, status, running text

def _detail_context(event: Event, **extra) -> dict:
    context = dict(event=event, can_edit=can_edit(), transitions=rules.allowed_transitions(event),
                   has_visits=rules.has_visits(event), status_form=EmptyForm(),
                   running_form=extra.pop("running_form", None) or RunningTextForm(running_text=event.running_text),
                   desk_form=None, desk_editing=None, hours_form=None, hours_desk=None, wib=_wib,
                   checkout=field_sync.checkout_of(event.id))
    context.update(extra)
    return context


@bp.get("/<int:event_id>")
@roles_required(*READERS)
def detail(event_id: int):
    event = get_event(event_id)
    return render_template("events/detail.html", **_detail_context(event))


@bp.post("/<int:event_id>/status")
@roles_required(*WRITERS)
def change_status(event_id: int):
    event = get_event(event_id)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        rules.change_status(event, form.status.data, by_user_id=current_user.id)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("events.detail", event_id=event.id), 303)
    messages = {"open": _("Kegiatan dibuka. Pendaftaran dan loket dapat mulai melayani."),
                "closed": _("Kegiatan ditutup. Data kegiatan kini hanya dapat dibaca."),
                "draft": _("Kegiatan dikembalikan ke draf.")}
    flash(messages[event.status], "ok")
    return redirect(url_for("events.detail", event_id=event.id), 303)


@bp.post("/<int:event_id>/running-text")
@roles_required(*WRITERS)
def running_text(event_id: int):
    event = get_event(event_id)
    form = RunningTextForm()
    status = 200
    saved = False
    if form.validate_on_submit():
        try:
            rules.set_running_text(event, form.running_text.data, by_user_id=current_user.id)
            saved = True
        except DomainError as exc:
            show_domain_error(form, exc)
            status = 409 if exc.status == 409 else 422
    else:
        status = 422
    if saved and not is_fragment_request():
        flash(_("Teks berjalan disimpan."), "ok")
        return redirect(url_for("events.detail", event_id=event.id), 303)
    response = render_page_or_fragment("events/detail.html", "events/_running_text.html",
                                       **_detail_context(event, running_form=form))
    response.status_code = status
    return web.toast(response, _("Teks berjalan disimpan.")) if saved else response


# ---------------------------------------------------------------- desks

def _desk_choices(form: DeskForm) -> list:
    form.agency_id.choices = [("", _("— Pilih instansi —"))] + [(str(a.id), a.name) for a in rules.active_agencies()]
    return rules.active_services(parse_id(form.agency_id.data))


def _desk_input(form: DeskForm) -> rules.DeskInput:
    agency = (form.agency_id.data or "").strip()
    if not agency:
        agency_id = None
    else:
        agency_id = rules.parse_ids([agency], "agency_id", _("Instansi tidak dikenal."))[0]
    service_ids = rules.parse_ids(form.service_ids.data or [], "service_ids", _("Layanan tidak dikenal."))
    return rules.DeskInput(number=form.number.data, label=form.label.data, agency_id=agency_id,
                           service_ids=service_ids, opens=form.opens.data, closes=form.closes.data)


def _desks_response(event: Event, status: int = 200, toast: str | None = None, **extra):
    """The desks section: a fragment for htmx, the detail page otherwise."""
    context = _detail_context(event, oob=is_fragment_request(), **extra)
    if extra.get("desk_form") is not None:
        context["desk_services"] = _desk_choices(extra["desk_form"])
    response = render_page_or_fragment("events/detail.html", "events/_desks.html", **context)
    response.status_code = status
    if toast and is_fragment_request():
        web.toast(response, toast)
    return response


def _refuse_if_closed(event: Event):
    if event.status == EventStatus.CLOSED.value:
        if is_fragment_request():
            return _desks_response(event, 409, alert=_("Kegiatan sudah ditutup dan tidak dapat diubah lagi."))
        flash(_("Kegiatan sudah ditutup dan tidak dapat diubah lagi."), "warning")
        return redirect(url_for("events.detail", event_id=event.id), 303)
    return None


@bp.get("/<int:event_id>/desks")
@roles_required(*READERS)
def desks(event_id: int):
    """The desks section alone (htmx: cancel an open form); the detail page otherwise."""
    event = get_event(event_id)
    return _desks_response(event)


@bp.route("/<int:event_id>/desks/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def desk_new(event_id: int):
    event = get_event(event_id)
    refused = _refuse_if_closed(event)
    if refused is not None:
        return refused
    form = DeskForm()
    if request.method == "GET":
        form.number.data = rules.next_desk_number(event)
        form.opens.data, form.closes.data = _wib(event.opens_at), _wib(event.closes_at)
        if parse_id(request.args.get("agency_id", "")):
            form.agency_id.data = request.args["agency_id"]
        return _desks_response(event, desk_form=form)
    if "refresh" in request.form:  # no-JS: show the services of the chosen agency
        form.service_ids.data = []
        return _desks_response(event, desk_form=form)
    if form.validate_on_submit():
        try:
            desk = rules.add_desk(event, _desk_input(form), by_user_id=current_user.id)
        except DomainError as exc:
            show_domain_error(form, exc)
            return _desks_response(event, 409 if exc.status == 409 else 422, desk_form=form)
        message = _("Loket %(number)s ditambahkan.", number=desk.number)
        if not is_fragment_request():
            flash(message, "ok")
            return redirect(url_for("events.detail", event_id=event.id, _anchor="desks"), 303)
        return _desks_response(event, toast=message, highlight=desk.id)
    return _desks_response(event, 422, desk_form=form)


@bp.route("/<int:event_id>/desks/<int:desk_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def desk_edit(event_id: int, desk_id: int):
    event = get_event(event_id)
    desk = get_desk(event, desk_id)
    refused = _refuse_if_closed(event)
    if refused is not None:
        return refused
    form = DeskForm()
    if request.method == "GET":
        form.number.data, form.label.data = desk.number, desk.label
        form.agency_id.data = request.args.get("agency_id", "") if parse_id(request.args.get("agency_id", "")) \
            else str(desk.agency_id)
        form.service_ids.data = [str(s.id) for s in desk.services]
        form.opens.data, form.closes.data = _wib(desk.opens_at), _wib(desk.closes_at)
        return _desks_response(event, desk_form=form, desk_editing=desk)
    if "refresh" in request.form:
        form.service_ids.data = []
        return _desks_response(event, desk_form=form, desk_editing=desk)
    if form.validate_on_submit():
        try:
            rules.update_desk(desk, _desk_input(form), by_user_id=current_user.id)
        except DomainError as exc:
            show_domain_error(form, exc)
            return _desks_response(event, 409 if exc.status == 409 else 422, desk_form=form, desk_editing=desk)
        message = _("Loket %(number)s diperbarui.", number=desk.number)
        if not is_fragment_request():
            flash(message, "ok")
            return redirect(url_for("events.detail", event_id=event.id, _anchor="desks"), 303)
        return _desks_response(event, toast=message, highlight=desk.id)
    return _desks_response(event, 422, desk_form=form, desk_editing=desk)


@bp.get("/<int:event_id>/desks/services")
@roles_required(*WRITERS)
def desk_services(event_id: int):
    """The service checkboxes of one agency (htmx swaps them in when the agency changes)."""
    get_event(event_id)
    form = DeskForm(formdata=None)
    form.agency_id.data = request.args.get("agency_id", "")
    services = _desk_choices(form)
    return render_template("events/_desk_services.html", form=form, desk_services=services)


@bp.route("/<int:event_id>/desks/<int:desk_id>/hours", methods=["GET", "POST"])
@roles_required(*WRITERS)
def desk_hours(event_id: int, desk_id: int):
    """Change one desk's hours on the day (extend closing time); audited."""
    event = get_event(event_id)
    desk = get_desk(event, desk_id)
    refused = _refuse_if_closed(event)
    if refused is not None:
        return refused
    form = DeskHoursForm()
    if request.method == "GET":
        form.opens.data, form.closes.data = _wib(desk.opens_at), _wib(desk.closes_at)
        return _desks_response(event, hours_form=form, hours_desk=desk)
    extend = request.form.get("extend", "")
    try:
        if extend:  # the quick buttons: close later than now planned
            if not EmptyForm().validate_on_submit():
                abort(400)
            form = DeskHoursForm(formdata=None)
            form.opens.data, form.closes.data = _wib(desk.opens_at), _wib(desk.closes_at)
            rules.extend_desk_hours(desk, rules.parse_extension(extend), by_user_id=current_user.id)
        elif form.validate_on_submit():
            rules.set_desk_hours(desk, form.opens.data, form.closes.data, by_user_id=current_user.id)
        else:
            return _desks_response(event, 422, hours_form=form, hours_desk=desk)
    except DomainError as exc:
        if exc.status == 400:
            abort(400)
        show_domain_error(form, exc)
        return _desks_response(event, 409 if exc.status == 409 else 422, hours_form=form, hours_desk=desk)
    message = _("Jam loket %(number)s kini %(opens)s–%(closes)s WIB.", number=desk.number,
                opens=_wib(desk.opens_at).strftime("%H.%M"), closes=_wib(desk.closes_at).strftime("%H.%M"))
    if not is_fragment_request():
        flash(message, "ok")
        return redirect(url_for("events.detail", event_id=event.id, _anchor="desks"), 303)
    return _desks_response(event, toast=message, highlight=desk.id)


@bp.post("/<int:event_id>/desks/<int:desk_id>/delete")
@roles_required(*WRITERS)
def desk_delete(event_id: int, desk_id: int):
    event = get_event(event_id)
    desk = get_desk(event, desk_id)
    refused = _refuse_if_closed(event)
    if refused is not None:
        return refused
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    number = desk.number
    try:
        rules.remove_desk(desk, by_user_id=current_user.id)
    except DomainError as exc:
        if not is_fragment_request():
            flash(exc.message, "error")
            return redirect(url_for("events.detail", event_id=event.id, _anchor="desks"), 303)
        return _desks_response(event, exc.status, alert=exc.message)
    message = _("Loket %(number)s dihapus.", number=number)
    if not is_fragment_request():
        flash(message, "ok")
        return redirect(url_for("events.detail", event_id=event.id, _anchor="desks"), 303)
    return _desks_response(event, toast=message)
