"""Reception: register a visitor by keyboard, print the ticket, cancel or restore today's tickets.

Thin on purpose: the form only parses, `botram.domain.queue` holds every rule.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

import segno
import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ...domain import DomainError, booking, printing
from ...domain import field as field_sync
from ...domain import nik as nik_rules
from ...domain import notify
from ...domain.ids import parse_id
from ...domain import queue
from ...extensions import db
from ...models import Agency, Desk, Event, EventStatus, LifeEventPackage, PackageService, Step, Visit
from ...permissions import may_register_visitors
from ...security import requires
from ...web import is_fragment_request, render_page_or_fragment, toast
from ..public import routes as public_routes
from . import bp

from .forms import PRIORITY_CHOICES, ActionForm, VisitForm, priority_label

TODAY_LIMIT = 40
PRINTER_COOKIE = "botram_printer"  # this reception computer's thermal printer (admin: Printer, station)


def _station_printer():
    raw = request.cookies.get(PRINTER_COOKIE, "")
    return printing.printer_for_station(parse_id(raw))


def _print_request(visit: Visit, printer, key: str, reprint: bool = False):
    """A print job (an outbox row the worker sends after the commit) for the ticket on `printer`."""
    request = printing.request_reprint if reprint else printing.request_print
    return request(visit.id, printer.id, key, status_url=public_routes.status_url(visit.public_token),
                   priority_text=priority_label(visit.priority) if visit.priority != "none" else "",
                   by_user_id=current_user.id)


@dataclass
class Catalog:
    """What reception can offer at one event: services grouped by agency, packages, and desk numbers."""

    groups: list[tuple[Agency, list]] = field(default_factory=list)
    services: dict[int, object] = field(default_factory=dict)
    desks: dict[int, list[Desk]] = field(default_factory=dict)
    packages: list[tuple[LifeEventPackage, list[int]]] = field(default_factory=list)

    def desk_numbers(self, service_id: int) -> str:
        return ", ".join(str(d.number) for d in self.desks.get(service_id, []))


def _event_or_404(event_id: int) -> Event:
    """The event, or 404."""
    return db.get_or_404(Event, event_id)


def _catalog(event: Event) -> Catalog:
    """Services offered by this event's desks (by agency), their desks, and packages available here."""
    catalog = Catalog()
    desks = db.session.scalars(
        sa.select(Desk).where(Desk.event_id == event.id).order_by(Desk.number)
        .options(selectinload(Desk.services), selectinload(Desk.agency))
    ).all()
    for desk in desks:
        for service in desk.services:
            if not service.active:
                continue
            catalog.services.setdefault(service.id, service)
            catalog.desks.setdefault(service.id, []).append(desk)
    by_agency: dict[int, tuple[Agency, list]] = {}
    for service in sorted(catalog.services.values(), key=lambda s: (s.agency.name, s.code)):
        by_agency.setdefault(service.agency_id, (service.agency, []))[1].append(service)
    order = {desk.agency_id: i for i, desk in reversed(list(enumerate(desks)))}
    catalog.groups = sorted(by_agency.values(), key=lambda g: order.get(g[0].id, 999))
    for group in catalog.groups:
        group[1].sort(key=lambda s: (min(d.number for d in catalog.desks[s.id]), s.name))
    packages = db.session.scalars(
        sa.select(LifeEventPackage).where(LifeEventPackage.active.is_(True)).order_by(LifeEventPackage.name)
        .options(selectinload(LifeEventPackage.items).selectinload(PackageService.service))
    ).all()
    for package in packages:
        ids = [item.service_id for item in package.items if item.service_id in catalog.services]
        if ids:
            catalog.packages.append((package, ids))
    return catalog


_CODE_QUERY = re.compile(r"^([A-Z])-(\d{1,6})$")


def _query() -> str:
    """The ticket-code search of today's list (`q`), normalised the way codes are printed: `a12` → `A-12`."""
    raw = "".join(ch for ch in (request.args.get("q") or "")[:20].upper() if ch.isalnum() or ch == "-")
    if len(raw) > 1 and raw[0].isalpha() and raw[1].isdigit():
        raw = raw[0] + "-" + raw[1:]
    return raw[:10]


