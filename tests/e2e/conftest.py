"""Browser tests: the app served by `botram serve` in its own process on localhost, driven by
Debian's Chromium through Playwright (`playwright install` cannot download browsers here).

Every test gets a fresh database copied from a template that holds the reference data and the demo
(password DEMO_PASSWORD), and a fresh server on a port the system picks (`botram serve --port 0`, which
prints the port it bound), forked from a process that has BOTRAM imported already (forked.py; the tests of
the command itself start the real executable). Every page fails its test on a console error or an uncaught
script error, and every screenshot checks the page for a horizontal scrollbar and clipped controls.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from . import forked

CHROMIUM = os.environ.get("BOTRAM_CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "demo-sandi-2026"
BOTRAM = str(Path(sys.executable).with_name("botram"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every browser test `e2e` (a `pytestmark` in a conftest applies to nothing), so `-m "not e2e"`
    runs the suite without Chromium. The hook sees the whole session's items, hence the path check."""
    drawing_skipped = os.environ.get("BOTRAM_TEST_DATABASE_URL", "").startswith("postgresql") \
        and not os.environ.get("BOTRAM_E2E_DRAWING")
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            # Layout, accessibility, voice and chart checks read what Chromium draws from the same pages on
            # either database; .ci/run's two passes would render them twice, and CI has a time budget. The
            # database's part of those pages is covered on PostgreSQL by the flows that produce them.
            # BOTRAM_E2E_DRAWING=1 runs them on PostgreSQL too.
            if drawing_skipped and item.get_closest_marker("drawing"):
                item.add_marker(pytest.mark.skip(reason="what the browser draws: checked in the SQLite pass"))


def pytest_sessionfinish(session) -> None:
    forked.stop()


