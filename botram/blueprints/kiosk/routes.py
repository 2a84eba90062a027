"""The kiosk: pick services (or a life-event package), answer the priority question, get the ticket printed.

Three screens, each a plain page and form (works without JavaScript; kiosk.js adds only the idle reset and
the browser-print fallback). Rules live in botram/domain/kiosk.py and botram/domain/printing/.
"""
from __future__ import annotations

import secrets

from flask import abort, g, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user

from ...domain import DomainError, notify, printing
from ...domain import kiosk as kiosk_rules
from ...domain.tokens import token_user
from ...domain.ids import parse_id
from ...extensions import db
from ...models import Event, EventStatus, KioskPress, Printer, Visit
from ...permissions import may_use_kiosk
from ...security import KIOSK_COOKIE, requires
from ..public import routes as public_routes
from ..reception.forms import ActionForm, priority_label
from . import bp

IDLE_SECONDS = 30  # back to the start screen after this long untouched (issue 23)
PRIORITIES = ("lansia", "disabilitas", "hamil", "none")


def _event(event_id: int) -> Event:
    return db.get_or_404(Event, event_id)


def _printer() -> Printer | None:
    """The printer attached to this kiosk's device token (a coordinator trying the kiosk has none)."""
    return printing.printer_for_token(g.get("token_id"))


def _page(template: str, status: int = 200, **context):
    response = make_response(render_template(template, idle_seconds=IDLE_SECONDS, **context), status)
    response.headers["Cache-Control"] = "no-store"  # a press key must never come from a cached screen
    return response


def _ids(values: list[str]) -> list[int]:
    return [i for i in (parse_id(v) for v in values) if i is not None]


@bp.route("/masuk", methods=["GET", "POST"])
def enrol():
    """Set a kiosk up once: an admin pastes the kiosk's device token here (a USB keyboard plugged in for the
    minute it takes); the browser keeps it in a cookie sent only to /kiosk/ pages."""
    form = ActionForm()
    error = None
    if request.method == "POST":
        if not form.validate():
            abort(400)
        raw = (request.form.get("token") or "").strip()[:200]
        event_id = request.form.get("event", "")
        found = token_user(raw)
        if found is None or not may_use_kiosk(found[0]):
            error = _("Token tidak dikenal, sudah dicabut, atau bukan token kios.")
        elif parse_id(event_id) is None or db.session.get(Event, parse_id(event_id)) is None:
            error = _("Pilih kegiatan yang dilayani kios ini.")
        else:
            response = redirect(url_for("kiosk.start", event_id=parse_id(event_id)), 303)
            response.set_cookie(KIOSK_COOKIE, raw, max_age=400 * 24 * 3600, path="/kiosk/", httponly=True,
                                samesite="Strict", secure=request.is_secure)
            return response
    events = db.session.scalars(db.select(Event).where(Event.status == EventStatus.OPEN).order_by(Event.date)).all()
    return render_template("kiosk/enrol.html", form=form, error=error, events=events), 422 if error else 200


@bp.get("/<int:event_id>")
@requires(may_use_kiosk)
def start(event_id: int):
    event = _event(event_id)
    offer = kiosk_rules.kiosk_offer(event.id)
    printer = _printer()
    return _page("kiosk/start.html", event=event, offer=offer, printer=printer,
                 message=request.args.get("pesan"), open=event.status == EventStatus.OPEN, **_scan_context())


def _scan_context() -> dict:
    """The booking scanner's form: its own press key, so a double scan answers one ticket."""
    return {"scan_press": secrets.token_urlsafe(24), "scan_form": ActionForm()}


@bp.get("/<int:event_id>/prioritas")
@requires(may_use_kiosk)
def priority(event_id: int):
    """Second screen: the priority question. The form carries a fresh press key: one press, one ticket."""
    event = _event(event_id)
    offer = kiosk_rules.kiosk_offer(event.id)
    service_ids = _ids(request.args.getlist("layanan"))
    package_id = request.args.get("paket", "")
    package = None
    if parse_id(package_id) is not None:
        package = next(((p, s) for p, s in offer.packages if p.id == parse_id(package_id)), None)
    services = [s for _, group in offer.groups for s in group if s.id in service_ids]
    if package is None and not services:
        return redirect(url_for("kiosk.start", event_id=event.id, pesan="pilih"), 303)
    return _page("kiosk/priority.html", event=event, package=package, services=services,
                 press=secrets.token_urlsafe(24), form=ActionForm(), ask_phone=notify.enabled())


@bp.get("/<int:event_id>/hp")
@requires(may_use_kiosk)
def phone(event_id: int):
    """Third screen where messages are on: an optional phone for "your turn is near", typed on a number pad
    (kiosk.js); "Lewati" takes the ticket without one. The press key comes from the priority screen."""
    event = _event(event_id)
    if not notify.enabled():
        abort(404)
    return _phone_screen(event, request.args)


