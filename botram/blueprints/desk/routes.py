"""Desk console routes: thin. Load and authorise, parse the form, call botram.domain.queue, render the console.

Every action answers htmx with the whole console fragment (and a toast in HX-Trigger); a plain POST is
redirected (303) back to the console. Broken rules come back as an alert inside the fragment with the
domain's status (409/422), never a 500.
"""
from __future__ import annotations


import sqlalchemy as sa
from flask import (abort, current_app, flash, make_response, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import get_locale, gettext as _
from flask_login import current_user

from ...board_watch import CONSOLE_MIN_GAP_SECONDS, changes, known_version, newer, sse_event, sse_response, watcher
from ...domain import DomainError, privacy, queue
from ...domain.ids import is_digits
from ...domain.guidance import build_guidance, services_offered_at
from ...domain.nik import mask_nik
from ...extensions import db
from ...models import ACTIVE_STEP_STATES, Desk, DeskState, Event, EventStatus, Priority, Service, Step, StepStatus
from ...permissions import may_work_desk, may_work_desks, may_work_every_desk
from ...security import requires
from ... import web
from ...web import is_fragment_request
from . import bp
from .forms import OUTCOMES, DeskStateForm, FinishForm, ReopenForm, TransferForm, UndoForm
from .shared_waiting import Waiting, shared_waiting

RECENT_LIMIT = 4
UNDO_VISIBLE_SECONDS = 8  # the domain accepts an undo a little longer (queue.UNDO_SECONDS): a slow Wi-Fi

def _priority_labels() -> dict[str, str]:
    return {Priority.LANSIA: _("Lansia"), Priority.DISABILITAS: _("Disabilitas"),
            Priority.HAMIL: _("Ibu hamil/anak")}


def get_desk(desk_id: int) -> Desk:
    """The desk, or 404; 403 when the signed-in officer may not work at it."""
    desk = db.get_or_404(Desk, desk_id)
    if not may_work_desk(current_user, desk):
        abort(403)
    return desk


def get_step(desk: Desk, step_id: int) -> Step:
    """A step served at this desk: 404 when unknown or of another event, 403 when at another desk."""
    step = db.session.get(Step, step_id)
    if step is None or step.event_id != desk.event_id:
        abort(404)
    if step.desk_id != desk.id:
        abort(403)
    return step


def _transfer_choices(desk: Desk, current: Step | None) -> list[tuple[str, list[Service]]]:
    """Services offered at the event other than the current one, grouped by agency."""
    ids = services_offered_at(desk.event_id)
    if current is not None:
        ids.discard(current.service_id)
    if not ids:
        return []
    services = db.session.scalars(sa.select(Service).where(Service.id.in_(ids)).order_by(Service.agency_id,
                                                                                          Service.name)).all()
    groups: dict[str, list[Service]] = {}
    for service in services:
        groups.setdefault(service.agency.short_name, []).append(service)
    return list(groups.items())


def _recent(desk: Desk) -> list[Step]:
    return list(db.session.scalars(
        sa.select(Step).where(Step.desk_id == desk.id, Step.finished_at.is_not(None))
        .order_by(Step.finished_at.desc(), Step.id.desc()).limit(RECENT_LIMIT)))


def _hours_plan(desk: Desk):
    """The hours that would cover now when the desk is outside them (None inside them, or when the
    console cannot extend them: an event of another day)."""
    try:
        return queue.hours_extension(desk)
    except DomainError:
        return None


def console_context(desk: Desk, *, revealed: bool = False, error: str | None = None,
                    errors: dict | None = None, finish: dict | None = None, transfer: dict | None = None,
                    last: Step | None = None, undo: tuple[str, Step] | None = None,
                    hours_asked: bool = False, reopen: dict | None = None,
                    confirm_missing: list | None = None) -> dict:
    # The version first: data read after it is at least that fresh, so a poll never misses a change.
    version = db.session.scalar(sa.select(Event.queue_version).where(Event.id == desk.event_id))
    current = queue.desk_current(desk.id)
    waiting = queue.waiting_for_desk(desk.id)
    if not finish and current is not None and current.requirements_presented is not None:
        # A finish taken back: what the officer entered is still there to correct.
        finish = {"requirements": current.requirements_presented, "amount": current.amount or "",
                  "note": current.note or ""}
    return {
        "desk": desk, "event": desk.event, "version": version, "current": current, "waiting": waiting,
        "revealed": revealed and current is not None, "nik_masked": mask_nik(current.visit.nik) if current else "",
        "error": error, "errors": errors or {}, "finish": finish or {}, "transfer": transfer or {},
        "transfer_choices": _transfer_choices(desk, current), "recent": _recent(desk), "last": last,
        "outcomes": OUTCOMES, "priority_labels": _priority_labels(),
        "undo": undo, "undo_seconds": UNDO_VISIBLE_SECONDS, "hours_plan": _hours_plan(desk) if desk.state == "open" else None,
        "hours_asked": hours_asked, "closed_today": queue.closed_today(desk.id), "reopen": reopen or {},
        "confirm_missing": confirm_missing or [],
        "no_show_wait": _no_show_wait(current),
    }


def _no_show_wait(current: Step | None) -> tuple[int, int]:
    """(recalls left, seconds left) before M is accepted for the called visitor; (0, 0) when it is now."""
    if current is None or current.status != StepStatus.CALLED:
        return 0, 0
    recalls_left, seconds_left = queue.no_show_wait(current)
    return (recalls_left, seconds_left) if recalls_left and seconds_left else (0, 0)


def console_response(desk: Desk, *, status: int = 200, toast: str | None = None, toast_kind: str = "ok",
                     **context):
    """The console fragment for htmx, the page for a plain GET; a plain successful POST redirects (303)."""
    if request.method == "POST" and not is_fragment_request() and status < 300:
        if toast:
            flash(toast, "ok" if toast_kind == "ok" else "info")
        return redirect(url_for(".console", desk_id=desk.id), 303)
    template = "desk/_console.html" if is_fragment_request() else "desk/console.html"
    response = make_response(render_template(template, **console_context(desk, **context)), status)
    response.headers["Vary"] = "HX-Request"
    response.headers["Cache-Control"] = "no-store"
    if toast:
        web.toast(response, toast, toast_kind)
    return response


def domain_failure(desk: Desk, exc: DomainError, **context):
    """A broken rule: nothing saved, the console with the message, the domain's status."""
    errors = {exc.field: exc.message} if exc.field else {}
    return console_response(desk, status=exc.status, error=None if exc.field else exc.message, errors=errors,
                            toast=exc.message, toast_kind="error", **context)


def form_failure(desk: Desk, form, **context):
    errors = {name: field.errors[0] for name, field in form._fields.items() if field.errors}
    if "csrf_token" in errors:
        abort(400)
    message = _("Periksa kembali isian: %(message)s", message=next(iter(errors.values())))
    return console_response(desk, status=422, errors=errors, toast=message, toast_kind="error", **context)


# ----------------------------------------------------------------- pages

@bp.route("/")
@requires(may_work_desks)
def index():
    """The desks the signed-in user may open at open events; straight to the console when there is one."""
    query = (sa.select(Desk).join(Event).where(Event.status == EventStatus.OPEN)
             .order_by(Event.date, Event.id, Desk.number))
    if not may_work_every_desk(current_user):
        query = query.where(Desk.agency_id == (current_user.agency_id or -1))
    desks = db.session.scalars(query).all()
    if len(desks) == 1:
        return redirect(url_for(".console", desk_id=desks[0].id))
    events: dict[int, tuple[Event, list[Desk]]] = {}
    for desk in desks:
        events.setdefault(desk.event_id, (desk.event, []))[1].append(desk)
    return render_template("desk/index.html", events=list(events.values()))


@bp.route("/<int:desk_id>")
@requires(may_work_desks)
def console(desk_id: int):
    desk = get_desk(desk_id)
    return console_response(desk)


@bp.route("/<int:desk_id>/stream")
@requires(may_work_desks)
def stream(desk_id: int):
    """Server-sent events for one open desk console (desks are few; phones poll instead).

    The console says what it shows: `v` (or the id of the last event, on a reconnect), `current` (the
    visitor's step id, 0 for none) and `state`. Whenever the event's queue changes the stream sends
    `waiting`, the inside of the waiting list; when this desk's visitor or state is no longer what the console
    shows (a call button, another tab, the coordinator changed it) it sends `console`, the whole console, and
    ends: the console swapped in opens its own stream. Paced as the board's (board_watch.changes), with the
    console's longer gap: a lone change at once, a burst at most four refreshes a second.
    """
    desk = get_desk(desk_id)
    event_id = desk.event_id
    known = known_version()
    shown = (request.args.get("current", "0"), request.args.get("state", ""))
    app = current_app._get_current_object()
    user = current_user._get_current_object()
    db.session.remove()  # hold no database connection while the stream waits

    def waiting_at(version: int) -> Waiting:
        db.session.add(user)  # the templates' navigation reads the signed-in user's role
        desk = db.session.get(Desk, desk_id)
        current = queue.desk_current(desk.id)
        html = render_template("desk/_waiting_list.html", desk=desk, current=current,
                               waiting=queue.waiting_for_desk(desk.id), priority_labels=_priority_labels())
        return Waiting(version, str(current.id if current else 0), desk.state,
                       sse_event("waiting", html, version).encode())

    def events():
        sent = known
        shared = shared_waiting(app)
        for version in changes(lambda: watcher(app, event_id), known, gap=CONSOLE_MIN_GAP_SECONDS):
            if version is None:
                yield ": keep-alive\n\n"
                continue
            try:
                # every console of this desk is sent the same list: computed once per version, not per console,
                # and the consoles that find it computed open no database session at all
                seen = shared.get(desk_id, str(get_locale()), version, lambda: waiting_at(version))
                if (seen.current, seen.state) != shown:
                    db.session.add(user)
                    desk = db.session.get(Desk, desk_id)
                    yield sse_event("console", render_template("desk/_console.html", **console_context(desk)),
                                    version)
                    return
            finally:
                db.session.remove()
            if newer(seen.version, sent):  # a list computed for a newer version already went out
                sent = seen.version
                yield seen.message

    return sse_response(stream_with_context(events()), app, "desk")


@bp.route("/<int:desk_id>/guidance/<int:step_id>")
@requires(may_work_desks)
def guidance(desk_id: int, step_id: int):
    """The printable A4 guidance sheet. Before finishing, `ada` carries the ticked requirement ids."""
    desk = get_desk(desk_id)
    step = get_step(desk, step_id)
    presented = None
    if step.status in ACTIVE_STEP_STATES:
        raw = request.args.getlist("ada")
        if any(not is_digits(value) or len(value) > 12 for value in raw):
            abort(400)
        presented = [int(value) for value in raw]
    sheet = build_guidance(step, presented)
    return render_template("desk/guidance.html", desk=desk, sheet=sheet)


# ----------------------------------------------------------------- actions

@bp.post("/<int:desk_id>/call-next")
@requires(may_work_desks)
def call_next(desk_id: int):
    """Call the next visitor. Outside the desk's hours the button carries `extend=1` and says so: the
    hours are stretched to cover now first (audited), so the hours record stays true. A press without it
    (a console drawn before closing time) only shows that choice."""
    desk = get_desk(desk_id)
    plan = _hours_plan(desk) if desk.state == "open" and desk.event.status == "open" else None
    if plan is not None:
        if request.form.get("extend") != "1":
            return console_response(desk, hours_asked=True, toast=_(
                "Loket di luar jam layanan. Tekan N lagi untuk memperpanjang jam dan memanggil."), toast_kind="info")
        try:
            queue.extend_hours_to_now(desk.id, by_user_id=current_user.id)
        except DomainError as exc:
            return domain_failure(desk, exc)
        db.session.refresh(desk)
    try:
        step = queue.call_next(desk.id, by_user_id=current_user.id)
    except DomainError as exc:
        return domain_failure(desk, exc)
    if step is None:
        return console_response(desk, toast=_("Tidak ada yang menunggu untuk loket ini."), toast_kind="info")
    return console_response(desk, toast=_("%(code)s dipanggil ke loket %(number)s.", code=step.visit.code,
                                          number=desk.number))


@bp.post("/<int:desk_id>/steps/<int:step_id>/recall")
@requires(may_work_desks)
def recall(desk_id: int, step_id: int):
    desk = get_desk(desk_id)
    step = get_step(desk, step_id)
    try:
        step = queue.recall(step.id, by_user_id=current_user.id)
    except DomainError as exc:
        return domain_failure(desk, exc)
    return console_response(desk, toast=_("%(code)s dipanggil ulang (%(count)d×).", code=step.visit.code,
                                          count=step.recall_count))


@bp.post("/<int:desk_id>/steps/<int:step_id>/start")
@requires(may_work_desks)
def start(desk_id: int, step_id: int):
    desk = get_desk(desk_id)
    step = get_step(desk, step_id)
    try:
        step = queue.start(step.id, by_user_id=current_user.id)
    except DomainError as exc:
        return domain_failure(desk, exc)
    return console_response(desk, toast=_("Mulai melayani %(code)s.", code=step.visit.code))


@bp.post("/<int:desk_id>/steps/<int:step_id>/finish")
@requires(may_work_desks)
def finish(desk_id: int, step_id: int):
    desk = get_desk(desk_id)
    step = get_step(desk, step_id)
    form = FinishForm()
    entered = {"outcome": form.outcome.data, "requirements": form.requirements.data or [],
               "amount": form.amount.data or "", "note": form.note.data or ""}
    if not form.validate_on_submit():
        return form_failure(desk, form, finish=entered)
    try:
        step = queue.finish(step.id, outcome=form.outcome.data, by_user_id=current_user.id,
                            requirements_presented=form.requirements.data or [], amount=form.amount_value,
                            note=(form.note.data or "").strip() or None, ask_if_missing=True)
    except queue.MissingRequirements as exc:
        # "Selesai" with required documents unticked is asked once: nothing was saved; the dialog
        # records "belum lengkap" on Enter, or goes back to tick what was shown on Escape.
        return console_response(desk, finish=entered, confirm_missing=exc.missing)  # a question, not a refusal
    except DomainError as exc:
        return domain_failure(desk, exc, finish=entered)
    code = step.visit.code
    messages = {"done": _("%(code)s selesai dilayani.", code=code),
                "incomplete": _("%(code)s: persyaratan belum lengkap. Cetak surat panduan.", code=code),
                "referred": _("%(code)s dirujuk.", code=code)}
    return console_response(desk, toast=messages.get(step.outcome, messages["done"]), last=step,
                            undo=("finish", step))


@bp.post("/<int:desk_id>/steps/<int:step_id>/no-show")
@requires(may_work_desks)
def no_show(desk_id: int, step_id: int):
    desk = get_desk(desk_id)
    step = get_step(desk, step_id)
    try:
        step = queue.no_show(step.id, by_user_id=current_user.id)
    except DomainError as exc:
        return domain_failure(desk, exc)
    return console_response(desk, toast=_("%(code)s ditandai tidak hadir.", code=step.visit.code),
                            undo=("no_show", step))


@bp.post("/<int:desk_id>/steps/<int:step_id>/undo")
@requires(may_work_desks)
def undo(desk_id: int, step_id: int):
    """Take back a "Tidak hadir" or a "Selesai" of this desk within seconds (botram.domain.queue)."""
    desk = get_desk(desk_id)
    step = get_step(desk, step_id)
    if not UndoForm().validate_on_submit():
        abort(400)
    action = queue.undo_no_show if step.status == "no_show" else queue.undo_finish
    try:
        step = action(step.id, desk_id=desk.id, by_user_id=current_user.id)
    except DomainError as exc:
        return domain_failure(desk, exc)
    return console_response(desk, toast=_("Dibatalkan: %(code)s kembali ke loket ini.", code=step.visit.code))


@bp.post("/<int:desk_id>/reopen")
@requires(may_work_desks)
def reopen(desk_id: int):
    """Open again a step this desk closed today, with a reason (botram.domain.queue.reopen_step)."""
    desk = get_desk(desk_id)
    form = ReopenForm()
    entered = {"step": form.step.data or "", "reason": form.reason.data or "", "open": True}
    if not form.validate_on_submit():
        return form_failure(desk, form, reopen=entered)
    step = get_step(desk, form.step_id)
    try:
        step = queue.reopen_step(step.id, reason=form.reason.data, by_user_id=current_user.id, desk_id=desk.id)
    except DomainError as exc:
        return domain_failure(desk, exc, reopen=entered)
    return console_response(desk, toast=_("%(code)s dibuka kembali: menunggu lagi di antrean %(service)s "
                                          "dengan waktu kedatangan semula.", code=step.visit.code,
                                          service=step.service.name))


@bp.post("/<int:desk_id>/steps/<int:step_id>/transfer")
@requires(may_work_desks)
def transfer(desk_id: int, step_id: int):
    desk = get_desk(desk_id)
    step = get_step(desk, step_id)
    form = TransferForm()
    entered = {"service": form.service.data or "", "note": form.note.data or "", "open": True}
    if not form.validate_on_submit():
        return form_failure(desk, form, transfer=entered)
    try:
        new_step = queue.transfer(step.id, form.service_id, by_user_id=current_user.id,
                                  note=(form.note.data or "").strip() or None)
    except DomainError as exc:
        if exc.field == "service_id":
            exc.field = "service"
        return domain_failure(desk, exc, transfer=entered)
    return console_response(desk, toast=_("%(code)s dialihkan ke %(service)s.", code=new_step.visit.code,
                                          service=new_step.service.name))


@bp.post("/<int:desk_id>/steps/<int:step_id>/reveal-nik")
@requires(may_work_desks)
def reveal_nik(desk_id: int, step_id: int):
    """Show the current visitor's NIK in clear on this console once; the look is audited (never the NIK)."""
    desk = get_desk(desk_id)
    step = get_step(desk, step_id)
    if step.status not in ACTIVE_STEP_STATES:
        return console_response(desk, status=409, error=_("Pengunjung ini tidak sedang dilayani di loket ini."))
    if not step.visit.nik:
        return console_response(desk, status=422, error=_("Pengunjung ini tidak mencantumkan NIK."))
    privacy.note_nik_revealed(step, desk, by_user_id=current_user.id)
    return console_response(desk, revealed=True)


@bp.post("/<int:desk_id>/state")
@requires(may_work_desks)
def set_state(desk_id: int):
    desk = get_desk(desk_id)
    form = DeskStateForm()
    if not form.validate_on_submit():
        return form_failure(desk, form)
    try:
        desk = queue.set_desk_state(desk.id, form.state.data, by_user_id=current_user.id)
    except DomainError as exc:
        return domain_failure(desk, exc)
    message = _("Loket dijeda. Tekan P untuk melanjutkan.") if desk.state == DeskState.PAUSED \
        else _("Loket dibuka. Silakan panggil berikutnya.")
    return console_response(desk, toast=message)