def _pg_admin(url: str, statement: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(statement)


class Databases:
    """Hands out a fresh database per test, copied from a seeded template."""

    def __init__(self, base_url: str | None, workdir: Path):
        self.base_url = base_url
        self.workdir = workdir
        self.counter = 0
        if base_url:
            from sqlalchemy.engine import make_url

            self.template = make_url(base_url).database + "_e2e_tpl"
            _pg_admin(base_url, f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
            _pg_admin(base_url, f'CREATE DATABASE "{self.template}"')
            self.template_url = make_url(base_url).set(database=self.template).render_as_string(hide_password=False)
        else:
            self.template_url = f"sqlite:///{workdir / 'template.sqlite'}"
        env = self.env(self.template_url)
        # forks of the preloaded process (forked.py): the real executable's imports cost seconds a worker
        run_forked("botram", ["init"], env)
        run_forked("botram", ["seed-demo", "--password", DEMO_PASSWORD], env)
        if not base_url:
            # A fork ends without closing its connections, so the commands' writes may still sit in the WAL
            # file beside the template: fold them into the file that fresh() copies.
            import sqlite3

            conn = sqlite3.connect(workdir / "template.sqlite")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()

    def env(self, url: str) -> dict:
        env = dict(os.environ)
        env["BOTRAM_DATABASE_URL"] = url
        env["BOTRAM_SECRET_KEY"] = "e2e-secret"
        env["BOTRAM_INSTANCE_PATH"] = str(self.workdir / "instance")
        env.pop("BOTRAM_TEST_DATABASE_URL", None)
        # Desk tests press M right after N; the wait before a no-show has its own test (a server's `settings`).
        env["BOTRAM_NO_SHOW_MIN_SECONDS"] = "0"
        return env

    def fresh(self) -> str:
        self.counter += 1
        if self.base_url:
            from sqlalchemy.engine import make_url

            name = f"{self.template[:-4]}_{self.counter}"
            _pg_admin(self.base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _pg_admin(self.base_url, f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
            return make_url(self.base_url).set(database=name).render_as_string(hide_password=False)
        target = self.workdir / f"test-{self.counter}.sqlite"
        shutil.copy(self.workdir / "template.sqlite", target)
        return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def e2e_databases(tmp_path_factory, database_url) -> Databases:
    base = database_url if database_url.startswith("postgresql") else None  # per xdist worker
    return Databases(base, tmp_path_factory.mktemp("e2e"))


class LiveServer:
    def __init__(self, databases: Databases, executable: bool = False):
        self.databases = databases
        self.executable = executable  # the real `botram` program, not a fork of the preloaded one (forked.py)
        self.database_url = databases.fresh()
        self.name = f"server-{databases.counter}"
        self.port: int | None = None
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.settings: dict[str, str] = {}  # BOTRAM_* variables for this server only, set before start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, processes: int = 1, port: int | None = None) -> None:
        """Start `botram serve`. The first start lets the system pick a free port; a restart takes the same
        port again (a board open in a browser reconnects to it) unless `port` says otherwise."""
        port = port if port is not None else (self.port or 0)
        self.starts += 1
        log_path = self.databases.workdir / f"{self.name}-{self.starts}.log"
        env = self.databases.env(self.database_url)
        env.update(self.settings)
        env["PYTHONUNBUFFERED"] = "1"
        argv = ["serve", "--host", "127.0.0.1", "--port", str(port), "--processes", str(processes)]
        if self.executable:
            with open(log_path, "wb") as log:
                self.process = subprocess.Popen([BOTRAM, *argv], env=env, stdout=log, stderr=subprocess.STDOUT)
        else:
            log_path.write_bytes(b"")  # read below before the fork may have opened it
            self.process = forked.Forked("botram", argv, env, str(log_path))
        deadline = time.monotonic() + 60  # a loaded CI machine can take a while to import and bind
        bound = None
        while bound is None:
            self._check_alive(log_path)
            found = re.search(rb"BOTRAM serving on http://127\.0\.0\.1:(\d+) ", log_path.read_bytes())
            if found:
                bound = int(found.group(1))
            elif time.monotonic() > deadline:
                raise RuntimeError(f"botram serve did not say which port it bound:\n{log_path.read_text()}")
            else:
                time.sleep(0.05)
        assert port in (0, bound), f"asked for port {port}, bound {bound}"
        self.port = bound
        while True:
            self._check_alive(log_path)
            try:
                urllib.request.urlopen(self.url + "/login", timeout=1)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"botram serve did not answer:\n{log_path.read_text()}")
                time.sleep(0.1)

    def _check_alive(self, log_path: Path) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"botram serve exited with {self.process.returncode}:\n{log_path.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            # gunicorn (every POSIX start) lets its workers finish and join their threads: seconds on a
            # loaded machine, where waitress used to drop everything at once
            self.process.wait(30)
        self.process = None

    def cli(self, *args: str) -> str:
        """Run a `botram` command against this server's database; what it printed."""
        return run_forked("botram", list(args), self.databases.env(self.database_url))


# These check the `botram serve` program itself (signals, worker processes, open handles): the real executable.
EXECUTABLE_SERVE = ("test_serve.py",)


def run_forked(kind: str, argv: list[str], env: dict) -> str:
    """A `botram` command (kind "botram") or a Python script (kind "python", argv[0] the script) run to the
    end in a fork of the preloaded process; its stdout. A non-zero exit fails like check=True."""
    output = Path(env["BOTRAM_INSTANCE_PATH"]) / f"forked-{os.getpid()}-{time.monotonic_ns()}.log"
    output.parent.mkdir(parents=True, exist_ok=True)
    code, printed, errors = forked.run(kind, argv, env, str(output))
    if code != 0:
        raise subprocess.CalledProcessError(code, [kind, *argv[:1]], output=printed, stderr=errors)
    return printed


@pytest.fixture
def live_server(request, e2e_databases):
    """A served app on a fresh database. `@pytest.mark.serve(processes=2, BOTRAM_X="...")` starts it that way
    at once (a stop and a second start cost seconds of a gunicorn shutdown).

    Ask for it before `new_page`/`page` (`def test_x(live_server, new_page)`): pytest ends fixtures in reverse
    order, so the browser's pages close first; the other way round the server stops under pages still loading
    (a board's voice clips), which their console reports as errors."""
    server = LiveServer(e2e_databases, executable=request.node.path.name in EXECUTABLE_SERVE)
    options = dict(request.node.get_closest_marker("serve").kwargs) if request.node.get_closest_marker("serve") else {}
    processes = options.pop("processes", 1)
    server.settings.update({name: str(value) for name, value in options.items()})
    server.start(processes=processes)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


def allow_console_errors(page, pattern: str) -> None:
    """Let console errors matching `pattern` (a regular expression) pass on this page: for tests that cut
    the server off on purpose, where the browser rightly reports refused connections."""
    page._botram_allowed.append(re.compile(pattern))


_FAILED_LOAD = re.compile(r"^Failed to load resource: the server responded with a status of (\d+)")
# A server-sent-event stream is open for as long as the board is: when the test leaves the page or stops the
# server, Chromium reports the stream's unfinished last chunk. That is the stream ending, not a broken page.
# A stream cut by a worker that stops (teardown, a replaced worker) logs one of these; the stream reconnects by
# design, and a stream the server refuses for real answers with an error status, which is not let through.
_STREAM_CUT = re.compile(r"^Failed to load resource: net::(ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_CONNECTION_REFUSED)")
# htmx logs that same cut as the EventSource's error event, "[object Event]" (its SSE extension's htmx:sseError);
# a stream that fails for real also answers with an error status, which is not let through.
_SSE_CUT = re.compile(r"^\[object Event\]$")


def _watch_console(page) -> None:
    page._botram_console = []  # (text, url of the message's source)
    page._botram_answers = {}  # url -> resource type, of every answer with an error status
    page._botram_allowed = []

    def console(message) -> None:
        if message.type == "error":
            page._botram_console.append((message.text, (message.location or {}).get("url", "")))

    def response(answer) -> None:
        if answer.status >= 400:
            page._botram_answers[answer.url] = answer.request.resource_type

    page.on("console", console)
    page.on("response", response)
    page.on("pageerror", lambda error: page._botram_console.append((f"uncaught error: {error}", "")))


def console_errors(page) -> list[str]:
    """The console errors and uncaught script errors this page has had, minus the allowed ones.

    Chromium also logs every answer with an error status. A 4xx answer to a page load or an htmx/fetch
    request passes only where the test declared it (tests/e2e/refusals.py `expect_refusal`: a 422 form with
    its messages, a 404 page it opens on purpose), so an htmx request the app refuses by mistake fails the
    test; a failed script, stylesheet, image or icon is a broken page and always counts."""
    from .refusals import declared

    errors = []
    for text, url in page._botram_console:
        failed = _FAILED_LOAD.match(text)
        if failed and 400 <= int(failed.group(1)) < 500 \
                and page._botram_answers.get(url) in ("document", "xhr", "fetch") \
                and declared(page, int(failed.group(1)), url):
            continue
        if _STREAM_CUT.match(text) and "/stream" in url or _SSE_CUT.match(text) and "/vendor/htmx-" in url:
            continue
        line = f"{text} ({url})" if url else text
        if not any(p.search(line) for p in page._botram_allowed):
            errors.append(line)
    return errors


@pytest.fixture
def new_page(browser):
    """new_page(width, height) -> a page in a fresh context; all closed after the test, which fails if any
    page had a console error or an uncaught script error (pages opened from a page, e.g. a print sheet in a
    new tab, are watched too)."""
    contexts = []
    pages = []

    def watch(page) -> None:
        _watch_console(page)
        pages.append(page)

    def make(width: int = 1366, height: int = 768, **kwargs):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="id-ID",
                                      timezone_id="Asia/Jakarta", **kwargs)
        context.set_default_timeout(10_000)
        context.on("page", lambda page: None if hasattr(page, "_botram_console") else watch(page))
        contexts.append(context)
        page = context.new_page()
        if not hasattr(page, "_botram_console"):
            watch(page)
        return page

    yield make
    for context in contexts:
        context.close()
    errors = [f"page {n}: {e}" for n, page in enumerate(pages, 1) for e in console_errors(page)]
    if errors:
        pytest.fail("console errors in the browser:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def page(new_page):
    return new_page()


def login(page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(base_url + "/")


LAYOUT = """() => {
  const wide = document.documentElement.scrollWidth > window.innerWidth + 1;
  const clipped = [...document.querySelectorAll('button, .button, nav a, th, label')]
    .filter(el => el.offsetParent !== null && el.clientWidth > 1 && el.scrollWidth > el.clientWidth + 2
                  && getComputedStyle(el).overflow !== 'visible')
    .map(el => el.textContent.trim()).slice(0, 5);
  return {wide, clipped};
}"""


def layout_problems(page) -> dict:
    """A horizontal scrollbar, or buttons, links, headers and labels whose text is cut off."""
    return page.evaluate(LAYOUT)


def screenshot(page, name: str, animations: str = "allow") -> Path:
    """Keep a screenshot under artifacts/screenshots/ for people to look at, and fail if what it shows has a
    horizontal scrollbar or clipped controls. `animations="disabled"` shows finite animations at their end
    (Playwright fast-forwards them) instead of waiting for them to finish."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, animations=animations)
    layout = layout_problems(page)
    assert layout == {"wide": False, "clipped": []}, (name, layout)
    return path


# -- helpers for tests that speak to the served API directly

def api(server, method, path, token, body=None):
    """One API request with a device token; (status, JSON body or None)."""
    request = urllib.request.Request(server.url + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None)


def demo_ids(server):
    """The open demo event's id and its desks by number, as the public API lists them."""
    with urllib.request.urlopen(server.url + "/api/v1/events?status=open") as response:
        event = json.loads(response.read())[0]
    with urllib.request.urlopen(server.url + f"/api/v1/events/{event['id']}/desks") as response:
        desks = json.loads(response.read())
    return event["id"], {d["number"]: d for d in desks}


# -- the desk: waiting visitors seeded as reception would, and a desk console opened

_SEED = """
import json, sys
import sqlalchemy as sa
from botram import create_app
from botram.domain import queue
from botram.extensions import db
from botram.models import Event, Service, User

app = create_app()
with app.app_context():
    event = db.session.scalar(sa.select(Event).where(Event.title == "BOTRAM Pasar Bersih Jababeka"))
    by = db.session.scalar(sa.select(User.id).where(User.username == "resepsionis"))
    out = []
    for services, fields in json.loads(sys.argv[1]):
        ids = [db.session.scalar(sa.select(Service.id).where(Service.code == c)) for c in services]
        visit = queue.issue_visit(event.id, ids, by_user_id=by, **fields).visit
        out.append([visit.code, visit.public_token])
    print(json.dumps(out))
"""


def seed_visits(server, visitors) -> list[list[str]]:
    """Register visitors on the demo event through the queue domain, in the server's database, as reception
    would: `visitors` is [[service codes], {priority, name, nik ...}] each; returns [[code, public token]]."""
    printed = run_forked("python", [_SEED, json.dumps(visitors)], server.databases.env(server.database_url))
    return json.loads(printed.strip().splitlines()[-1])


def open_desk(page, server, number: int, shot: str | None = None) -> None:
    """The console of desk `number`, ready for its keyboard shortcuts."""
    from playwright.sync_api import expect

    page.goto(server.url + "/desk/")
    if shot:
        screenshot(page, shot)
    if page.locator("#desk-console").count() == 0:  # an officer with one desk goes straight to it
        page.get_by_role("link", name=re.compile(rf"^Loket {number}\b")).click()
    expect(page.locator("#desk-console")).to_be_visible()
    expect(page.locator(".desk-title")).to_contain_text(f"Loket {number}")
    # The console is visible while the page is still parsing; shortcuts work once desk.js and htmx have run.
    page.wait_for_load_state("load")


@pytest.fixture
def field_server(e2e_databases, monkeypatch):
    """A server that holds the regency's field key (the Lapangan page and field sync tests)."""
    from .field_laptop import KEY

    monkeypatch.setenv("BOTRAM_FIELD_KEY", KEY)  # Databases.env copies the environment for the server
    server = LiveServer(e2e_databases)
    server.start()
    yield server
    server.stop()
