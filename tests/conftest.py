"""Fixtures: a real database (SQLite file, or PostgreSQL from BOTRAM_TEST_DATABASE_URL), the app,
a client that carries the CSRF token like a browser, and an `auth` helper.

The schema is built once per session through the migrations (so they are tested too); every test
then starts from empty tables plus the reference catalogue.
"""
from __future__ import annotations

import os
import re
import threading

import pytest
import sqlalchemy as sa
import flask_babel
from flask import g, has_app_context
from flask.testing import FlaskClient

from botram import create_app
from botram.board_watch import stop_watchers
from botram.domain.reference import seed_reference
from botram.extensions import db

PASSWORD = "rahasia-123"


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("BOTRAM_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'botram-test.sqlite'}"


def _database_label() -> str:
    """Which database this run uses, without the password: said in the header and the summary line, because
    a run without BOTRAM_TEST_DATABASE_URL never touches PostgreSQL."""
    url = os.environ.get("BOTRAM_TEST_DATABASE_URL")
    if not url:
        return "SQLite (a temporary file per worker; BOTRAM_TEST_DATABASE_URL=postgresql+psycopg://... for PostgreSQL)"
    from sqlalchemy.engine import make_url

    return f"{make_url(url).get_backend_name()} ({make_url(url).render_as_string(hide_password=True)})"


def pytest_report_header(config) -> str:
    return f"database: {_database_label()}"


def sse_text(chunk) -> str:
    """One chunk of a streamed answer as text."""
    return chunk.decode() if isinstance(chunk, bytes) else chunk


def sse_event(chunk) -> tuple[str, int, str]:
    """(name, id, data) of one server-sent event; the data lines joined again as the browser joins them."""
    fields = {"data": []}
    for line in sse_text(chunk).rstrip("\n").split("\n"):
        name, _, value = line.partition(": ")
        fields["data"].append(value) if name == "data" else fields.setdefault(name, value)
    return fields["event"], int(fields["id"]), "\n".join(fields["data"])


# The longest tests (a minute of the whole staff writing, every form fuzzed, a field laptop's day over a
# cut line, axe on every page) go first: xdist hands tests out in collection order, and started last they
# would run on alone while the other workers wait at the end of the run.
LONG_FIRST = ("test_staff_at_once.py", "test_form_fuzz.py::test_every_field", "test_field_network.py",
              "test_accessibility.py", "test_field_sync.py", "test_voice.py")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items) -> None:
    def rank(item) -> int:
        return next((i for i, part in enumerate(LONG_FIRST) if part in item.nodeid), len(LONG_FIRST))
    items.sort(key=rank)  # stable: the rest keep their order


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    terminalreporter.write_line(f"database: {_database_label()}")


