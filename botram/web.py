"""Page plumbing shared by every blueprint: fragment-or-page rendering, error pages, headers, navigation."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from . import metrics, permissions
from .domain import queue_rules, uow
from .domain.uow import DatabaseUnavailable, is_connection_error
from .extensions import db, htmx
from .security import wants_json


def toast(response: Response, message: str, kind: str = "ok", **extra) -> Response:
    """Show `message` as a toast after an htmx swap (static/js/app.js listens for `botram:toast`); `extra`
    travels along (e.g. an undo link)."""
    response.headers["HX-Trigger"] = json.dumps({"botram:toast": {"message": str(message), "kind": kind, **extra}})
    return response


def show_domain_error(form, exc) -> None:
    """A broken rule on a page: every mistake the domain found, each next to the field it names, else above
    the form."""
    for field, message in exc.errors:
        if field and field in form:
            form[field].errors = list(form[field].errors or []) + [message]
        else:
            form.form_errors.append(message)


def safe_next(target: str | None) -> str | None:
    """Where to go after a form (`?next=`): only a path on this site, never another host
    (`//host`, `https://host`, `/\\host` all leave the site in some browser)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def is_fragment_request() -> bool:
    """An htmx request that wants a fragment (a history restore wants the whole page)."""
    return bool(htmx) and not htmx.history_restore_request


def render_page_or_fragment(page: str, fragment: str, **context) -> Response:
    """The same route answers htmx with the fragment and a plain request with the full page."""
    template = fragment if is_fragment_request() else page
    response = make_response(render_template(template, **context))
    response.headers["Vary"] = "HX-Request"
    return response


ERROR_TEXT = {
    400: (_l("Permintaan tidak dapat diproses"), _l("Data yang dikirim tidak lengkap atau tidak sesuai.")),
    401: (_l("Perlu masuk"), _l("Silakan masuk dengan akun Anda untuk melanjutkan.")),
    403: (_l("Akses ditolak"), _l("Akun Anda tidak memiliki hak untuk membuka halaman ini.")),
    404: (_l("Halaman tidak ditemukan"), _l("Alamat yang Anda buka tidak ada atau sudah dipindahkan.")),
    405: (_l("Metode tidak diizinkan"), _l("Tindakan ini tidak dapat dilakukan dengan cara tersebut.")),
    409: (_l("Terjadi bentrokan data"), _l("Data sudah berubah. Muat ulang halaman lalu coba lagi.")),
    413: (_l("Berkas terlalu besar"), _l("Data yang dikirim melebihi 4 MB.")),
    422: (_l("Data tidak valid"), _l("Periksa kembali isian Anda.")),
    429: (_l("Terlalu banyak percobaan"), _l("Tunggu sebentar sebelum mencoba lagi.")),
    500: (_l("Terjadi kesalahan pada server"), _l("Kami sudah mencatatnya. Coba lagi sebentar lagi.")),
}


def error_response(status: int, detail: str | None = None):
    if wants_json():
        from .blueprints.api.errors import json_error

        return json_error(status, detail)
    title, text = ERROR_TEXT.get(status, ERROR_TEXT[500])
    return render_template("errors/error.html", status=status, title=str(title), text=detail or str(text)), status


RETRY_AFTER = 5


def unavailable_response():
    """503 while the database cannot be reached: JSON for the API, else a page that retries by itself."""
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the pool throws it away
        db.session.close()
    current_app.logger.warning("database unreachable on %s %s", request.method, request.path)
    metrics.database_unavailable("api" if wants_json() else "page")
    headers = {"Retry-After": str(RETRY_AFTER)}
    if wants_json():
        from .blueprints.api.errors import json_error

        return json_error(503, _("Server data sedang tidak dapat dihubungi. Coba lagi sebentar lagi."),
                          headers=headers)
    if "_login_user" not in g:
        # Every template render asks Flask-Login for the user, whose loader needs the database.
        from .extensions import login_manager

        g._login_user = login_manager.anonymous_user()
    return render_template("errors/unavailable.html", retry_after=RETRY_AFTER), 503, headers


