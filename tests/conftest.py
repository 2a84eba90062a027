"""Fixtures: a real database (SQLite file, or PostgreSQL from BOTRAM_TEST_DATABASE_URL), the app,
a client that carries the CSRF token like a browser, and an `auth` helper.

The schema is built once per session through the migrations (so they are tested too); every test
then starts from empty tables plus the reference catalogue.
"""
from __future__ import annotations

import copy
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

from . import hypothesis_profiles

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


def pytest_configure(config) -> None:
    config._botram_hypothesis_seed = hypothesis_profiles.activate(config)


def pytest_report_header(config) -> list[str]:
    return [f"database: {_database_label()}", hypothesis_profiles.describe(config._botram_hypothesis_seed)]


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
# The tests of a minute or more (BOTRAM_DURATIONS_LOG of a whole pass), started first so that none of them is
# the last thing a worker does while the others are idle.
LONG_FIRST = ("test_staff_at_once.py", "test_form_fuzz.py::test_every_field", "test_api_schemathesis.py",
              "test_api_fuzz.py::test_every_field", "test_field_network.py", "test_accessibility.py",
              "test_queue_booked_order.py::test_bookings_and_walk_ins", "test_notify.py::test_a_gateway_down",
              "test_notify.py::test_a_worker_killed", "test_field_sync.py", "test_voice.py")


def _postgresql_pass() -> bool:
    return os.environ.get("BOTRAM_TEST_DATABASE_URL", "").startswith("postgresql")


# `@pytest.mark.db_independent` (or `pytestmark = ...` for a module): the test's outcome cannot depend on which
# database runs under it (a pure function, a template, the translations, the OpenAPI document's shape). The
# PostgreSQL pass leaves such tests out (the SQLite pass runs them); every unmarked test runs on both, so a new
# test is checked on PostgreSQL until someone decides otherwise. BOTRAM_PG_EVERYTHING=1 runs them all there.
DB_INDEPENDENT = "db_independent"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items) -> None:
    if _postgresql_pass() and not os.environ.get("BOTRAM_PG_EVERYTHING"):
        left_out = [item for item in items if item.get_closest_marker(DB_INDEPENDENT)]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [item for item in items if not item.get_closest_marker(DB_INDEPENDENT)]

    def rank(item) -> int:
        return next((i for i, part in enumerate(LONG_FIRST) if part in item.nodeid), len(LONG_FIRST))
    items.sort(key=rank)  # stable: the rest keep their order
    long_first = [item for item in items if rank(item) < len(LONG_FIRST)]
    items[len(long_first):] = _browser_spread(items[len(long_first):])


def _browser_spread(items: list) -> list:
    """The browser test modules spread evenly among the others, each module's items kept together (a module's
    fixtures are set up once per worker, not again after every foreign item).

    xdist hands each worker a run of consecutive items at first (a quarter of the pass split between the
    workers), and the browser tests are collected first (tests/e2e sorts before tests/test_*): one worker got
    every browser test in its first batch and ran them alone for ten minutes while the other, done with the
    rest, waited (BOTRAM_DURATIONS_LOG, 2026-12-08: 667 s of browser tests on gw0, gw1 idle for 600 s)."""
    modules: dict[str, list] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::")[0], []).append(item)
    browser = [m for name, m in modules.items() if name.startswith("tests/e2e/")]
    other = [m for name, m in modules.items() if not name.startswith("tests/e2e/")]
    totals = (sum(map(len, browser)) or 1, sum(map(len, other)) or 1)
    done, spread = [0, 0], []
    while browser or other:
        # the side further behind its share of the pass goes next
        side = 0 if other == [] or (browser and done[0] / totals[0] <= done[1] / totals[1]) else 1
        module = (browser if side == 0 else other).pop(0)
        done[side] += len(module)
        spread.extend(module)
    return spread


def pytest_itemcollected(item) -> None:
    """Hypothesis's plugin marks only `@given` functions; a state machine or a strategy run inside a test is
    property-based too, for `make test-thorough` (-m hypothesis)."""
    module = getattr(item, "module", None)
    if module is not None and any(str(getattr(value, "__module__", "")).startswith(("hypothesis", "tests.hypothesis"))
                                  for value in vars(module).values()):
        item.add_marker(pytest.mark.hypothesis)


def pytest_runtest_logreport(report) -> None:
    """`BOTRAM_DURATIONS_LOG=file`: every phase's seconds appended as it ends (a line: seconds, phase, test id,
    start (epoch seconds), xdist worker),
    so a run stopped half way still says where its time went (`--durations` prints only at the end)."""
    path = os.environ.get("BOTRAM_DURATIONS_LOG")
    if path:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{report.duration:.3f}\t{report.when}\t{report.nodeid}\t{report.start:.3f}\t{worker}\n")


# Skips that are part of a test's design, not a missing service. With BOTRAM_CI=1 (.ci/run) any other skip
# (a missing PostgreSQL, pg_dump, Chromium, a library) fails the run: CI must not go green on an `s`.
DESIGNED_SKIPS = ("what the browser draws: checked in the SQLite pass",
                  "only a server database can lose its connection",
                  # tests/test_write_transaction.py: each database's own way of serialising writers
                  "SQLite's writer lock (PostgreSQL locks rows",
                  "a deadlock between two connections needs PostgreSQL's row locks",
                  "too close to midnight WIB",
                  "gunicorn runs on POSIX only",
                  "LISTEN/NOTIFY is PostgreSQL's: checked in the PostgreSQL pass")


