"""Thin views over domain/booking: plain forms that work without JavaScript, on a phone."""
from __future__ import annotations

import segno
import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _

from ...domain import booking as rules
from ...domain import notify
from ...domain.booking.plan import plan_of
from ...domain.booking.release import booking_state
from ...domain.clock import now
from ...domain.visibility import is_public
from ...extensions import db
from ...models import Event, LifeEventPackage
from ..form_action import submit
from ..public.routes import public_url
from . import bp
from .forms import BookingForm, CancelForm, ChangeForm

PRIVATE = "private, no-store"  # a booking page carries a phone's booking: never kept by any cache


def _event_or_404(event_id: int) -> Event:
    event = db.session.get(Event, event_id)
    if event is None or not is_public(event):
        abort(404)
    return event


def _page(template: str, status: int = 200, **context):
    return bp_response(render_template(template, now_utc=now(), **context), status)


def bp_response(html: str, status: int):
    from flask import current_app

    response = current_app.response_class(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = PRIVATE
    return response


def _choices(event: Event):
    view = rules.booking_view(event)
    services = {}
    for window in view.windows:
        for quota in window.quotas:
            if quota.quota > 0:
                services[quota.service_id] = quota.service
    return view, sorted(services.items(), key=lambda item: item[1])


def _packages(services: list[tuple[int, str]]) -> list[tuple[int, str, list[str]]]:
    """The life-event packages a citizen may book here: active ones whose every service is open to booking at
    this event (whether the chosen window has room for each is the domain's answer on submit)."""
    offered = dict(services)
    found = []
    for package in db.session.scalars(sa.select(LifeEventPackage).where(LifeEventPackage.active.is_(True))
                                      .order_by(LifeEventPackage.name)):
        ids = [item.service_id for item in package.items]
        if ids and all(sid in offered for sid in ids):
            found.append((package.id, package.name, [offered[sid] for sid in ids]))
    return found


@bp.route("/jadwal/<int:event_id>/pesan", methods=["GET", "POST"])
def new(event_id: int):
    event = _event_or_404(event_id)
    view, services = _choices(event)
    form = BookingForm()
    status = 200
    if request.method == "POST":
        done = submit(form, lambda: rules.book(event.id, rules.BookingInput(
            window_id=form.window.data, service_ids=form.services.data or [], package_id=form.package.data or None,
            phone=form.phone.data, name=form.name.data, nik=form.nik.data, origin=request.remote_addr,
            notify=bool(form.notify.data), locale=str(get_locale()),
            link=lambda token: public_url("booking.show", token=token))))
        if done:
            flash(_("Tempat Anda sudah dipesan. Simpan kode dan tautan ini."), "ok")
            return redirect(url_for("booking.show", token=done.result.token), 303)
        status = done.status
    return _page("booking/new.html", status, event=event, view=view, services=services, form=form,
                 notify_on=notify.enabled(), packages=_packages(services))


def _booking_or_404(token: str):
    found = rules.booking_by_token(token)
    if found is None:
        abort(404)
    return found


def _show(found, form: ChangeForm | None = None, status: int = 200):
    event = db.session.get(Event, found.event_id)
    view, services = _choices(event)
    plan = plan_of(event.id)
    link = public_url("booking.show", token=found.token)
    qr_svg = segno.make(found.code, error="m").svg_inline(
        scale=8, omitsize=True, title=_("Kode QR pemesanan %(code)s", code=found.code))
    if form is None:
        form = ChangeForm(formdata=None, window=str(found.window_id),
                          services=[str(s.id) for s in found.services])
    return _page("booking/show.html", status, booking=found, event=event, view=view, services=services,
                 state=booking_state(found, plan.grace_minutes if plan else 0), link=link, qr_svg=qr_svg,
                 form=form, cancel_form=CancelForm())


@bp.get("/pesan/<token>")
def show(token: str):
    return _show(_booking_or_404(token))


@bp.post("/pesan/<token>/ubah")
def change(token: str):
    found = _booking_or_404(token)
    form = ChangeForm()
    done = submit(form, lambda: rules.change_booking(found.token, form.window.data, form.services.data or []))
    if done:
        flash(_("Pemesanan diubah."), "ok")
        return redirect(url_for("booking.show", token=found.token), 303)
    db.session.rollback()
    return _show(_booking_or_404(token), form, done.status)


@bp.post("/pesan/<token>/batal")
def cancel(token: str):
    found = _booking_or_404(token)
    form = CancelForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        rules.cancel_booking(found.token)
    except rules.DomainError as exc:  # already cancelled or used
        flash(exc.message, "error")
        return redirect(url_for("booking.show", token=found.token), 303)
    flash(_("Pemesanan dibatalkan. Tempatnya kini terbuka untuk warga lain."), "ok")
    return redirect(url_for("booking.show", token=found.token), 303)
