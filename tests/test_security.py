"""Sign-in, sessions, CSRF and response headers: what an auditor checks first."""
from __future__ import annotations

import logging
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g

from botram import config as config_module
from botram import create_app
from botram.domain import DomainError
from botram.domain.users import check_password_policy
from botram.extensions import db
from botram.models import AuditLog, LoginFailure, LoginSession, User

from .conftest import PASSWORD, count
from .factories import make_user
from .worlds import build_world, url_for_rule

TEMPLATES = Path(__file__).resolve().parents[1] / "botram" / "templates"


def _age(model, column: str, minutes: int) -> None:
    """Move a timestamp of every row of `model` back by `minutes` (as if that time had passed)."""
    for row in db.session.scalars(sa.select(model)):
        setattr(row, column, getattr(row, column) - timedelta(minutes=minutes))
    db.session.commit()


def _fail(client, username="admin", password="salah-sekali-1"):
    return client.post("/login", data={"username": username, "password": password})


# ------------------------------------------------------------------------------------------- lockout

def test_repeated_failures_lock_the_account_even_for_the_right_password(client, app):
    make_user("admin")
    for _ in range(app.config["BOTRAM_LOGIN_MAX_FAILURES"]):
        assert _fail(client).status_code == 401
    response = client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Terlalu banyak percobaan masuk" in response.get_data(as_text=True)
    assert count(LoginSession) == 0
    assert count(AuditLog, AuditLog.action == "auth.lockout") == 1
    # the lockout is temporary: once the failures age out, the right password works again
    _age(LoginFailure, "at", 16)
    assert client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 303


def test_lockout_is_per_username_and_case_insensitive(client, app):
    make_user("admin")
    make_user("keuangan")
    for _ in range(5):
        _fail(client, "ADMIN ")
    assert client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 429
    assert client.post("/login", data={"username": "keuangan", "password": PASSWORD}).status_code == 303


def test_a_successful_sign_in_clears_earlier_failures(client, auth):
    make_user("admin")
    for _ in range(4):
        _fail(client)
    auth.login("admin")
    auth.logout()
    # logout cleared the session and its form token: fetch a new one, as a browser's next page would
    client._token = None
    g.pop("csrf_token", None)  # Flask-WTF caches it on the app context the test shares with requests
    for _ in range(4):
        _fail(client)
    auth.login("admin")


def test_a_client_address_failing_across_many_usernames_is_refused(app, client):
    app.config["BOTRAM_LOGIN_IP_MAX_FAILURES"] = 6
    make_user("admin")
    for i in range(6):
        _fail(client, f"tebak{i}")
    assert client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 429


OTHER_PROCESS = """
import sys
from botram import create_app

url, instance, password = sys.argv[1:]
app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": instance,
                  "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False})
client = app.test_client()
for username in ("admin", "keuangan"):
    print(username, client.post("/login", data={"username": username, "password": password}).status_code)
"""


def test_the_lockout_holds_across_server_processes(app, client, tmp_path):
    """Failures live in the database: another server process (a real one, with its own memory) refuses the
    locked-out name, and still signs in another."""
    make_user("admin")
    make_user("keuangan")
    for _ in range(5):
        _fail(client)
    db.session.commit()
    result = subprocess.run([sys.executable, "-c", OTHER_PROCESS, app.config["SQLALCHEMY_DATABASE_URI"],
                             str(tmp_path / "other"), PASSWORD], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["admin", "429", "keuangan", "303"], result.stdout + result.stderr


def test_failed_sign_ins_log_neither_username_nor_password(app, client):
    make_user("admin")
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Keep(level=logging.DEBUG)
    app.logger.addHandler(handler)
    level = app.logger.level
    app.logger.setLevel(logging.DEBUG)
    try:
        for _ in range(6):
            _fail(client, "admin", "Rahasia-Bocor-99")
    finally:
        app.logger.removeHandler(handler)
        app.logger.setLevel(level)
    text = "\n".join(records)
    assert "Rahasia-Bocor-99" not in text and "admin" not in text
    assert "failed sign-in" in text and "too many failures" in text
    stored = db.session.scalars(sa.select(LoginFailure)).all()
    assert stored and all("Rahasia" not in (f.username + f.ip) for f in stored)
    assert all("Rahasia" not in str(a.detail) for a in db.session.scalars(sa.select(AuditLog)))


def test_login_form_bad_input_is_refused_without_a_session(client):
    for data in ({}, {"username": "", "password": ""}, {"username": "a" * 41, "password": "x"},
                 {"username": "admin", "password": "p" * 201}):
        assert client.post("/login", data=data).status_code == 400
    assert count(LoginSession) == 0


# ------------------------------------------------------------------------------------------ passwords

def test_passwords_are_hashed_with_argon2id_at_owasp_strength_by_default(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "INSTANCE_PATH": str(tmp_path)})
    assert "BOTRAM_PASSWORD_METHOD" not in app.config or app.config["BOTRAM_PASSWORD_METHOD"] == "argon2id"
    with app.app_context():
        user = User(username="x", name="X", role="admin")
        user.set_password("kata-sandi-1")
        # OWASP's first choice: Argon2id, at least 19 MiB and 2 iterations with one lane
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert "kata-sandi-1" not in user.password_hash
        assert user.check_password("kata-sandi-1") and not user.check_password("kata-sandi-2")


