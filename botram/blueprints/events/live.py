"""The coordinator's live view of an event day (`/events/<id>/live`) and its one-press fix (issue 24).

It learns of changes through the board's mechanism: the event's version watcher (board_watch) paces a
server-sent-event stream whose `live` events carry the panel's HTML, morphed in by idiomorph. The panel is
computed and rendered once per (version, minute, language) in this process and shared by every coordinator
watching (domain/live.py); each stream only puts its own session's form token into the shared HTML. Waits
and idle times move with the clock, so a stream that has nothing new for a keep-alive also re-sends the
panel when the minute has turned: no polling loop of its own, the watcher's keep-alive paces it.
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, stream_with_context, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ...board_watch import changes, known_version, sse_event, sse_response, watcher
from ...domain import events as rules
from ...domain.live import cached_live_state, minute_bucket
from ...extensions import db
from ...models import Event, EventStatus
from ...permissions import may_manage_events, may_watch_live
from ...security import requires
from ... import web
from ...web import is_fragment_request
from ..form_action import Submitted, attempt
from . import bp
from .forms import LiveExtendForm
from .routes import get_desk, get_event

# The panel is shared by every coordinator watching; each answer puts its own session's form token here.
CSRF_SLOT = "__botram_live_csrf__"


def _live_event(event_id: int) -> Event:
    """The event, or 404 while it is a draft (nothing happens at a draft event yet)."""
    event = get_event(event_id)
    if event.status == EventStatus.DRAFT:
        abort(404)
    return event


def _panel_html(event: Event) -> tuple[str, int]:
    state = cached_live_state(event)
    html = state.rendered(f"live:{get_locale()}", lambda: render_template(
        "events/_live_panel.html", state=state, event=event, csrf_slot=CSRF_SLOT,
        can_extend=event.status == EventStatus.OPEN))
    return html, state.version


def _with_token(html: str, token: str) -> str:
    return html.replace(CSRF_SLOT, token)


@bp.get("/<int:event_id>/live")
@requires(may_watch_live)
def live(event_id: int):
    """Per service the queue and its closing forecast, per desk its state and pace, the alerts at the top."""
    event = _live_event(event_id)
    html, version = _panel_html(event)
    return render_template("events/live.html", event=event, panel=_with_token(html, generate_csrf()),
                           version=version)


@bp.get("/<int:event_id>/live/stream")
@requires(may_watch_live)
def live_stream(event_id: int):
    """Server-sent events: `live`, the new panel, whenever the event's version moves (board_watch.changes), and
    on a keep-alive when the minute has turned (waits and idle times grow with the clock)."""
    _live_event(event_id)
    known = known_version()
    token = generate_csrf()
    app = current_app._get_current_object()
    user = current_user._get_current_object()
    db.session.remove()  # hold no database connection while the stream waits

    def events():
        sent_minute = minute_bucket()
        for version in changes(lambda: watcher(app, event_id), known):
            if version is None and minute_bucket() == sent_minute:
                yield ": keep-alive\n\n"
                continue
            try:
                db.session.add(user)  # the templates' navigation reads the signed-in user's role
                event = db.session.get(Event, event_id)
                html, shown = _panel_html(event)
            finally:
                db.session.remove()
            sent_minute = minute_bucket()
            yield sse_event("live", _with_token(html, token), shown)

    return sse_response(stream_with_context(events()), app, "live")


@bp.post("/<int:event_id>/live/extend")
@requires(may_manage_events)
def live_extend(event_id: int):
    """The forecast's fix with one press: keep a desk open until the time the forecast named (audited as every
    hours change, reason "forecast")."""
    event = _live_event(event_id)
    form = LiveExtendForm()
    if not form.validate_on_submit():
        if "csrf_token" in (form.errors or {}):
            abort(400)
        done = Submitted(422)
        desk = None
    else:
        desk_id = form.desk_id.data
        desk = get_desk(event, desk_id) if 0 < desk_id < 2 ** 31 else abort(404)
        done = attempt(form, lambda: rules.extend_desk_until(desk, form.closes.data, by_user_id=current_user.id))
    if done:
        message = _("Loket %(number)s kini buka sampai %(closes)s WIB.", number=desk.number,
                    closes=form.closes.data.strftime("%H.%M"))
        kind = "ok"
    else:
        message = "; ".join(str(e) for field in form for e in field.errors) or _("Jam loket tidak diubah.")
        kind = "error"
    if not is_fragment_request():
        flash(message, kind)
        if done:
            return redirect(url_for("events.live", event_id=event.id), 303)
        db.session.expire_all()
        html, version = _panel_html(db.session.get(Event, event.id))
        return render_template("events/live.html", event=event, panel=_with_token(html, generate_csrf()),
                               version=version), done.status
    db.session.expire_all()
    html, _version = _panel_html(db.session.get(Event, event.id))
    response = current_app.response_class(_with_token(html, generate_csrf()), status=done.status or 200)
    response.headers["Vary"] = "HX-Request"
    return web.toast(response, message, kind)