def pytest_sessionfinish(session, exitstatus) -> None:
    if not os.environ.get("BOTRAM_CI") or hasattr(session.config, "workerinput"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    missing = []
    for report in (reporter.stats.get("skipped", []) if reporter else []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if not any(designed in reason for designed in DESIGNED_SKIPS):
            missing.append(f"{report.nodeid}: {reason}")
    if missing:
        reporter.write_line("BOTRAM_CI: skipped for want of a service, which CI counts as a failure:", red=True)
        for line in missing:
            reporter.write_line("  " + line, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    terminalreporter.write_line(f"database: {_database_label()}")
    if _postgresql_pass() and not os.environ.get("BOTRAM_PG_EVERYTHING"):
        terminalreporter.write_line("db_independent tests left out here (run in the SQLite pass; "
                                    "BOTRAM_PG_EVERYTHING=1 runs them on PostgreSQL too)")
    terminalreporter.write_line(hypothesis_profiles.describe(config._botram_hypothesis_seed))


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


class CsrfClient(FlaskClient):
    """A test client that sends the CSRF token the way our pages and htmx do (X-CSRFToken)."""

    _token: str | None = None

    @staticmethod
    def _fresh_g() -> None:
        """The app fixture holds one app context for the whole test, and Flask reuses it for every
        request, so `g` would carry the signed-in user, the token flag, the CSRF token and the locale from one
        request to the next. Clear them before each request, as a real server's fresh context would."""
        if has_app_context():
            g.pop("_login_user", None)
            g.pop("token_auth", None)
            g.pop("token_id", None)  # the kiosk's printer is found by it
            g.pop("csrf_token", None)  # Flask-WTF's cache: a second client's session holds another token
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


TEST_CONFIG = {"TESTING": True, "SECRET_KEY": "test-secret", "SERVER_NAME": None,
               "BOTRAM_PASSWORD_METHOD": "pbkdf2:sha256:1000", "BOTRAM_FIELD_KEY": "kunci-lapangan-uji",
               # Most tests mark a no-show straight after the call; the wait before it is the subject of its
               # own tests (test_queue.py, test_settings.py, e2e), which set it themselves.
               "BOTRAM_NO_SHOW_MIN_SECONDS": 0}


def _make_app(database_url: str, instance_path, **overrides):
    return create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url,
                       "INSTANCE_PATH": str(instance_path), **overrides})


@pytest.fixture(scope="session")
def _worker_app(_schema, tmp_path_factory):
    """One app per worker for every test that does not ask for its own: `create_app` compiles every URL
    rule, a sixth of a CPU-second, which once per test was several CPU-minutes a pass."""
    app = _make_app(_schema, tmp_path_factory.mktemp("instance"))
    app.test_client_class = CsrfClient
    yield app
    with app.app_context():
        db.engine.dispose()


class _AppState:
    """What a test may change on the shared app (its config, extensions, instance folder, client class), put
    back after it; a test that changes the app itself (routes, blueprints, hooks) is told to ask for its own."""

    def __init__(self, app):
        self.app = app
        self.config = copy.deepcopy(dict(app.config))
        self.extensions = dict(app.extensions)
        self.client_class = app.test_client_class
        self.shape = self._shape()

    def _shape(self):
        app = self.app
        return (len(app.url_map._rules), tuple(app.blueprints), app.wsgi_app,
                {k: len(v) for k, v in app.before_request_funcs.items()},
                {k: len(v) for k, v in app.after_request_funcs.items()},
                {k: len(v) for k, v in app.teardown_request_funcs.items()})

    def restore(self) -> None:
        changed = self._shape() != self.shape
        self.app.config.clear()
        self.app.config.update(self.config)
        self.app.extensions.clear()
        self.app.extensions.update(self.extensions)
        self.app.test_client_class = self.client_class
        assert not changed, ("this test changed the shared app's routes or hooks: give it its own app with "
                             "@pytest.mark.app_config()")


@pytest.fixture
def app(request, _schema, tmp_path):
    """The app, inside an app context, on a database holding only the reference catalogue.

    One app per worker is shared; its config and extensions are put back after each test and each test gets
    its own instance folder. `@pytest.mark.app_config(KEY=value, ...)` builds a fresh app with those
    settings for a test that needs one read at start-up (or changes the app itself: `app_config()`)."""
    marker = request.node.get_closest_marker("app_config")
    if marker is not None:
        app = _make_app(_schema, tmp_path, **marker.kwargs)
        state = None
    else:
        app = request.getfixturevalue("_worker_app")
        state = _AppState(app)
        app.instance_path = str(tmp_path)
        app.config["INSTANCE_PATH"] = str(tmp_path)
    try:
        with app.app_context():
            reset_database()
            yield app
            stop_watchers()
            left = [t.name for t in threading.enumerate() if t.name.startswith("board-watch-")]
            assert not left, f"board watcher threads outlived the test: {left}"
            db.session.remove()
            db.engine.dispose()
    finally:
        if state is not None:
            app.instance_path = state.config["INSTANCE_PATH"]
            state.restore()


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
        response = self._client.post("/logout")
        self._client._token = None  # signing out clears the session and its form token with it
        return response


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
    """Per table, its row count and a hash of every row (tests/db_snapshot.py): inserts, deletes and updates
    all change it."""
    from .db_snapshot import fingerprint as every_row

    return every_row()


@pytest.fixture
def gateway(app):
    """A local message gateway (tests/notify_gateway.py) as the app's only notify URL, down after the test."""
    from botram.domain import outbox
    from botram.domain.notify import sender

    from .notify_gateway import Gateway

    gw = Gateway()
    app.config["BOTRAM_NOTIFY_URLS"] = gw.url
    yield gw
    gw.down()
    outbox.unregister_sender(sender.KIND_PREFIX)
