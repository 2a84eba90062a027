"""Who is asking: session and bearer-token login, the capability check of pages, answers for the unauthenticated.

What each role may do is decided in botram/permissions.py."""
from __future__ import annotations

from datetime import timedelta
from functools import wraps
from typing import Callable

from flask import Flask, abort, current_app, flash, g, jsonify, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from .extensions import db, login_manager
from .models import User
from .permissions import Capability


KIOSK_COOKIE = "botram_kiosk"


def wants_json() -> bool:
    return request.path.startswith("/api/")


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a database id, so 1 .. 2**31-1 (PostgreSQL's integer). A larger number
    is a 404 like any unknown id, instead of an overflow error deep in the database driver."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    # Before the blueprints register their rules, so every <int:...> route uses it.
    app.url_map.converters["int"] = IdConverter
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Silakan masuk untuk membuka halaman ini.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    if app.config.get("BOTRAM_PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["BOTRAM_PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.before_request
    def _refuse_nul_characters():
        """A NUL character has no place in any text here, and PostgreSQL cannot store one: 400 up front
        (after the CSRF check) rather than a database error deep in a view."""
        if "\x00" in request.path or any("\x00" in key + value for key, value in request.args.items(multi=True)):
            abort(400, description=str(_l("Teks berisi karakter yang tidak diizinkan.")))
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            if request.is_json:
                bad = _has_nul(request.get_json(silent=True))
            else:
                bad = any("\x00" in key + value for key, value in request.form.items(multi=True))
            if bad:
                abort(400, description=str(_l("Teks berisi karakter yang tidak diizinkan.")))

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        """The user of a live server-side session: ended by logout, idle time or age, a cookie is worthless."""
        if not user_id.isdigit():
            return None
        from .domain.login_guard import check_session

        # current_app, not the closure's `app`: login_manager is one object per process, and the loader
        # registered last would otherwise read the config of whichever app was created last.
        ended = check_session(session.get("sid"), int(user_id),
                              idle=timedelta(minutes=current_app.config["BOTRAM_IDLE_MINUTES"]),
                              lifetime=current_app.permanent_session_lifetime)
        if ended is not None:
            for key in ("_user_id", "_fresh", "_id", "sid"):
                session.pop(key, None)
            if ended == "idle" and not wants_json():
                flash(str(_l("Sesi Anda berakhir karena lama tidak aktif. Silakan masuk lagi.")), "info")
            return None
        user = db.session.get(User, int(user_id))
        return user if user is not None and user.active else None

    @login_manager.request_loader
    def load_user_from_token(req) -> User | None:
        scheme, _, raw = req.headers.get("Authorization", "").partition(" ")
        kiosk = req.path.startswith("/kiosk/")
        if kiosk and scheme.lower() != "bearer":
            # A kiosk's browser cannot send a header: its token sits in a cookie set once at enrolment
            # (blueprints/kiosk), sent only to /kiosk/ pages.
            scheme, raw = "bearer", req.cookies.get(KIOSK_COOKIE, "")
        if scheme.lower() != "bearer" or not (req.path.startswith("/api/") or kiosk):
            return None
        from .domain.tokens import token_user

        found = token_user(raw.strip())
        if found is None:
            return None
        g.token_auth = True
        g.token_id = found[1]
        return found[0]

    @login_manager.unauthorized_handler
    def unauthorized():
        if wants_json():
            return jsonify(error="unauthorized", detail="Masuk dahulu atau kirim token perangkat."), 401
        from .extensions import htmx

        login_url = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
        if htmx:
            # Never swap a login form into the desk panel or the board: send the whole page there.
            response = app.response_class(status=401)
            response.headers["HX-Redirect"] = login_url
            return response
        return redirect(login_url)


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def requires(capability: Capability) -> Callable:
    """A page for signed-in users holding `capability` (botram.permissions); others get the login page or 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not capability(current_user):
                abort(403)
            return view(*args, **kwargs)

        wrapped.capability = capability  # the authorization matrix test derives its table from this
        wrapped.allowed_roles = capability.roles
        return wrapped

    return decorator
