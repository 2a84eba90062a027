"""Events: list, create/edit, status, running text, and the desks of an event (inline through htmx).

Thin views: parse the form, check the role, call botram.domain.events, show its message next to the field.
"""
from __future__ import annotations

import re
from datetime import date, time, timedelta

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from ...domain import field as field_sync
from ...domain import DomainError
from ...domain import booking
from ...domain import notify
from ...domain.clock import to_wib
from ...domain import events as rules
from ...domain.ids import is_digits, parse_id
from ...extensions import db
from ...models import Desk, Event, EventStatus
from ...permissions import may_manage_events, may_read_events
from ...security import requires
from ... import web
from ...web import is_fragment_request, render_page_or_fragment
from ..form_action import change_desk_hours, submit, wib_clock
from . import bp
from .forms import BookingPlanForm, DeskForm, DeskHoursForm, EmptyForm, EventForm, RunningTextForm, StatusForm

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
    return may_manage_events(current_user)


# ---------------------------------------------------------------- list

PER_PAGE = 25  # a regency year holds 200 events: a page the coordinator can scan, a few KB over the wire


@bp.get("/")
@requires(may_read_events)
def index():
    """The events, newest first, filtered by status, month, year and kecamatan, 25 to a page."""
    status = request.args.get("status", "").strip()
    month = request.args.get("month", "").strip()
    year = request.args.get("year", "").strip()
    kecamatan = request.args.get("kecamatan", "").strip()
    errors: dict[str, str] = {}
    query = sa.select(Event)
    kecamatan_names = {r.code: r.name for r in rules.kecamatan_list()}
    if year:
        if is_digits(year) and len(year) == 4 and 2000 <= int(year) <= 2100:
            query = query.where(Event.date >= date(int(year), 1, 1), Event.date <= date(int(year), 12, 31))
        else:
            errors["year"] = _("Tahun tidak valid. Pilih dari daftar.")
    if kecamatan:
        if kecamatan in kecamatan_names:
            query = query.where(Event.kecamatan_code == kecamatan)
        else:
            errors["kecamatan"] = _("Kecamatan tidak dikenal. Pilih dari daftar.")
    # The status segments count every event (htmx swaps only the list, so counts that followed the other
    # filters would be right after a full load and stale after a filter change).
    totals = dict(db.session.execute(sa.select(Event.status, sa.func.count()).group_by(Event.status)).all())
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
    raw_page = request.args.get("page", "").strip()
    page = 1
    if raw_page:
        if is_digits(raw_page) and len(raw_page) <= 6 and int(raw_page) >= 1:
            page = int(raw_page)
        else:
            errors["page"] = _("Nomor halaman tidak valid.")
    found = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-found // PER_PAGE))
    page = min(page, pages)  # a page past the end (the list shrank) shows the last one
    events = db.session.scalars(
        query.options(selectinload(Event.kecamatan), selectinload(Event.desa))
        .order_by(Event.date.desc(), Event.id.desc()).limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all()
    ids = [e.id for e in events]
    desk_counts = dict(db.session.execute(
        sa.select(Desk.event_id, sa.func.count()).where(Desk.event_id.in_(ids)).group_by(Desk.event_id)).all())
    filters = {k: v for k, v in (("status", status), ("month", month), ("year", year), ("kecamatan", kecamatan))
               if v and k not in errors}
    response = render_page_or_fragment(
        "events/index.html", "events/_list.html", events=events, desk_counts=desk_counts, totals=totals,
        checkouts=field_sync.checkouts_of(ids), status=status, month=month, year=year, kecamatan=kecamatan,
        months=_month_choices(month if "month" not in errors else ""), years=_year_choices(),
        kecamatan_choices=sorted(kecamatan_names.items(), key=lambda kv: kv[1]), errors=errors, can_edit=can_edit(),
        page_number=page, pages=pages, found=found, per_page=PER_PAGE, filters=filters)
    if errors:
        response.status_code = 422
    return response


def _year_choices() -> list[int]:
    """Years that hold an event, newest first."""
    return sorted({d.year for d in db.session.scalars(sa.select(Event.date).distinct())}, reverse=True)


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
                            opens=form.opens.data, closes=form.closes.data,
                            notify_near_ahead=form.notify_near_ahead.data)


def _event_form_page(form: EventForm, event: Event | None, status: int = 200):
    _region_choices(form)
    return render_template("events/form.html", form=form, event=event,
                           near_default=notify.near_ahead()), status


@bp.route("/new", methods=["GET", "POST"])
@requires(may_manage_events)
def create():
    form = EventForm()
    if request.method == "GET":
        form.opens.data, form.closes.data = time(8, 0), time(16, 0)
        return _event_form_page(form, None)
    if "refresh" in request.form:  # no-JS: reload the desa list for the chosen kecamatan
        form.desa_code.data = ""
        return _event_form_page(form, None)
    done = submit(form, lambda: rules.create_event(_event_input(form), by_user_id=current_user.id))
    if not done:
        return _event_form_page(form, None, done.status)
    flash(_("Kegiatan dibuat sebagai draf. Tambahkan loketnya, lalu buka kegiatan."), "ok")
    return redirect(url_for("events.detail", event_id=done.result.id), 303)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@requires(may_manage_events)
