"""Field sync over the network (docs/field-sync.md): check an event out to a laptop, and take its check-ins.

`botram field pull` asks for the checkout bundle (made once, kept under the instance folder) and downloads it
with HTTP Range, so a cut connection resumes where it stopped. `botram field push` announces its check-in
bundle (size, sha256), sends it in chunks below MAX_CONTENT_LENGTH with `Content-Range` (a repeated chunk is
harmless, a gap is refused with 409), and asks for the import, which `botram.domain.field.import_bundle`
runs all-or-nothing and idempotently. The bytes are moved by `botram.field_transfer`; the rules are the
domain's. Coordinators (or admins) only: a laptop carries a coordinator's device token.
"""
from __future__ import annotations

from flask import current_app, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from spectree import Response

from ... import field_transfer as transfer
from ...domain import field as field_sync
from ...models import Event
from ...permissions import may_sync_field
from ..field.sync import field_key, report_json
from . import bp
from .auth import api_requires
from .errors import ApiError, get_or_404
from .schemas import Error, FieldBundle, FieldCheckout, FieldCheckoutRequest, FieldUpload, FieldUploadRequest
from .spec import TAGS, answer, answers, api_spec, not_json

FIELD = [TAGS["field"]]
BYTES = {"application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}


def _instance() -> str:
    return current_app.instance_path


def _bundle(bundle: transfer.StoredBundle, status: int):
    return answer(FieldBundle, bundle, status, url=url_for("api.field_bundle", bundle_id=bundle.id))


def _upload(upload: transfer.Upload, status: int = 200):
    return answer(FieldUpload, upload, status, imported=upload.report is not None)


@bp.get("/events/<int:event_id>/checkout")
@api_requires(may_sync_field)
@api_spec.validate(resp=answers(200, FieldCheckout, description="The checkout."), tags=FIELD,
                   operation_id="getEventCheckout")
def event_checkout(event_id: int):
    """Where an event is: at the server or checked out to a field laptop

    Checked out to which laptop since when, and how many check-ins arrived meanwhile."""
    get_or_404(Event, event_id, _("Kegiatan tidak ditemukan."))
    current = field_sync.checkout_of(event_id)
    if current is None:
        return answer(FieldCheckout, {"event_id": event_id, "checked_out": False, "device": None, "since": None})
    return answer(FieldCheckout, current, event_id=event_id, checked_out=True)


@bp.post("/events/<int:event_id>/checkout")
@api_requires(may_sync_field)
@api_spec.validate(resp=Response(HTTP_200=(FieldBundle, "The bundle made earlier for this device."),
                                 HTTP_201=(FieldBundle, "The bundle."), HTTP_409=Error, HTTP_422=Error,
                                 HTTP_501=Error,
                                 # an id beyond the integer range (security.IdConverter refuses it): werkzeug answers 405
                                 HTTP_405=Error),
                   tags=FIELD, operation_id="checkoutEvent")
def checkout(event_id: int, json: FieldCheckoutRequest):
    """Check the event out to a field laptop and make its bundle

    The server marks the event as held by `device` (its queue then refuses writes here) and makes the
    encrypted bundle once: 201. The same device asking again (its answer was lost, or the laptop restarted)
    gets the same bundle (200), so its download resumes; another device is refused (409) until the event is
    checked in or taken back. 501 while the server has no BOTRAM_FIELD_KEY (a setting, not an outage)."""
    get_or_404(Event, event_id, _("Kegiatan tidak ditemukan."))
    device = json.device
    current = field_sync.checkout_of(event_id)
    if current is not None and current.device == device:
        stored = transfer.bundle_for_checkout(_instance(), event_id, device)
        if stored is not None:
            return _bundle(stored, 200)
    data = field_sync.export_checkout(event_id, device=device, key=field_key(), by_user_id=current_user.id)
    stored = transfer.store_bundle(_instance(), event_id, device, data, user_id=current_user.id)
    return _bundle(stored, 201)


@bp.get("/field/bundles/<bundle_id>")
@api_requires(may_sync_field)
@api_spec.validate(resp=Response(HTTP_416=Error), tags=FIELD, operation_id="downloadFieldBundle")
@not_json(parameters=[{"name": "Range", "in": "header", "required": False,
                       "schema": {"type": "string", "examples": ["bytes=1048576-"]}}],
          responses={"200": {"description": "The bundle's bytes.", "content": BYTES},
                     "206": {"description": "The part asked for.", "content": BYTES},
                     "404": {}})
def field_bundle(bundle_id: str):
    """Download a checkout bundle (resumable with Range)

    `Range: bytes=N-` answers 206 with the bytes from N: a cut download continues. The ETag and
    `X-Content-SHA256` are the bundle's sha256."""
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
@api_requires(may_sync_field)
@api_spec.validate(resp=Response(HTTP_200=(FieldUpload, "The unfinished upload."),
                                 HTTP_201=(FieldUpload, "The new upload."), HTTP_422=Error),
                   tags=FIELD, operation_id="startFieldUpload")
def field_upload_start(json: FieldUploadRequest):
    """Announce a check-in bundle to upload in chunks

    201 with a new upload; 200 with the caller's unfinished upload of the same bytes (same size and sha256),
    so a laptop that restarted continues from `received`."""
    upload, created = transfer.start_upload(_instance(), size=json.size, sha256=json.sha256,
                                            user_id=current_user.id)
    return _upload(upload, 201 if created else 200)


@bp.get("/field/uploads/<upload_id>")
@api_requires(may_sync_field)
@api_spec.validate(resp=answers(200, FieldUpload, description="The upload."), tags=FIELD,
                   operation_id="getFieldUpload")
@not_json(responses={"404": {}})
def field_upload(upload_id: str):
    """How much of an upload arrived

    Where to continue after a cut connection."""
    return _upload(transfer.get_upload(_instance(), upload_id, user_id=current_user.id))


@bp.put("/field/uploads/<upload_id>")
@api_requires(may_sync_field)
@api_spec.validate(resp=answers(200, FieldUpload, errors=(409, 413, 422), description="The upload."), tags=FIELD,
                   operation_id="putFieldUploadChunk")
@not_json(parameters=[{"name": "Content-Range", "in": "header", "required": True,
                       "schema": {"type": "string", "pattern": "^bytes [0-9]+-[0-9]+/[0-9]+$"},
                       "description": "bytes START-END/TOTAL, END inclusive."}],
          requestBody={"required": True, "content": BYTES}, responses={"404": {}})
def field_upload_chunk(upload_id: str):
    """Send one chunk of an upload

    Each chunk below the 4 MB request limit (the laptop sends 1 MB). Sending a chunk again writes the same
    bytes again; a chunk starting beyond `received` is refused (409): GET the upload and continue from
    `received`."""
    upload = transfer.write_chunk(_instance(), upload_id, user_id=current_user.id,
                                  content_range=request.headers.get("Content-Range"),
                                  stream=request.stream, length=request.content_length)
    return _upload(upload)


@bp.post("/field/uploads/<upload_id>/import")
@api_requires(may_sync_field)
@api_spec.validate(resp=answers(200, FieldUpload, errors=(409, 422, 501),
                                description="The upload with its report."),
                   tags=FIELD, operation_id="importFieldUpload")
@not_json(responses={"404": {}})
def field_upload_import(upload_id: str):
    """Import a complete upload

    Checks the sha256, then imports all-or-nothing; what arrived in an earlier check-in is not counted twice.
    A repeat answers the same report. A tampered bundle, one made with another key or by a newer BOTRAM is
    refused (422); 501 while the server has no BOTRAM_FIELD_KEY (a setting, not an outage: do not retry)."""
    key = field_key()
    upload = transfer.import_upload(_instance(), upload_id, user_id=current_user.id,
                                    run=lambda data: report_json(field_sync.import_bundle(data, key=key,
                                                                                     by_user_id=current_user.id)))
    return _upload(upload)