def _phone_screen(event: Event, values, error: str | None = None, status: int = 200):
    choice = {"press": values.get("press", ""), "paket": values.get("paket", ""),
              "layanan": _ids(values.getlist("layanan")), "priority": values.get("priority", "none")}
    if not kiosk_rules.PRESS_KEY.match(choice["press"]) or choice["priority"] not in PRIORITIES:
        return redirect(url_for("kiosk.start", event_id=event.id), 303)
    digits = "".join(ch for ch in (values.get("phone") or "") if ch.isdigit() or ch == "+")[:16]
    return _page("kiosk/phone.html", status, event=event, choice=choice, phone=digits, error=error,
                 form=ActionForm())


@bp.post("/<int:event_id>/tiket")
@requires(may_use_kiosk)
def take(event_id: int):
    event = _event(event_id)
    form = ActionForm()
    if not form.validate():
        abort(400)
    press = request.form.get("press", "")
    package_id = request.form.get("paket", "")
    printer = _printer()
    phone = None if request.form.get("skip") else (request.form.get("phone") or "").strip()[:40] or None
    try:
        kiosk_rules.take_ticket(
            event.id, press, request.form.getlist("layanan"), parse_id(package_id),
            request.form.get("priority", "none"), by_user_id=current_user.id,
            printer_id=printer.id if printer else None, status_url=public_routes.status_url,
            priority_text=_priority_words, phone=phone, locale=str(get_locale()))
    except DomainError as exc:
        if exc.status == 404:
            abort(404)
        if exc.field == "phone":  # the number pad again, with the number and what is wrong with it
            return _phone_screen(event, request.form, error=exc.message, status=exc.status)
        return _page("kiosk/refused.html", exc.status, event=event, message=exc.message)
    return redirect(url_for("kiosk.ticket", event_id=event.id, press=press), 303)


def _priority_words(group: str) -> str:
    return priority_label(group) if group != "none" else ""


def _pressed(event: Event, press: str) -> Visit:
    row = db.session.get(KioskPress, press) if kiosk_rules.PRESS_KEY.match(press or "") else None
    if row is None or row.event_id != event.id:
        abort(404)
    return db.session.get(Visit, row.visit_id)


@bp.get("/<int:event_id>/tiket/<press>")
@requires(may_use_kiosk)
def ticket(event_id: int, press: str):
    event = _event(event_id)
    visit = _pressed(event, press)
    job = printing.last_job_for(visit.id)
    from ..reception.routes import _ticket_context

    return _page("kiosk/ticket.html", event=event, press=press, job=job, printer=_printer(),
                 reprint_key=secrets.token_urlsafe(24), form=ActionForm(), **_ticket_context(visit))


@bp.post("/<int:event_id>/tiket/<press>/cetak-ulang")
@requires(may_use_kiosk)
def reprint(event_id: int, press: str):
    event = _event(event_id)
    visit = _pressed(event, press)
    if not ActionForm().validate():
        abort(400)
    printer = _printer()
    if printer is None:
        return redirect(url_for("kiosk.ticket", event_id=event.id, press=press), 303)
    try:
        printing.request_reprint(visit.id, printer.id, request.form.get("reprint", ""),
                                 status_url=public_routes.status_url(visit.public_token),
                                 priority_text=_priority_words(visit.priority), by_user_id=current_user.id)
    except DomainError as exc:
        return _page("kiosk/refused.html", exc.status, event=event, message=exc.message)
    return redirect(url_for("kiosk.ticket", event_id=event.id, press=press), 303)


@bp.post("/<int:event_id>/booking")
@requires(may_use_kiosk)
def booking(event_id: int):
    """A booking's QR read by the USB scanner: it types the code (what the QR holds) and Enter into the start
    screen's scan field. Checked in by the booking rule, printed like a press (domain/kiosk.py)."""
    event = _event(event_id)
    if not ActionForm().validate():
        abort(400)
    press = request.form.get("press", "")
    printer = _printer()
    try:
        kiosk_rules.check_in_booking(event.id, press, (request.form.get("code") or "")[:200],
                                     by_user_id=current_user.id, printer_id=printer.id if printer else None,
                                     status_url=public_routes.status_url)
    except DomainError as exc:
        # the scanner stays ready on this screen: a wrong QR is followed at once by the right one
        return _page("kiosk/refused.html", exc.status, event=event, message=exc.message,
                     title=_("Pemesanan tidak dapat didaftarkan"), **_scan_context())
    return redirect(url_for("kiosk.ticket", event_id=event.id, press=press), 303)