@pytest.mark.db_independent
def test_a_password_hashed_before_argon2id_still_signs_in():
    from werkzeug.security import generate_password_hash

    user = User(username="x", name="X", role="admin", password_hash=generate_password_hash("kata-sandi-1"))
    assert user.password_hash.startswith("scrypt:")
    assert user.check_password("kata-sandi-1") and not user.check_password("kata-sandi-2")
    user.password_hash = "$argon2id$rusak"
    assert not user.check_password("kata-sandi-1")  # a damaged hash refuses, never answers 500


@pytest.mark.parametrize("password", ["", "pendek1", "12345678901", "hanyahurufsaja"])
def test_password_policy_refuses_weak_passwords(password):
    with pytest.raises(DomainError) as info:
        check_password_policy(password)
    assert info.value.field == "password"


@pytest.mark.db_independent
def test_password_policy_accepts_a_reasonable_password():
    check_password_policy("loket-2026")


# ------------------------------------------------------------------------------------------- sessions

def test_session_cookie_flags(client, auth):
    make_user("admin")
    response = auth.login("admin")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP on an event laptop


def test_secure_cookies_behind_https(monkeypatch, tmp_path):
    monkeypatch.setenv("BOTRAM_SECURE_COOKIES", "1")
    defaults = config_module.defaults(str(tmp_path))
    assert defaults["SESSION_COOKIE_SECURE"] is True and defaults["REMEMBER_COOKIE_SECURE"] is True


def _cookie(client):
    return client.get_cookie("session").value


def test_an_old_scrypt_hash_is_replaced_by_argon2id_at_the_next_sign_in(client, auth, app):
    from werkzeug.security import generate_password_hash

    app.config["BOTRAM_PASSWORD_METHOD"] = "argon2id"  # production's method (the suite's default is cheap)
    user = make_user("admin")
    user.password_hash = generate_password_hash(PASSWORD, method="scrypt")
    db.session.commit()
    wrong = client.post("/login", data={"username": "admin", "password": "salah-sandi-9"})
    assert wrong.status_code == 401
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash.startswith("scrypt:")  # a failed try changes nothing
    assert client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 303
    db.session.expire_all()
    stored = db.session.get(User, user.id).password_hash
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert count(AuditLog, AuditLog.action == "user.password_rehashed") == 1
    auth.logout()
    auth.login("admin")
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == stored  # a current hash is left as it is
    assert count(AuditLog, AuditLog.action == "user.password_rehashed") == 1


def test_seed_demo_with_a_new_password_ends_the_demo_users_sessions(client, auth, runner):
    assert runner.invoke(args=["seed-demo", "--password", "demo-sandi-1"]).exit_code == 0
    auth.login("admin", "demo-sandi-1")
    assert client.get("/admin/users").status_code == 200
    assert runner.invoke(args=["seed-demo", "--password", "demo-sandi-2"]).exit_code == 0
    db.session.expire_all()
    assert db.session.scalar(sa.select(LoginSession.end_reason)) == "password"
    response = client.get("/admin/users")  # the session signed in with the old password is over
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_logout_ends_the_session_for_good(client, auth, app):
    make_user("admin")
    auth.login("admin")
    stolen = _cookie(client)
    assert client.get("/admin/users").status_code == 200
    auth.logout()
    assert db.session.scalar(sa.select(LoginSession.end_reason)) == "logout"
    client.set_cookie("session", stolen)  # a copied cookie replayed after logout
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_an_idle_session_ends(client, auth, app):
    make_user("admin")
    auth.login("admin")
    idle = app.config["BOTRAM_IDLE_MINUTES"]
    _age(LoginSession, "last_seen_at", idle + 1)
    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "lama tidak aktif" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(sa.select(LoginSession.end_reason)) == "idle"


def test_an_active_session_is_touched_at_most_once_a_minute(client, auth):
    make_user("admin")
    auth.login("admin")
    seen = db.session.scalar(sa.select(LoginSession.last_seen_at))
    for _ in range(3):
        assert client.get("/").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(LoginSession.last_seen_at)) == seen
    _age(LoginSession, "last_seen_at", 2)
    assert client.get("/").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(LoginSession.last_seen_at)) > seen - timedelta(minutes=1)


