"""The one way a page submits a form to the domain: validate, run the write, and on a refusal put every message
next to its field and say which status to answer the re-rendered form with.

    done = submit(form, lambda: rules.create_event(...))
    if not done:
        return page(form), done.status
    flash(..., "ok")
    return redirect(...)

Statuses: 422 for input that breaks a rule (the form's own validators or the domain's), 409 when the write
conflicts with the state (a closed event, a step someone else took), 400 (aborted) for a missing or expired
form token or a refusal the domain marks as a bad request. Success messages use the flash kind "ok".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import abort

from ..domain import DomainError
from ..web import show_domain_error


def refusal_status(exc: DomainError) -> int:
    """The status of a page that shows a broken rule: 409 for a conflict with the state, else 422."""
    if exc.status == 400:
        abort(400)
    return 409 if exc.status == 409 else 422


@dataclass
class Submitted:
    status: int | None = None  # None: the write went through
    result: Any = None

    def __bool__(self) -> bool:
        return self.status is None


def submit(form, write: Callable[[], Any]) -> Submitted:
    """Validate `form` (every field at once), then run `write`, a domain unit of work."""
    if not form.validate_on_submit():
        if "csrf_token" in (form.errors or {}):
            abort(400)
        return Submitted(422)
    return attempt(form, write)


def attempt(form, write: Callable[[], Any]) -> Submitted:
    """Run `write` for a form already validated; a refusal goes onto the form."""
    try:
        return Submitted(None, write())
    except DomainError as exc:
        status = refusal_status(exc)
        show_domain_error(form, exc)
        return Submitted(status)


def wib_clock(value):
    """A stored UTC moment as the WIB wall-clock time a time field shows (minutes, no seconds)."""
    from ..domain.clock import to_wib

    return to_wib(value).time().replace(second=0, microsecond=0)


def change_desk_hours(desk, form, extend: str) -> Submitted:
    """The one desk-hours action of every page that offers it (the event's desks, the officer's hours page):
    a quick extension (`extend`, from the buttons, which send no times; their form token was checked by
    CSRFProtect like every POST) or the opening and closing times of `form`. Audited by domain.events; the
    board and desks learn of it."""
    from flask_login import current_user

    from ..domain import events as rules

    if extend:
        form.opens.data, form.closes.data = wib_clock(desk.opens_at), wib_clock(desk.closes_at)
        form.opens.errors, form.closes.errors = [], []
        return attempt(form, lambda: rules.extend_desk_hours(desk, rules.parse_extension(extend),
                                                             by_user_id=current_user.id))
    return submit(form, lambda: rules.set_desk_hours(desk, form.opens.data, form.closes.data,
                                                     by_user_id=current_user.id))
