"""The admin's view of messages to citizens: whether a gateway is set, and what the outbox says about it.
A dead gateway shows here (and as a warning on every admin page), never as an error at a desk."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, render_template

from ...domain import notify, outbox
from ...domain.notify.sender import configured_urls
from ...permissions import may_administer
from ...security import requires
from . import bp


def _channel(url: str) -> str:
    """A URL as the page may show it: its scheme and host, never a token, a password or a number."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '…'}{':' + str(parts.port) if parts.port else ''}"


@bp.app_context_processor
def _outbox_warning() -> dict:
    """Admin pages (templates/admin/_base.html) show a warning while messages are failing; others never ask."""
    def outbox_warning():
        return notify.enabled() and outbox.health("message.").warning
    return {"outbox_warning": outbox_warning}


@bp.route("/messages")
@requires(may_administer)
def messages():
    state = outbox.health("message.")
    channels = [_channel(url) for url in configured_urls(current_app.config.get("BOTRAM_NOTIFY_URLS", ""))]
    return render_template("admin/messages.html", state=state, channels=channels, enabled=notify.enabled(),
                           near=current_app.config["BOTRAM_NOTIFY_NEAR_AHEAD"],
                           give_up=current_app.config["BOTRAM_OUTBOX_GIVE_UP_MINUTES"])