def _today(event: Event, query: str = "") -> list[Visit]:
    """The event's latest tickets, or those whose code contains `query` (any ticket of the day, to reprint)."""
    select = sa.select(Visit).where(Visit.event_id == event.id)
    if query:
        match = _CODE_QUERY.match(query)
        condition = Visit.code.contains(query, autoescape=True)
        if match:  # "A-12" also finds A-012: people read the number, not the zeros
            condition = sa.or_(condition, sa.and_(Visit.letter == match[1], Visit.seq == int(match[2])))
        select = select.where(condition)
    return db.session.scalars(
        select.order_by(Visit.created_at.desc(), Visit.id.desc())
        .limit(TODAY_LIMIT).options(selectinload(Visit.steps).selectinload(Step.service))
    ).all()


def _requested_services(form: VisitForm, catalog: Catalog) -> list[int]:
    """Packages first (their services in the package's order), then the ticked services; duplicates kept
    out. A package checkbox sent alone (no JavaScript) expands here to its services."""
    wanted: list[int] = []
    packages = dict((p.id, ids) for p, ids in catalog.packages)
    for package_id in form.packages.data or []:
        if package_id not in packages:
            raise DomainError(_("Paket layanan tidak dikenal atau tidak tersedia di kegiatan ini."),
                              field="packages")
        wanted.extend(packages[package_id])
    wanted.extend(form.services.data or [])
    seen: set[int] = set()
    return [s for s in wanted if not (s in seen or seen.add(s))]


def _ticket_context(visit: Visit, catalog: Catalog | None = None) -> dict:
    catalog = catalog or _catalog(visit.event)
    status_url = public_routes.status_url(visit.public_token)
    rows = []
    for step in visit.steps:
        rows.append({
            "step": step,
            "service": step.service,
            "desks": catalog.desk_numbers(step.service_id),
            "ahead": queue.people_ahead(step.id) if step.status == "waiting" else None,
        })
    return {
        "visit": visit, "rows": rows, "status_url": status_url,
        "qr_svg": segno.make(status_url, error="m").svg_inline(
            scale=4, omitsize=True, title=_("Kode QR status tiket %(code)s", code=visit.code)),
        "priority_text": priority_label(visit.priority) if visit.priority != "none" else "",
        "loopback_url": public_routes.is_loopback(status_url),
    }


def _screen(event: Event, form: VisitForm, *, catalog: Catalog, issued=None, warnings=None,
            error: str | None = None, status: int = 200, checkin: dict | None = None):
    """The reception screen (page) or its workspace (htmx fragment: form + result panel + today's list)."""
    context = {
        "event": event, "form": form, "catalog": catalog, "priorities": PRIORITY_CHOICES,
        "warnings": warnings or [], "error": error, "today": _today(event, _query()), "query": _query(),
        "open": event.status == "open", "checkout": field_sync.checkout_of(event.id),
        "version": event.queue_version, "priority_label": priority_label, "action_form": ActionForm(),
        "notify_on": notify.enabled(),
        # The booking check-in only where online booking was opened: elsewhere it would be a field nobody uses.
        "bookings_on": booking.plan_of(event.id) is not None,
        "checkin_code": None, "checkin_error": None, "checkin_matches": None, "focus_checkin": False,
        **(checkin or {}),
    }
    printer = _station_printer()
    context.update(station_printer=printer, station_printers=printing.printers.station_printers(),
                   reprint_key=secrets.token_urlsafe(24))
    if issued is not None:
        context.update(_ticket_context(issued, catalog))
        context["issued"] = issued
        context["print_job"] = printing.last_job_for(issued.id) if printer else None
    response = render_page_or_fragment("reception/event.html", "reception/_workspace.html", **context)
    response.status_code = status
    return response


@bp.get("/")
@requires(may_register_visitors)
def index():
    events = db.session.scalars(
        sa.select(Event).where(Event.status == EventStatus.OPEN).order_by(Event.date, Event.title)
    ).all()
    if len(events) == 1:
        return redirect(url_for("reception.event", event_id=events[0].id))
    return render_template("reception/index.html", events=events)


