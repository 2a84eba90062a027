"""Who may do what: session and bearer-token login, role checks, answers for the unauthenticated."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import Flask, abort, g, jsonify, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .extensions import db, login_manager
from .models import Role, User


def wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Silakan masuk untuk membuka halaman ini.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.active else None

    @login_manager.request_loader
    def load_user_from_token(req) -> User | None:
        scheme, _, raw = req.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not req.path.startswith("/api/"):
            return None
        from .domain.tokens import user_for_token

        user = user_for_token(raw.strip())
        if user is not None:
            g.token_auth = True
        return user

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


def roles_required(*roles: str | Role) -> Callable:
    """Allow only signed-in users holding one of `roles`; others get the login page or 403."""
    wanted = tuple(r.value if isinstance(r, Role) else r for r in roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in wanted:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = wanted  # read by the authorization matrix test
        return wrapped

    return decorator


def login_required_any(view: Callable) -> Callable:
    """Any signed-in role."""
    return roles_required(*Role)(view)
