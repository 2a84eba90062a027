from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ...domain import audit
from ...domain.clock import now
from ...extensions import db
from ...models import User
from . import bp
from .forms import EmptyForm, LoginForm


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: never bounce a login to another host."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        user = db.session.scalar(sa.select(User).where(User.username == form.username.data.strip().lower()))
        if user is not None and user.active and user.check_password(form.password.data):
            session.permanent = True
            login_user(user)
            user.last_login_at = now()
            audit.record("auth.login", "user", user.id, user_id=user.id)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"), 303)
        error = _("Nama pengguna atau kata sandi salah, atau akun tidak aktif.")
        status = 401
        current_app.logger.info("failed login")
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        logout_user()
    session.clear()
    return redirect(url_for("auth.login"), 303)


@bp.post("/lang/<code>")
def set_language(code: str):
    form = EmptyForm()
    if form.validate_on_submit() and code in current_app.config["BOTRAM_LOCALES"]:
        session["lang"] = code
    return redirect(_safe_next(request.form.get("next")) or url_for("home.index"), 303)