def test_the_session_id_is_stored_hashed(client, auth):
    make_user("admin")
    auth.login("admin")
    row = db.session.scalar(sa.select(LoginSession))
    assert len(row.sid_hash) == 64
    with client.session_transaction() as session:
        assert session["sid"] != row.sid_hash


def test_an_htmx_request_after_the_session_ended_gets_hx_redirect(client, auth, htmx_headers):
    world = build_world()
    auth.login("petugas")
    db.session.execute(sa.update(LoginSession).values(ended_at=LoginSession.created_at))
    db.session.commit()
    response = client.get(f"/desk/{world.desk.id}/stream", headers=htmx_headers)
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


# ----------------------------------------------------------------------------------------------- CSRF

def test_every_session_write_needs_the_csrf_token(app, client, auth):
    """Every POST route, as a signed-in admin without the token: 400, and nothing audited (no write)."""
    world = build_world()
    auth.login("admin")
    audited = count(AuditLog)
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in ("auth.login", "auth.logout", "auth.set_language"):
            continue
        url = url_for_rule(app, rule, "POST", world.params)
        for kwargs in ({"data": {"outcome": "done"}}, {"json": {"outcome": "done", "services": [1]}}):
            response = client.post(url, no_csrf=True, **kwargs)
            assert response.status_code == 400, (rule.endpoint, response.status_code)
        htmx = client.post(url, data={}, headers={"HX-Request": "true"}, no_csrf=True)
        assert htmx.status_code == 400, rule.endpoint
        checked += 1
    assert checked > 40
    assert count(AuditLog) == audited


def test_logout_and_language_without_csrf_change_nothing(client, auth):
    make_user("admin")
    auth.login("admin")
    client.post("/logout", no_csrf=True)
    assert client.get("/admin/users").status_code == 200  # still signed in
    client.post("/lang/en", no_csrf=True)
    with client.session_transaction() as session:
        assert "lang" not in session


def test_login_without_csrf_is_refused(client):
    make_user("admin")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD}, no_csrf=True)
    assert response.status_code == 400
    assert count(LoginSession) == 0


# -------------------------------------------------------------------------------------------- headers

def test_security_headers_on_pages_api_and_errors(client, auth):
    make_user("admin")
    for url in ("/login", "/api/v1/events", "/tidak-ada", "/api/v1/tidak-ada", "/static/css/botram.css"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        policy = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
        assert policy["script-src"] == "'self'", url  # no 'unsafe-inline', no 'unsafe-eval'
        assert policy["frame-ancestors"] == "'none'"
        assert policy["object-src"] == "'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_signed_in_pages_are_not_cached(client, auth):
    make_user("admin")
    auth.login("admin")
    assert client.get("/admin/users").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/static/css/botram.css").headers.get("Cache-Control", "")


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    assert "max-age" in client.get("/login", base_url="https://localhost").headers["Strict-Transport-Security"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


@pytest.mark.db_independent
def test_no_inline_script_in_any_template():
    """CSP script-src 'self' would block them: scripts live in static/js, config in a meta tag."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for pattern in (INLINE_SCRIPT, EVENT_HANDLER, re.compile(r"hx-on|javascript:", re.I)):
            if pattern.search(text):
                offenders.append(f"{path.relative_to(TEMPLATES)}: {pattern.search(text).group(0)[:60]}")
    assert offenders == []


@pytest.mark.db_independent
def test_htmx_eval_is_off():
    base = (TEMPLATES / "base.html").read_text()
    assert '"allowEval": false' in base and '"allowScriptTags": false' in base


@pytest.mark.app_config()  # adds a route, which only an app that has not answered yet accepts
def test_error_pages_show_no_internals(app, client):
    @app.get("/_boom")
    def _boom():
        raise RuntimeError("SELECT nik FROM visit -- 3216014512900003")

    response = client.get("/_boom")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "3216014512900003" not in body and "Traceback" not in body and "RuntimeError" not in body


def test_failed_statements_do_not_carry_their_parameters(app):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["hide_parameters"] is True
    with pytest.raises(sa.exc.DBAPIError) as info:
        with db.engine.connect() as conn:
            conn.execute(sa.text("SELECT * FROM tidak_ada WHERE nik = :nik"), {"nik": "3216014512900003"})
    assert "3216014512900003" not in str(info.value)


def test_ids_beyond_the_database_integer_are_not_found(client, auth):
    make_user("admin")
    auth.login("admin")
    for url in ("/events/99999999999999999999", "/api/v1/events/2147483648/board", "/board/9223372036854775808"):
        response = client.get(url)
        assert response.status_code == 404, url
