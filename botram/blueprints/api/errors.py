"""JSON errors for the API: `{"error": <code>, "detail": <Indonesian text>}` with the right status.

`error` is a short stable code a device can branch on (see ERROR_CODES); `detail` is Indonesian text a person
can read; `field` (only when one input is at fault) names the request field. Never an HTML page.

Views raise `ApiError`, let `botram.domain.DomainError` propagate from domain calls, or
`abort(status)`: the handlers registered on the blueprint turn all of these into JSON.
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ...domain import DomainError
from ...extensions import db
from .schemas import MAX_ID

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "invalid",
    429: "too_many_requests",
    501: "not_configured",
    503: "unavailable",
    500: "server_error",
}


def default_detail(status: int) -> str:
    """The Indonesian sentence for a status when the raiser gave none."""
    texts = {
        400: _("Permintaan tidak dapat diproses: data yang dikirim tidak lengkap atau tidak sesuai."),
        401: _("Masuk dahulu atau kirim token perangkat."),
        403: _("Akun ini tidak memiliki hak untuk tindakan ini."),
        404: _("Data yang diminta tidak ditemukan."),
        405: _("Metode ini tidak diizinkan untuk alamat tersebut."),
        409: _("Data sudah berubah. Muat ulang lalu coba lagi."),
        413: _("Data yang dikirim terlalu besar."),
        415: _("Jenis data tidak didukung; kirim JSON."),
        416: _("Rentang byte yang diminta berada di luar berkas."),
        422: _("Data tidak valid."),
        429: _("Terlalu banyak permintaan. Tunggu sebentar lalu coba lagi."),
    }
    return texts.get(status, _("Terjadi kesalahan pada server. Coba lagi sebentar lagi."))


class ApiError(Exception):
    """An API refusal with its status, Indonesian detail and optionally the field at fault."""

    def __init__(self, status: int, detail: str | None = None, *, field: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(detail or str(status))
        self.status = status
        self.detail = detail
        self.field = field
        self.headers = headers or {}


def get_or_404(model, ident: int, detail: str | None = None):
    """The row with primary key `ident`, or a 404 JSON error (also for ids no column could hold)."""
    row = db.session.get(model, ident) if 0 < ident <= MAX_ID else None
    if row is None:
        raise ApiError(404, detail)
    return row


def json_error(status: int, detail: str | None = None, *, field: str | None = None,
               headers: dict[str, str] | None = None) -> Response:
    """The one shape of every API error response."""
    body: dict = {"error": ERROR_CODES.get(status, ERROR_CODES[500] if status >= 500 else "error"),
                  "detail": detail if detail is not None else default_detail(status)}
    if field:
        body["field"] = field
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="botram"')
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def domain_error_response(exc: DomainError) -> Response:
    """A broken rule from botram.domain as JSON: its status (422, 404, 409 ...), message and field."""
    db.session.rollback()  # nothing half-written survives a refused request
    return json_error(exc.status, exc.message, field=exc.field)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status >= 500:
        db.session.rollback()
    # werkzeug's stock descriptions are English; keep only a description the raiser wrote.
    custom = exc.description if exc.description != type(exc).description else None
    return json_error(status, custom)


def _csrf_error(exc: CSRFError) -> Response:
    return json_error(400, _("Token CSRF tidak ada atau kedaluwarsa. Kirim header X-CSRFToken dari sesi "
                             "yang sama, atau gunakan token perangkat (Authorization: Bearer)."))


def _api_error(exc: ApiError) -> Response:
    return json_error(exc.status, exc.detail, field=exc.field, headers=exc.headers)


def register_error_handlers(bp: Blueprint) -> None:
    """JSON for every error raised while an API view (or the blueprint's hooks) runs.

    Errors raised before routing (an unknown /api/ URL, a wrong method) reach the app-wide handlers
    in botram/web.py, which also answer JSON for /api/ paths.
    """
    bp.register_error_handler(ApiError, _api_error)
    bp.register_error_handler(DomainError, domain_error_response)
    bp.register_error_handler(CSRFError, _csrf_error)
    bp.register_error_handler(HTTPException, _http_error)
