"""The coordinator's field-sync page (docs/field-sync.md).

A laptop back from the field without a network hands over its exported bundle file; the coordinator uploads
it here and `botram.domain.field.import_bundle` brings the day in (all-or-nothing, idempotent: the same file
twice changes nothing). The page also checks an event out to a laptop (the encrypted file is downloaded from
the page, no IT on site needed), lists the events out on laptops and takes one back, with a reason, when a
laptop is lost (`release_checkout`).

Its messages are for a coordinator: where a rule's own words name a setting or a command (BOTRAM_FIELD_KEY),
the page says what happened in plain words and folds those words away in a "for IT" detail.
"""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa
from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ... import field_transfer as transfer
from ...domain import DomainError
from ...domain import field as field_sync
from ...domain.clock import today_wib
from ...extensions import db
from ...models import Event, EventStatus
from ...permissions import may_sync_field
from ...security import requires
from . import bp
from .sync import field_key, report_json

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
    reason = StringField(_l("Alasan"), validators=[
        DataRequired(_l("Tuliskan alasan mengambil kembali kegiatan dari laptop (mis. laptop hilang atau rusak).")),
        Length(max=200, message=_l("Alasan paling banyak 200 karakter."))])


class CheckoutForm(FlaskForm):
    device = StringField(_l("Nama laptop"), validators=[
        DataRequired(_l("Tuliskan nama laptop yang membawa kegiatan ini (mis. laptop-cikarang-1).")),
        Length(max=80, message=_l("Nama laptop paling banyak 80 karakter."))])


def for_coordinator(exc: DomainError) -> tuple[str, str | None]:
    """(what the coordinator reads, the technical detail for IT or None). The domain's messages serve the
    API and the command line too, so they name settings; the page puts those words behind a detail."""
    if exc.status in (501, 503) or (exc.field == "key" and "belum diatur" in str(exc.message)):
        return _("Server ini belum disiapkan untuk membawa kegiatan ke laptop lapangan. Hubungi petugas TI "
                 "kabupaten; sampai itu selesai, layani pengunjung langsung di server ini."), exc.message
    if exc.field == "key":
        return _("Berkas ini dikunci dengan kunci yang berbeda dari server ini, jadi tidak dapat dibuka. Tidak ada "
                 "yang disimpan. Minta petugas TI memastikan laptop dan server memakai kunci yang sama."), \
            exc.message
    return exc.message, None


def _field_events() -> list[tuple[Event, object]]:
    """Recent and coming events with where each one is: (event, checkout or None)."""
    start = today_wib() - timedelta(days=RECENT_DAYS)
    events = db.session.scalars(
        sa.select(Event).where(Event.date >= start, Event.status != EventStatus.CLOSED)
        .order_by(Event.date, Event.id)).all()
    out = field_sync.checkouts_of(event.id for event in events)
    return [(event, out.get(event.id)) for event in events]


def _page(form: BundleUploadForm, status: int = 200, *, tech: str | None = None, row_event: int | None = None,
          row_form=None, row_tech: str | None = None):
    """The page; an upload refusal shows beside the upload form, a checkout or take-back refusal in its row."""
    return render_template("field/index.html", form=form, release_form=ReleaseForm(formdata=None),
                           checkout_form=CheckoutForm(formdata=None), rows=_field_events(), tech=tech,
                           row_event=row_event, row_form=row_form, row_tech=row_tech,
                           max_mb=transfer.MAX_BUNDLE_BYTES // (1024 * 1024)), status


@bp.get("/")
@requires(may_sync_field)
def index():
    return _page(BundleUploadForm())


@bp.url_value_preprocessor
def _larger_body_for_bundles(endpoint: str | None, values: dict | None) -> None:
    """A day's bundle may pass the app's 4 MB body limit; only the upload view accepts more. Set here because
    URL preprocessors run before every before_request hook, and those (the CSRF check, the NUL check) read
    the body under whatever limit is in force."""
    if endpoint == "field.upload" and may_sync_field(current_user):
        request.max_content_length = transfer.MAX_BUNDLE_BYTES  # not for strangers: they get 413 at 4 MB


@bp.post("/impor")
@requires(may_sync_field)
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
        message, tech = for_coordinator(exc)
        form.bundle.errors = [message]
        return _page(form, exc.status if exc.status < 500 else 422, tech=tech)
    event = db.session.get(Event, report.event_id)
    return render_template("field/report.html", report=report_json(report), event=event, labels=KIND_LABELS)


def _row_refusal(event: Event, form, exc: DomainError | None = None):
    """The page again, with the refusal next to the field of the event's row (422), nothing changed."""
    tech = None
    if exc is not None:
        db.session.rollback()
        message, tech = for_coordinator(exc)
        target = form.device if hasattr(form, "device") else form.reason
        target.errors = [message]
    return _page(BundleUploadForm(formdata=None), exc.status if exc and exc.status < 500 else 422,
                 row_event=event.id, row_form=form, row_tech=tech)


def _invalid(event: Event, form):
    """None when a row's form is valid; else the answer: a stale page (no valid token) is sent back to a fresh
    one, a missing or too long value is refused next to its field."""
    if form.validate():
        return None
    if form.csrf_token.errors:
        flash(_("Permintaan tidak sah. Muat ulang halaman."), "error")
        return redirect(url_for("field.index"), 303)
    return _row_refusal(event, form)


def _bundle_name(event: Event, device: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", device.lower()).strip("-")[:40] or "laptop"
    return f"botram-{event.date.isoformat()}-kegiatan-{event.id}-{slug}.botram"


@bp.post("/kegiatan/<int:event_id>/pinjam")
@requires(may_sync_field)
def checkout(event_id: int):
    """Check the event out to a laptop from the page: the encrypted file downloads at once, to be opened on
    the laptop with `botram field import` (the same bundle the API and `botram field export` make)."""
    event = db.get_or_404(Event, event_id)
    form = CheckoutForm()
    refused = _invalid(event, form)
    if refused is not None:
        return refused
    try:
        data = field_sync.export_checkout(event.id, device=form.device.data, key=field_key(),
                                          by_user_id=current_user.id)
    except DomainError as exc:
        return _row_refusal(event, form, exc)
    return Response(data, mimetype="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{_bundle_name(event, form.device.data)}"',
        "Cache-Control": "no-store"})


@bp.post("/kegiatan/<int:event_id>/ambil-kembali")
@requires(may_sync_field)
def release(event_id: int):
    event = db.get_or_404(Event, event_id)
    form = ReleaseForm()
    refused = _invalid(event, form)
    if refused is not None:
        return refused
    if field_sync.checkout_of(event.id) is None:
        flash(_("%(title)s tidak sedang dipinjam laptop lapangan.", title=event.title), "info")
        return redirect(url_for("field.index"), 303)
    try:
        field_sync.release_checkout(event.id, reason=form.reason.data, by_user_id=current_user.id)
    except DomainError as exc:
        return _row_refusal(event, form, exc)
    transfer.forget_bundles(current_app.instance_path, event.id)
    flash(_("%(title)s kembali ke server: antrean dapat diubah lagi di sini.", title=event.title), "ok")
    return redirect(url_for("field.index"), 303)
