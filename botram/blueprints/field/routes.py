"""The coordinator's field-sync page (docs/field-sync.md).

A laptop back from the field without a network hands over its exported bundle file; the coordinator uploads
it here and `botram.domain.field.import_bundle` brings the day in (all-or-nothing, idempotent: the same file
twice changes nothing). The page also lists the events checked out to laptops and takes one back when a
laptop is lost (`release_checkout`).
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import Length

from ... import field_transfer as transfer
from ...domain import DomainError
from ...domain import field as field_sync
from ...domain.clock import today_wib
from ...extensions import db
from ...models import Event, EventStatus, Role
from ...security import roles_required
from . import bp
from .sync import field_key, report_json

SYNC_ROLES = (Role.KOORDINATOR.value, Role.ADMIN.value)
RECENT_DAYS = 14  # events this close to today are the ones that can be out in the field
# What the import report counts, per table of the bundle (botram/domain/field/rows.py), in words.
KIND_LABELS = {
    "agency": _l("Instansi"), "service": _l("Layanan"), "requirement": _l("Persyaratan"),
    "life_event_package": _l("Paket layanan"), "user": _l("Pengguna"), "event": _l("Kegiatan"),
    "desk": _l("Loket"), "visit": _l("Kunjungan (nomor antrean)"), "step": _l("Langkah layanan"),
    "survey_response": _l("Jawaban survei"), "audit_log": _l("Catatan audit"),
}


class BundleUploadForm(FlaskForm):
    bundle = FileField(_l("Berkas dari laptop lapangan"), render_kw={"accept": ".botram,application/octet-stream"})


class ReleaseForm(FlaskForm):
    reason = StringField(_l("Alasan"), validators=[Length(max=200, message=_l("Alasan paling banyak 200 karakter."))])


def _field_events() -> list[tuple[Event, object]]:
    """Recent and coming events with where each one is: (event, checkout or None)."""
    start = today_wib() - timedelta(days=RECENT_DAYS)
    events = db.session.scalars(
        sa.select(Event).where(Event.date >= start, Event.status != EventStatus.CLOSED.value)
        .order_by(Event.date, Event.id)).all()
    out = field_sync.checkouts_of(event.id for event in events)
    return [(event, out.get(event.id)) for event in events]


def _page(form: BundleUploadForm, status: int = 200):
    return render_template("field/index.html", form=form, release_form=ReleaseForm(), rows=_field_events(),
                           max_mb=transfer.MAX_BUNDLE_BYTES // (1024 * 1024)), status


@bp.get("/")
@roles_required(*SYNC_ROLES)
def index():
    return _page(BundleUploadForm())


@bp.url_value_preprocessor
def _larger_body_for_bundles(endpoint: str | None, values: dict | None) -> None:
    """A day's bundle may pass the app's 4 MB body limit; only the upload view accepts more. Set here because
    URL preprocessors run before every before_request hook, and those (the CSRF check, the NUL check) read
    the body under whatever limit is in force."""
    if endpoint == "field.upload" and current_user.is_authenticated and current_user.role in SYNC_ROLES:
        request.max_content_length = transfer.MAX_BUNDLE_BYTES  # not for strangers: they get 413 at 4 MB


@bp.post("/impor")
@roles_required(*SYNC_ROLES)
def upload():
    form = BundleUploadForm()
    if not form.validate():
        return _page(form, 400)
    upload_file = form.bundle.data
    data = upload_file.stream.read(transfer.MAX_BUNDLE_BYTES + 1) if upload_file else b""
    if not data:
        form.bundle.errors = [_("Pilih berkas bundel dari laptop lapangan (.botram).")]
        return _page(form, 422)
    try:
        report = field_sync.import_bundle(data, key=field_key(), by_user_id=current_user.id)
    except DomainError as exc:
        db.session.rollback()
        form.bundle.errors = [exc.message]
        return _page(form, exc.status if exc.status < 500 else 422)
    event = db.session.get(Event, report.event_id)
    return render_template("field/report.html", report=report_json(report), event=event, labels=KIND_LABELS)


@bp.post("/kegiatan/<int:event_id>/ambil-kembali")
@roles_required(*SYNC_ROLES)
def release(event_id: int):
    event = db.get_or_404(Event, event_id)
    form = ReleaseForm()
    if not form.validate():
        flash(form.reason.errors[0] if form.reason.errors else _("Permintaan tidak sah. Muat ulang halaman."),
              "error")
        return redirect(url_for("field.index"), 303)
    if field_sync.checkout_of(event.id) is None:
        flash(_("%(title)s tidak sedang dipinjam laptop lapangan.", title=event.title), "info")
        return redirect(url_for("field.index"), 303)
    reason = (form.reason.data or "").strip() or _("Diambil kembali oleh %(name)s.", name=current_user.name)
    try:
        field_sync.release_checkout(event.id, reason=reason, by_user_id=current_user.id)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("field.index"), 303)
    transfer.forget_bundles(current_app.instance_path, event.id)
    flash(_("%(title)s kembali ke server: antrean dapat diubah lagi di sini.", title=event.title), "success")
    return redirect(url_for("field.index"), 303)

