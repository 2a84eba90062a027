import time

from flask import Response, abort, current_app, render_template, request, stream_with_context
from flask_babel import get_locale

from ...board_watch import fresh_version, streams_closing, watcher
from ...domain.board import board_state, current_version, public_event, state_at
from ...extensions import db
from . import bp

KEEPALIVE_SECONDS = 15
STREAM_SECONDS = 600  # then the browser reconnects: no thread is held forever by a forgotten tab
MIN_GAP_SECONDS = 0.25  # coalesces bursts: ten calls in a second give at most four refreshes
# Changes that land together (an officer's finish and next call, two desks pressing at once) are sent as
# one refresh: the stream waits this long after a change before it sends, so the second change does not
# fall into the gap after the first and wait a quarter of a second.
SETTLE_SECONDS = 0.04


def _event_or_404(event_id: int):
    event = public_event(event_id)
    if event is None:
        abort(404)
    return event


@bp.route("/<int:event_id>")
def show(event_id: int):
    event = _event_or_404(event_id)
    return render_template("board/show.html", state=board_state(event), event=event)


def _panel_html(event_id: int, version: int) -> str:
    """The live part of the board at `version`, rendered once per version and language in this process."""
    state = state_at(event_id, version)
    if state is None:
        abort(404)
    return state.rendered(f"panel:{get_locale()}", lambda: render_template("board/_panel.html", state=state))


@bp.route("/<int:event_id>/panel")
def panel(event_id: int):
    """The live part of the board; 204 (nothing to swap) when the caller already has this version."""
    known = request.args.get("v", type=int)
    version = fresh_version(current_app._get_current_object(), event_id)
    if version is None:
        version = current_version(event_id)
    if version is None:
        abort(404)
    if known is not None and known == version:
        return Response(status=204, headers={"Cache-Control": "no-store"})
    response = Response(_panel_html(event_id, version))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:event_id>/stream")
def stream(event_id: int):
    """Server-sent events: `panel` with the new live part of the board whenever the queue changes.

    The HTML travels in the event itself, so a call reaches the projector without a second request per
    board; boards poll `panel` only as a safety net.
    """
    _event_or_404(event_id)
    known = request.args.get("v", type=int)
    app = current_app._get_current_object()
    db.session.remove()  # hold no database connection while the stream waits

    def events():
        nonlocal known
        yield ": connected\n\n"  # flush headers at once
        started = time.monotonic()
        # A stopping server process ends its streams at once: the boards reconnect to one that keeps serving.
        while time.monotonic() - started < STREAM_SECONDS and not streams_closing():
            watch = watcher(app, event_id)
            version = watch.wait(known, KEEPALIVE_SECONDS)
            if version is None or version == known:
                yield ": keep-alive\n\n"
                continue
            time.sleep(SETTLE_SECONDS)
            version = watch.version if watch.version is not None else version
            known = version
            try:
                html = _panel_html(event_id, version)
            finally:
                db.session.remove()
            data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
            yield f"event: panel\n{data}\n"
            time.sleep(MIN_GAP_SECONDS)
        yield "event: reconnect\ndata: \n\n"

    return Response(stream_with_context(events()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