@bp.route("/<int:event_id>", methods=["GET", "POST"])
@requires(may_register_visitors)
def event(event_id: int):
    event = _event_or_404(event_id)
    catalog = _catalog(event)
    if request.method == "GET":
        form = VisitForm(formdata=None)
        issued = None
        shown = request.args.get("visit", type=int)
        if shown:
            issued = db.session.get(Visit, shown)
            if issued is None or issued.event_id != event.id:
                issued = None
        return _screen(event, form, catalog=catalog, issued=issued,
                       checkin=dict(focus_checkin=bool(request.args.get("scan"))))

    form = VisitForm()
    if not form.validate():
        if form.csrf_token.errors:
            abort(400)
        return _screen(event, form, catalog=catalog, status=422)
    try:
        service_ids = _requested_services(form, catalog)
        result = queue.issue_visit(
            event.id, service_ids, priority=form.priority.data or "none", name=form.name.data or None,
            nik=form.nik.data or None, phone=form.phone.data or None, by_user_id=current_user.id,
            notify=bool(form.notify.data), locale=form.notify_locale.data)
    except DomainError as exc:
        error = None
        for field_name, message in exc.errors:  # every field's mistake at once, each next to its field
            if field_name in ("services", "packages", "priority", "name", "nik", "phone"):
                form[field_name].errors = list(form[field_name].errors or []) + [message]
            else:
                error = message
        if exc.status == 404:
            abort(404)
        return _screen(event, form, catalog=catalog, error=error, status=exc.status)

    visit = result.visit
    printer = _station_printer()
    if printer is not None:  # printing is its own step after the ticket's commit: a dead printer never loses a ticket
        _print_request(visit, printer, "reception")
    if not is_fragment_request():
        return redirect(url_for("reception.event", event_id=event.id, visit=visit.id), 303)
    db.session.refresh(event)
    response = _screen(event, VisitForm(formdata=None), catalog=catalog, issued=visit,
                       warnings=result.warnings)
    return toast(response, _("Tiket %(code)s dibuat.", code=visit.code))


@bp.post("/<int:event_id>/check-in")
@requires(may_register_visitors)
def check_in(event_id: int):
    """A booking checked in by its code (typed, or scanned: the scanner types it and Enter) or phone number:
    it becomes a visit with its ticket, shown and printed as any other (domain/booking/checkin.py)."""
    event = _event_or_404(event_id)
    catalog = _catalog(event)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    text = (request.form.get("code") or "").strip()[:40]
    try:
        found = [b for b in booking.find_for_check_in(event.id, text) if b.status == "booked"]
        if len(found) > 1:
            return _screen(event, VisitForm(formdata=None), catalog=catalog, status=409,
                           checkin=dict(checkin_code=text, checkin_matches=found, focus_checkin=True,
                                        checkin_error=_("Pilih pemesanan yang akan didaftarkan.")))
        if not found:
            raise DomainError(_("Pemesanan itu sudah didaftarkan atau dibatalkan."), field="code", status=409)
        result = booking.check_in(found[0].id, by_user_id=current_user.id)
    except DomainError as exc:
        db.session.rollback()
        return _screen(event, VisitForm(formdata=None), catalog=catalog, status=exc.status,
                       checkin=dict(checkin_code=text, checkin_error=exc.message, focus_checkin=True))
    visit = result.visit
    if not is_fragment_request():
        return redirect(url_for("reception.event", event_id=event.id, visit=visit.id, scan=1), 303)
    db.session.refresh(event)
    # the next citizen in line is likely another booker: the code field keeps the focus for the scanner
    response = _screen(event, VisitForm(formdata=None), catalog=catalog, issued=visit, warnings=result.warnings,
                       checkin=dict(focus_checkin=True))
    return toast(response, _("Pemesanan didaftarkan: tiket %(code)s.", code=visit.code))


@bp.post("/nik")
@requires(may_register_visitors)
def check_nik():
    """Live check while typing (htmx): the same rule the ticket applies, shown under the field."""
    raw = (request.form.get("nik") or "").strip()[:40]
    context = {"nik_error": None, "nik_warnings": [], "nik_ok": False}
    if raw:
        try:
            checked = nik_rules.check_nik(raw, current_app.config["BOTRAM_REGENCY_CODE"])
        except DomainError as exc:
            context["nik_error"] = exc.message
        else:
            context["nik_warnings"] = checked.warnings
            context["nik_ok"] = True
    return render_template("reception/_nik_feedback.html", **context)


@bp.get("/<int:event_id>/visits")
@requires(may_register_visitors)
def today(event_id: int):
    """Today's tickets; htmx polls it with `v` (the queue version) and gets 204 when nothing changed."""
    event = _event_or_404(event_id)
    if is_fragment_request() and request.args.get("v", type=int) == event.queue_version:
        return "", 204
    query = _query()
    if not is_fragment_request():
        return redirect(url_for("reception.event", event_id=event.id, q=query or None), 303)
    return render_template("reception/_today.html", event=event, today=_today(event, query), query=query,
                           version=event.queue_version, priority_label=priority_label,
                           action_form=ActionForm())


