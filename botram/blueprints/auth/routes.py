import sqlalchemy as sa
from flask import current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from datetime import timedelta

from ...domain import login_guard
from ...extensions import db
from ...models import User
from ...web import safe_next
from . import bp
from .forms import EmptyForm, LoginForm


def _guard_settings() -> dict:
    config = current_app.config
    return {"max_failures": config["BOTRAM_LOGIN_MAX_FAILURES"],
            "window": timedelta(minutes=config["BOTRAM_LOGIN_LOCKOUT_MINUTES"])}


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    status = 200
    headers = {}
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        ip = request.remote_addr or ""
        try:
            login_guard.check_allowed(username, ip, ip_max_failures=current_app.config["BOTRAM_LOGIN_IP_MAX_FAILURES"],
                                      **_guard_settings())
        except login_guard.LockedOut as exc:
            # Neither the username nor the password goes to the log: only that a locked sign-in was tried.
            current_app.logger.warning("sign-in refused: too many failures (client %s)", ip)
            return render_template("auth/login.html", form=form, error=exc.message), 429, \
                {"Retry-After": str(exc.retry_after)}
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is not None and user.active and user.check_password(form.password.data):
            # Nothing from before the sign-in survives it but the language and the form token
            # (pages already open in other tabs keep working).
            kept = {key: session[key] for key in ("lang", "csrf_token") if key in session}
            session.clear()
            session.update(kept)
            session.permanent = True
            session["sid"] = login_guard.sign_in(user.id, username, new_hash=user.rehashed(form.password.data))
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or url_for("home.index"), 303)
        login_guard.record_failure(username, ip, **_guard_settings())
        error = _("Nama pengguna atau kata sandi salah, atau akun tidak aktif.")
        status = 401
        current_app.logger.info("failed sign-in (client %s)", ip)
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, error=error), status, headers


@bp.post("/logout")
def logout():
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        login_guard.sign_out(session.get("sid"), current_user.id)
        logout_user()
    session.clear()
    return redirect(url_for("auth.login"), 303)


@bp.post("/lang/<code>")
def set_language(code: str):
    form = EmptyForm()
    if form.validate_on_submit() and code in current_app.config["BOTRAM_LOCALES"]:
        session["lang"] = code
    return redirect(safe_next(request.form.get("next")) or url_for("home.index"), 303)
