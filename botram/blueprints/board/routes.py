from flask import Response, abort, current_app, render_template, request, stream_with_context
from flask_babel import get_locale

from ...board_watch import changes, fresh_version, known_version, newer, sse_event, sse_response, watcher
from ...domain.board import board_state, current_version, public_event, state_at
from ...extensions import db
from . import bp


def _event_or_404(event_id: int):
    event = public_event(event_id)
    if event is None:
        abort(404)
    return event


@bp.route("/<int:event_id>")
def show(event_id: int):
    event = _event_or_404(event_id)
    return render_template("board/show.html", state=board_state(event), event=event)


def _state(event_id: int, version: int):
    """The board's state at `version` or newer (board.state_at), or 404."""
    state = state_at(event_id, version)
    if state is None:
        abort(404)
    return state


def _panel_html(state) -> str:
    """The live part of the board in that state, rendered once per state and language in this process."""
    return state.rendered(f"panel:{get_locale()}", lambda: render_template("board/_panel.html", state=state))


def _panel_event(event_id: int, version: int) -> tuple[int, bytes]:
    """The version shown and the whole server-sent event of it (`version` or newer), framed and encoded once
    per version and language: hundreds of open boards then each only write the same bytes (a str would be
    encoded again by every stream)."""
    state = _state(event_id, version)
    return state.version, state.rendered(f"sse:{get_locale()}",
                                         lambda: sse_event("panel", _panel_html(state), state.version).encode())


@bp.route("/<int:event_id>/panel")
def panel(event_id: int):
    """The live part of the board; 204 (nothing to swap) unless the version is newer than the caller's `v`.

    The board polls this every 10 s as a safety net beside its stream (templates/board/_panel.html says
    why); with boards open the version comes from the watcher's memory, so an unchanged poll costs no query.
    """
    known = request.args.get("v", type=int)
    version = fresh_version(current_app._get_current_object(), event_id)
    if version is None:
        version = current_version(event_id)
    if version is None:
        abort(404)
    if not newer(version, known):
        return Response(status=204, headers={"Cache-Control": "no-store"})
    state = _state(event_id, version)
    response = Response(_panel_html(state))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Board-Version"] = str(state.version)  # board.js refuses a panel older than the one shown
    return response


@bp.route("/<int:event_id>/stream")
def stream(event_id: int):
    """Server-sent events: `panel`, carrying the new live part of the board, whenever the queue changes.

    The HTML travels in the event itself (htmx's SSE extension morphs it in), so a call reaches the
    projector without a second request per board. Each event's id is its version: a browser that
    reconnects by itself says which it has, and is sent only something newer.
    """
    _event_or_404(event_id)
    known = known_version()
    app = current_app._get_current_object()
    db.session.remove()  # hold no database connection while the stream waits

    def events():
        sent = known
        for version in changes(lambda: watcher(app, event_id), known):
            if version is None:
                yield ": keep-alive\n\n"
                continue
            try:
                shown, message = _panel_event(event_id, version)
            finally:
                db.session.remove()
            if newer(shown, sent):  # a newer state than asked for may have gone out already
                sent = shown
                yield message

    return sse_response(stream_with_context(events()), app, "board")