def edit(event_id: int):
    event = get_event(event_id)
    if event.status == EventStatus.CLOSED:
        flash(_("Kegiatan sudah ditutup dan tidak dapat diubah lagi."), "warning")
        return redirect(url_for("events.detail", event_id=event.id), 303)
    form = EventForm(obj=event if request.method == "GET" else None)
    if request.method == "GET":
        form.opens.data, form.closes.data = wib_clock(event.opens_at), wib_clock(event.closes_at)
        return _event_form_page(form, event)
    if "refresh" in request.form:
        form.desa_code.data = ""
        return _event_form_page(form, event)
    done = submit(form, lambda: rules.update_event(event, _event_input(form), by_user_id=current_user.id))
    if not done:
        return _event_form_page(form, event, done.status)
    flash(_("Perubahan kegiatan disimpan."), "ok")
    return redirect(url_for("events.detail", event_id=event.id), 303)


@bp.get("/desa-options")
@requires(may_manage_events)
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
                   desk_form=None, desk_editing=None, hours_form=None, hours_desk=None, wib=wib_clock,
                   checkout=field_sync.checkout_of(event.id))
    context.update(extra)
    return context


@bp.get("/<int:event_id>")
@requires(may_read_events)
def detail(event_id: int):
    event = get_event(event_id)
    return render_template("events/detail.html", **_detail_context(event))


@bp.post("/<int:event_id>/status")
@requires(may_manage_events)
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


@bp.post("/<int:event_id>/announce")
@requires(may_manage_events)
def announce(event_id: int):
    """Announce a draft on the public schedule (bookable), or withdraw the announcement."""
    event = get_event(event_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    announced = request.form.get("announced") == "1"
    try:
        rules.set_announced(event, announced, by_user_id=current_user.id)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("events.detail", event_id=event.id), 303)
    flash(_("Kegiatan diumumkan di jadwal publik.") if announced else _("Pengumuman kegiatan ditarik."), "ok")
    return redirect(url_for("events.detail", event_id=event.id), 303)


def _plan_form(event: Event, formdata=True) -> tuple[BookingPlanForm, list]:
    """The booking form with one quota field per service offered at the event, prefilled from the plan (or the
    default windows, quotas 0, closing the evening before at 20.00)."""
    from ...domain.booking.plan import event_services, plan_of

    services = event_services(event.id)
    plan = plan_of(event.id)
    if plan is None:
        data = {"closes_on": event.date - timedelta(days=1), "closes_time": time(20), "grace_minutes":
                current_app.config["BOTRAM_BOOKING_GRACE_MINUTES"],
                "windows": [{"starts": a, "ends": b, "quotas": [0] * len(services)} for a, b in booking.DEFAULT_WINDOWS]}
    else:
        view = booking.booking_view(event)
        data = {"closes_on": to_wib(plan.closes_at).date(), "closes_time": wib_clock(plan.closes_at),
                "grace_minutes": plan.grace_minutes,
                "windows": [{"starts": wib_clock(w.starts_at), "ends": wib_clock(w.ends_at),
                             "quotas": [(w.quota_for(s.id).quota if w.quota_for(s.id) else 0) for s in services]}
                            for w in view.windows]}
    form = BookingPlanForm(data=data) if not formdata else BookingPlanForm()
    if formdata and not form.windows.entries:
        form = BookingPlanForm(data=data)
    return form, services


def _booking_page(event: Event, form: BookingPlanForm, services: list, status: int = 200):
    from ...domain.booking.plan import coordinator_rows

    response = current_app.make_response(render_template(
        "events/booking.html", event=event, form=form, services=services, can_edit=can_edit(),
        rows=coordinator_rows(event), view=booking.booking_view(event)))
    response.status_code = status
    return response


@bp.get("/<int:event_id>/booking")
@requires(may_read_events)
def booking_plan(event_id: int):
    """Booking before the day: open it (windows, quotas, closing time, grace) and see bookings against quotas."""
    event = get_event(event_id)
    form, services = _plan_form(event, formdata=False)
    return _booking_page(event, form, services)


@bp.post("/<int:event_id>/booking")
@requires(may_manage_events)
def booking_save(event_id: int):
    event = get_event(event_id)
    form, services = _plan_form(event)

    def write():
        windows = []
        for entry in form.windows.entries:
            quotas = {s.id: (q.data or 0) for s, q in zip(services, entry.form.quotas.entries)}
            windows.append(booking.WindowInput(entry.form.starts.data, entry.form.ends.data, quotas))
        return booking.open_booking(event, booking.PlanInput(
            closes_on=form.closes_on.data, closes_at=form.closes_time.data, grace_minutes=form.grace_minutes.data,
            windows=windows), by_user_id=current_user.id)

    done = submit(form, write)
    if done:
        flash(_("Pemesanan disimpan."), "ok")
        return redirect(url_for("events.booking_plan", event_id=event.id), 303)
    db.session.rollback()
    # A rule about the windows as a whole (overlap, a quota over its cap) is shown above the windows.
    form.form_errors.extend(str(e) for e in form.windows.errors if not isinstance(e, (dict, list)))
    return _booking_page(get_event(event_id), form, services, done.status)


