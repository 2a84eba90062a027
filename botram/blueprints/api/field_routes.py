"""Field sync over the network (docs/field-sync.md): check an event out to a laptop, and take its check-ins.

`botram field pull` asks for the checkout bundle (made once, kept under the instance folder) and downloads it
with HTTP Range, so a cut connection resumes where it stopped. `botram field push` announces its check-in
bundle (size, sha256), sends it in chunks below MAX_CONTENT_LENGTH with `Content-Range` (a repeated chunk is
harmless, a gap is refused with 409), and asks for the import, which `botram.domain.field.import_bundle`
runs all-or-nothing and idempotently. The bytes are moved by `botram.field_transfer`; the rules are the
domain's. Coordinators (or admins) only: a laptop carries a coordinator's device token.
"""
from __future__ import annotations

from flask import current_app, jsonify, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ... import field_transfer as transfer
from ...domain import field as field_sync
from ...models import Event, Role
from ..field.sync import checkout_json, field_key, report_json
from . import bp
from .auth import api_roles
from .errors import ApiError
from .params import get_or_404, json_body

SYNC_ROLES = (Role.KOORDINATOR.value, Role.ADMIN.value)
MAX_DEVICE = 80


def _instance() -> str:
    return current_app.instance_path


def _device(data: dict) -> str:
    value = data.get("device")
    if not isinstance(value, str) or not value.strip():
        raise ApiError(422, _("device wajib diisi: nama laptop lapangan, misalnya 'laptop-cikarang-1'."),
                       field="device")
    value = value.strip()
    if len(value) > MAX_DEVICE or not value.isprintable():
        raise ApiError(422, _("device paling banyak %(n)s karakter yang dapat dicetak.", n=MAX_DEVICE),
                       field="device")
    return value


def _bundle_json(bundle: transfer.StoredBundle) -> dict:
    return {"id": bundle.id, "event_id": bundle.event_id, "device": bundle.device, "size": bundle.size,
            "sha256": bundle.sha256, "url": url_for("api.field_bundle", bundle_id=bundle.id)}


@bp.get("/events/<int:event_id>/checkout")
@api_roles(*SYNC_ROLES)
def event_checkout(event_id: int):
    """Where the event is: checked out to which laptop since when, or at the server."""
    get_or_404(Event, event_id, _("Kegiatan tidak ditemukan."))
    return jsonify(checkout_json(event_id))


@bp.post("/events/<int:event_id>/checkout")
@api_roles(*SYNC_ROLES)
def checkout(event_id: int):
    """Check the event out to `device` and make its bundle once; the same device asking again (its answer
    was lost, or the laptop restarted) gets the same bundle, so a download can resume."""
    get_or_404(Event, event_id, _("Kegiatan tidak ditemukan."))
    device = _device(json_body())
    current = field_sync.checkout_of(event_id)
    if current is not None and current.device == device:
        stored = transfer.bundle_for_checkout(_instance(), event_id, device)
        if stored is not None:
            return jsonify(_bundle_json(stored)), 200
    data = field_sync.export_checkout(event_id, device=device, key=field_key(), by_user_id=current_user.id)
    stored = transfer.store_bundle(_instance(), event_id, device, data, user_id=current_user.id)
    return jsonify(_bundle_json(stored)), 201


@bp.get("/field/bundles/<bundle_id>")
@api_roles(*SYNC_ROLES)
def field_bundle(bundle_id: str):
    """The bundle's bytes; `Range: bytes=N-` answers 206 with the rest (werkzeug's conditional responses)."""
    found = transfer.find_bundle(_instance(), bundle_id)
    if found is None:
        raise ApiError(404, _("Berkas kegiatan tidak ditemukan. Minta checkout lagi."))
    bundle, path = found
    response = send_file(path, mimetype="application/octet-stream", as_attachment=True,
                         download_name=f"botram-kegiatan-{bundle.event_id}.botram", conditional=True,
                         etag=bundle.sha256, max_age=0)
    response.headers["X-Content-SHA256"] = bundle.sha256
    return response


@bp.post("/field/uploads")
@api_roles(*SYNC_ROLES)
def field_upload_start():
    """Announce a check-in: {size, sha256}. 201 with a new upload, or 200 with this caller's unfinished upload
    of the same bytes (a laptop that restarted continues from `received`)."""
    data = json_body()
    upload, created = transfer.start_upload(_instance(), size=data.get("size"), sha256=data.get("sha256"),
                                            user_id=current_user.id)
    return jsonify(upload.as_json()), 201 if created else 200


@bp.get("/field/uploads/<upload_id>")
@api_roles(*SYNC_ROLES)
def field_upload(upload_id: str):
    """How much of the upload arrived: where to continue after a cut connection."""
    return jsonify(transfer.get_upload(_instance(), upload_id, user_id=current_user.id).as_json())


@bp.put("/field/uploads/<upload_id>")
@api_roles(*SYNC_ROLES)
def field_upload_chunk(upload_id: str):
    """One chunk, `Content-Range: bytes START-END/TOTAL`, body application/octet-stream."""
    upload = transfer.write_chunk(_instance(), upload_id, user_id=current_user.id,
                                  content_range=request.headers.get("Content-Range"),
                                  stream=request.stream, length=request.content_length)
    return jsonify(upload.as_json())


@bp.post("/field/uploads/<upload_id>/import")
@api_roles(*SYNC_ROLES)
def field_upload_import(upload_id: str):
    """Import the complete upload. A repeat (the answer was lost) answers the same report again."""
    key = field_key()
    upload = transfer.import_upload(_instance(), upload_id, user_id=current_user.id,
                                    run=lambda data: report_json(field_sync.import_bundle(data, key=key,
                                                                                     by_user_id=current_user.id)))
    return jsonify(upload.as_json())