NAV = [
    # (endpoint, label): shown to whoever holds the capability the page itself declares (botram.permissions)
    ("events.index", _l("Kegiatan")),
    ("reception.index", _l("Pendaftaran")),
    ("desk.index", _l("Loket")),
    ("sponsors.index", _l("Pendanaan")),
    ("reports.index", _l("Laporan")),
    ("field.index", _l("Lapangan")),
    ("admin.users", _l("Pengguna")),
    ("admin.agencies", _l("Instansi")),
    ("admin.services", _l("Layanan")),
    ("admin.packages", _l("Paket layanan")),
    ("admin.voice_clips", _l("Suara")),
    ("admin.crest_page", _l("Lambang")),
    ("admin.printers", _l("Printer")),
]


ROLE_LABELS = {
    "admin": _l("Administrator"), "koordinator": _l("Koordinator"), "resepsionis": _l("Resepsionis"),
    "petugas": _l("Petugas loket"), "keuangan": _l("Keuangan"),
    "kiosk": _l("Anjungan (kios tiket)"),
}

STATUS_LABELS = {
    # events and desks
    "draft": _l("Draf"), "open": _l("Dibuka"), "closed": _l("Ditutup"), "paused": _l("Jeda"),
    # queue steps
    "waiting": _l("Menunggu"), "called": _l("Dipanggil"), "serving": _l("Dilayani"), "done": _l("Selesai"),
    "no_show": _l("Tidak hadir"), "transferred": _l("Dialihkan"), "cancelled": _l("Dibatalkan"),
}


def extend_label(minutes: int) -> str:
    """"+30 menit", "+1 jam", "+2 jam": the one-click extension buttons."""
    if minutes % 60 == 0:
        return _("+%(n)s jam", n=minutes // 60)
    return _("+%(n)s menit", n=minutes)


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def init_app(app: Flask) -> None:
    queue_rules.install(app)
    uow.observe(metrics.unit_of_work_noted)
    # Globals rather than context: macros imported without context need them too.
    from .domain import crest
    from .domain.events import EXTEND_CHOICES

    app.jinja_env.globals.update(role_label=role_label, status_label=status_label, extend_label=extend_label,
                                 extend_choices=EXTEND_CHOICES, crest_version=crest.version)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.code and exc.code >= 500:
            db.session.rollback()
        # werkzeug's stock descriptions are English: keep only a description our code wrote
        custom = exc.description if exc.description != type(exc).description else None
        return error_response(exc.code or 500, custom if wants_json() else None)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        detail = _("Sesi formulir kedaluwarsa. Muat ulang halaman lalu kirim lagi.")
        return error_response(400, detail)

    @app.errorhandler(DBAPIError)
    @app.errorhandler(DatabaseUnavailable)
    def _database_error(exc: Exception):
        if not is_connection_error(exc):
            return _unexpected(exc)
        return unavailable_response()

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500)

    def _clock_the_request() -> None:
        g.metrics_started = metrics.started()

    # First of all the hooks: a request another hook answers (a CSRF refusal, an ended session) counts too.
    app.before_request_funcs.setdefault(None, []).insert(0, _clock_the_request)

    @app.after_request
    def _count_the_request(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        if started is not None:  # by URL rule, never the path: a status token or search must not become a label
            rule = request.url_rule.rule if request.url_rule is not None else None
            metrics.request_done(rule, request.method, response.status_code, metrics.started() - started)
        return response

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # No inline script anywhere (tests/test_security.py scans the templates); inline styles stay allowed
        # for agency colours and the ticket's @page size.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
            "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        # Pages for signed-in staff may carry a name or NIK: no copy in a shared laptop's browser cache.
        user = g.get("_login_user")
        # is_anonymous, not is_authenticated: the latter reads the user's row, which a commit has expired.
        if user is not None and not user.is_anonymous and request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def _navigation():
        items = []
        if current_user.is_authenticated:
            for endpoint, label in NAV:
                view = app.view_functions.get(endpoint)
                if view is not None and view.capability(current_user):
                    items.append((endpoint, str(label)))
        from .domain.clock import now

        return {"nav_items": items, "now_wib": now, "view_names": app.view_functions,
                "may": permissions.TemplateView(current_user)}