@bp.post("/<int:event_id>/running-text")
@requires(may_manage_events)
def running_text(event_id: int):
    event = get_event(event_id)
    form = RunningTextForm()
    done = submit(form, lambda: rules.set_running_text(event, form.running_text.data, by_user_id=current_user.id))
    saved, status = bool(done), done.status or 200
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
    if event.status == EventStatus.CLOSED:
        if is_fragment_request():
            return _desks_response(event, 409, alert=_("Kegiatan sudah ditutup dan tidak dapat diubah lagi."))
        flash(_("Kegiatan sudah ditutup dan tidak dapat diubah lagi."), "warning")
        return redirect(url_for("events.detail", event_id=event.id), 303)
    return None


@bp.get("/<int:event_id>/desks")
@requires(may_read_events)
def desks(event_id: int):
    """The desks section alone (htmx: cancel an open form); the detail page otherwise."""
    event = get_event(event_id)
    return _desks_response(event)


@bp.route("/<int:event_id>/desks/new", methods=["GET", "POST"])
@requires(may_manage_events)
def desk_new(event_id: int):
    event = get_event(event_id)
    refused = _refuse_if_closed(event)
    if refused is not None:
        return refused
    form = DeskForm()
    if request.method == "GET":
        form.number.data = rules.next_desk_number(event)
        form.opens.data, form.closes.data = wib_clock(event.opens_at), wib_clock(event.closes_at)
        if parse_id(request.args.get("agency_id", "")):
            form.agency_id.data = request.args["agency_id"]
        return _desks_response(event, desk_form=form)
    if "refresh" in request.form:  # no-JS: show the services of the chosen agency
        form.service_ids.data = []
        return _desks_response(event, desk_form=form)
    done = submit(form, lambda: rules.add_desk(event, _desk_input(form), by_user_id=current_user.id))
    if done:
        message = _("Loket %(number)s ditambahkan.", number=done.result.number)
        if not is_fragment_request():
            flash(message, "ok")
            return redirect(url_for("events.detail", event_id=event.id, _anchor="desks"), 303)
        return _desks_response(event, toast=message, highlight=done.result.id)
    return _desks_response(event, done.status, desk_form=form)


@bp.route("/<int:event_id>/desks/<int:desk_id>/edit", methods=["GET", "POST"])
@requires(may_manage_events)
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
        form.opens.data, form.closes.data = wib_clock(desk.opens_at), wib_clock(desk.closes_at)
        return _desks_response(event, desk_form=form, desk_editing=desk)
    if "refresh" in request.form:
        form.service_ids.data = []
        return _desks_response(event, desk_form=form, desk_editing=desk)
    done = submit(form, lambda: rules.update_desk(desk, _desk_input(form), by_user_id=current_user.id))
    if done:
        message = _("Loket %(number)s diperbarui.", number=desk.number)
        if not is_fragment_request():
            flash(message, "ok")
            return redirect(url_for("events.detail", event_id=event.id, _anchor="desks"), 303)
        return _desks_response(event, toast=message, highlight=desk.id)
    return _desks_response(event, done.status, desk_form=form, desk_editing=desk)


@bp.get("/<int:event_id>/desks/services")
@requires(may_manage_events)
def desk_services(event_id: int):
    """The service checkboxes of one agency (htmx swaps them in when the agency changes)."""
    get_event(event_id)
    form = DeskForm(formdata=None)
    form.agency_id.data = request.args.get("agency_id", "")
    services = _desk_choices(form)
    return render_template("events/_desk_services.html", form=form, desk_services=services)


@bp.route("/<int:event_id>/desks/<int:desk_id>/hours", methods=["GET", "POST"])
@requires(may_manage_events)
def desk_hours(event_id: int, desk_id: int):
    """Change one desk's hours on the day (extend closing time); audited."""
    event = get_event(event_id)
    desk = get_desk(event, desk_id)
    refused = _refuse_if_closed(event)
    if refused is not None:
        return refused
    form = DeskHoursForm()
    if request.method == "GET":
        form.opens.data, form.closes.data = wib_clock(desk.opens_at), wib_clock(desk.closes_at)
        return _desks_response(event, hours_form=form, hours_desk=desk)
    done = change_desk_hours(desk, form, request.form.get("extend", "").strip())
    if not done:
        return _desks_response(event, done.status, hours_form=form, hours_desk=desk)
    message = _("Jam loket %(number)s kini %(opens)s–%(closes)s WIB.", number=desk.number,
                opens=wib_clock(desk.opens_at).strftime("%H.%M"), closes=wib_clock(desk.closes_at).strftime("%H.%M"))
    if not is_fragment_request():
        flash(message, "ok")
        return redirect(url_for("events.detail", event_id=event.id, _anchor="desks"), 303)
    return _desks_response(event, toast=message, highlight=desk.id)


@bp.post("/<int:event_id>/desks/<int:desk_id>/delete")
@requires(may_manage_events)
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