def _after_action(event: Event, message: str, error: DomainError | None = None):
    """After cancel/restore: htmx gets today's list (with the error above it), a plain form a redirect."""
    if error is not None and error.status == 404:
        abort(404)
    if is_fragment_request():
        db.session.refresh(event)
        response = current_app.make_response(render_template(
            "reception/_today.html", event=event, today=_today(event), version=event.queue_version,
            priority_label=priority_label, action_form=ActionForm(),
            list_error=error.message if error else None))
        if error is not None:
            response.status_code = error.status
            return response
        return toast(response, message)
    if error is not None:
        return _screen(event, VisitForm(formdata=None), catalog=_catalog(event), error=error.message,
                       status=error.status)
    return redirect(url_for("reception.event", event_id=event.id), 303)


@bp.post("/visits/<int:visit_id>/cancel")
@requires(may_register_visitors)
def cancel(visit_id: int):
    visit = db.get_or_404(Visit, visit_id)
    event, code = visit.event, visit.code
    if not ActionForm().validate():
        abort(400)
    try:
        queue.cancel_visit(visit.id, by_user_id=current_user.id)
    except DomainError as exc:
        return _after_action(event, "", error=exc)
    return _after_action(event, _("Tiket %(code)s dibatalkan.", code=code))


@bp.post("/steps/<int:step_id>/restore")
@requires(may_register_visitors)
def restore(step_id: int):
    step = db.get_or_404(Step, step_id)
    event, code = step.visit.event, step.visit.code
    if not ActionForm().validate():
        abort(400)
    try:
        queue.restore_step(step.id, by_user_id=current_user.id)
    except DomainError as exc:
        return _after_action(event, "", error=exc)
    return _after_action(event, _("Tiket %(code)s kembali ke antrean.", code=code))


@bp.post("/steps/<int:step_id>/reopen")
@requires(may_register_visitors)
def reopen(step_id: int):
    """A finish or transfer that was a mistake: the step waits again at its old place (queue.reopen_step)."""
    step = db.get_or_404(Step, step_id)
    event, code = step.visit.event, step.visit.code
    if not ActionForm().validate():
        abort(400)
    try:
        queue.reopen_step(step.id, reason=request.form.get("reason", ""), by_user_id=current_user.id)
    except DomainError as exc:
        return _after_action(event, "", error=exc)
    return _after_action(event, _("Layanan tiket %(code)s dibuka kembali dan menunggu di antrean.", code=code))


@bp.get("/visits/<int:visit_id>/ticket")
@requires(may_register_visitors)
def ticket(visit_id: int):
    """The printable ticket (58 or 80 mm roll); `?print=1` opens the print dialog at once."""
    visit = db.get_or_404(Visit, visit_id)
    width = 58 if request.args.get("w") == "58" else 80
    context = _ticket_context(visit)
    return render_template("reception/ticket.html", width=width, autoprint=request.args.get("print") == "1",
                           **context)


@bp.post("/visits/<int:visit_id>/print")
@requires(may_register_visitors)
def reprint(visit_id: int):
    """Print the ticket again on this computer's thermal printer (after a paper change, a jam, a lost ticket).
    The button's own key makes one press one print."""
    visit = db.get_or_404(Visit, visit_id)
    if not ActionForm().validate():
        abort(400)
    printer = _station_printer()
    if printer is None:
        return redirect(url_for("reception.ticket", visit_id=visit.id, print=1), 303)
    try:
        _print_request(visit, printer, request.form.get("reprint", ""), reprint=True)
    except DomainError as exc:
        if exc.status == 404:
            abort(404)
        abort(422, description=exc.message)
    return redirect(url_for("reception.event", event_id=visit.event_id, visit=visit.id), 303)


@bp.post("/printer")
@requires(may_register_visitors)
def choose_printer():
    """This computer's printer, remembered by the browser (a reception laptop is a station, not a user)."""
    if not ActionForm().validate():
        abort(400)
    raw = request.form.get("printer", "")
    printer = printing.printer_for_station(parse_id(raw))
    target = request.form.get("event", "")
    response = redirect(url_for("reception.event", event_id=parse_id(target)) if parse_id(target)
                        else url_for("reception.index"), 303)
    if printer is None:
        response.delete_cookie(PRINTER_COOKIE, path="/reception/")
    else:
        response.set_cookie(PRINTER_COOKIE, str(printer.id), max_age=400 * 24 * 3600, path="/reception/",
                            httponly=True, samesite="Strict", secure=request.is_secure)
    return response