def _per_worker(url: str, worker: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (created on first use)."""
    if worker in ("", "master") or not url.startswith("postgresql"):
        return url
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id) -> str:
    return _per_worker(_database_url(tmp_path_factory), worker_id)


@pytest.fixture(scope="session")
def worker_id(request) -> str:
    """xdist's worker id ('gw0', ...) or 'master' without xdist (defined here so both cases work)."""
    workerinput = getattr(request.config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "master"


@pytest.fixture(scope="session")
def _schema(database_url, tmp_path_factory):
    """Drop whatever is there and migrate to head once per session."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance"))})
    with app.app_context():
        from flask_migrate import upgrade

        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        db.drop_all()
        with db.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
        db.engine.dispose()
    return database_url


REFERENCE_TABLES = ("region", "agency", "service", "requirement", "life_event_package", "package_service")
_reference_rows: dict[str, list[dict]] = {}


def _empty_all_tables(conn) -> None:
    """DELETE rather than TRUNCATE on PostgreSQL too: for tables this small DELETE is several times faster.
    Sequences restart so ids are as predictable as on a fresh database."""
    for table in reversed(db.metadata.sorted_tables):
        conn.exec_driver_sql(f'DELETE FROM "{table.name}"')
        if conn.dialect.name == "postgresql" and "id" in table.c and table.name not in REFERENCE_TABLES:
            conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), 1, false)")


def reset_database() -> None:
    """Empty every table and put the reference data back.

    The reference data is seeded through the real `seed_reference` once per session, then copied back
    row for row with one INSERT per table: re-seeding through the ORM before every test was most of
    the suite's time.
    """
    with db.engine.begin() as conn:
        _empty_all_tables(conn)
    if not _reference_rows:
        seed_reference()
        with db.engine.connect() as conn:
            for name in REFERENCE_TABLES:
                table = db.metadata.tables[name]
                _reference_rows[name] = [dict(row._mapping) for row in conn.execute(sa.select(table))]
        return
    with db.engine.begin() as conn:
        for name in REFERENCE_TABLES:
            table = db.metadata.tables[name]
            if _reference_rows[name]:
                conn.execute(table.insert(), _reference_rows[name])
            if conn.dialect.name == "postgresql" and "id" in table.c:
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM \"{name}\"), false)")


@pytest.fixture
def app(_schema, tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": _schema, "INSTANCE_PATH": str(tmp_path),
                      "SECRET_KEY": "test-secret", "SERVER_NAME": None,
                      "BOTRAM_PASSWORD_METHOD": "pbkdf2:sha256:1000", "BOTRAM_FIELD_KEY": "kunci-lapangan-uji"})
    with app.app_context():
        reset_database()
        yield app
        stop_watchers()
        left = [t.name for t in threading.enumerate() if t.name.startswith("board-watch-")]
        assert not left, f"board watcher threads outlived the test: {left}"
        db.session.remove()
        db.engine.dispose()


class CsrfClient(FlaskClient):
    """A test client that sends the CSRF token the way our pages and htmx do (X-CSRFToken)."""

    _token: str | None = None

    @staticmethod
    def _fresh_g() -> None:
        """The app fixture holds one app context for the whole test, and Flask reuses it for every
        request, so `g` would carry the signed-in user, the token flag and the locale from one request
        to the next. Clear them before each request, as a real server's fresh context would."""
        if has_app_context():
            g.pop("_login_user", None)
            g.pop("token_auth", None)
            flask_babel.refresh()

    def csrf_token(self) -> str:
        if self._token is None:
            self._fresh_g()
            page = super().open("/login", method="GET").get_data(as_text=True)
            match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
                re.search(r'"X-CSRFToken": "([^"]+)"', page)
            assert match, "no CSRF token on the login page"
            self._token = match.group(1)
        return self._token

    def open(self, *args, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        if method not in ("GET", "HEAD", "OPTIONS") and not kwargs.pop("no_csrf", False):
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        self._fresh_g()
        # A real request starts and ends with a fresh session. Here the test and its requests share one,
        # so end its transaction around each request at least: a read transaction left open holds an old
        # SQLite snapshot, and the next write through it fails with "database is locked".
        self._end_transaction()
        response = super().open(*args, **kwargs)
        self._end_transaction()
        return response

    @staticmethod
    def _end_transaction() -> None:
        if has_app_context() and db.session().in_transaction():
            db.session.commit()


@pytest.fixture
def client(app) -> CsrfClient:
    app.test_client_class = CsrfClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client: CsrfClient):
        self._client = client

    def login(self, username: str, password: str = PASSWORD):
        response = self._client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 303, f"login as {username} failed: {response.status_code}"
        return response

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def htmx_headers() -> dict:
    return {"HX-Request": "true"}


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def assert_json_error(response, status: int, code: str) -> dict:
    """A JSON error answer (docs/architecture.md, stable interfaces) with this status and `error` code and a
    non-empty `detail`; the body, for more checks."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json, response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert body["error"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


_FINGERPRINT_SQL: list[str] = []


def fingerprint() -> dict:
    """Rows per table and the highest id: any insert or delete changes it. One query, written once (building
    the SQLAlchemy union for every submission was a quarter of the run)."""
    if not _FINGERPRINT_SQL:
        _FINGERPRINT_SQL.append(" UNION ALL ".join(
            f"SELECT '{t.name}', COUNT(*), {'MAX(id)' if 'id' in t.c else '0'} FROM \"{t.name}\""
            for t in db.metadata.sorted_tables))
    rows = db.session.execute(sa.text(_FINGERPRINT_SQL[0])).all()
    db.session.rollback()
    return {t: (n, top) for t, n, top in rows}
