"""Browser tests: the app served by `botram serve` in its own process on localhost, driven by
Debian's Chromium through Playwright (`playwright install` cannot download browsers here).

Every test gets a fresh database copied from a template that holds the reference data and the demo
(password DEMO_PASSWORD), and a fresh server on a free port.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("BOTRAM_CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "demo-sandi-2026"
BOTRAM = str(Path(sys.executable).with_name("botram"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items) -> None:
    """Mark every browser test `e2e` (a `pytestmark` in a conftest applies to nothing), so `-m "not e2e"`
    runs the suite without Chromium. The hook sees the whole session's items, hence the path check."""
    for item in items:
        if _HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
        subprocess.run([BOTRAM, "init"], env=env, check=True, capture_output=True)
        subprocess.run([BOTRAM, "seed-demo", "--password", DEMO_PASSWORD], env=env, check=True, capture_output=True)

    def env(self, url: str) -> dict:
        env = dict(os.environ)
        env["BOTRAM_DATABASE_URL"] = url
        env["BOTRAM_SECRET_KEY"] = "e2e-secret"
        env["BOTRAM_INSTANCE_PATH"] = str(self.workdir / "instance")
        env.pop("BOTRAM_TEST_DATABASE_URL", None)
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
    def __init__(self, databases: Databases):
        self.databases = databases
        self.database_url = databases.fresh()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, processes: int = 1) -> None:
        env = self.databases.env(self.database_url)
        self.log = open(self.databases.workdir / f"server-{self.port}.log", "ab")
        self.process = subprocess.Popen([BOTRAM, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                                         "--processes", str(processes)],
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60  # a loaded CI machine can take a while to import and bind
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/login", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("botram serve did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def cli(self, *args: str) -> str:
        """Run a `botram` command against this server's database."""
        result = subprocess.run([BOTRAM, *args], env=self.databases.env(self.database_url), check=True,
                                capture_output=True, text=True)
        return result.stdout


@pytest.fixture
def live_server(e2e_databases):
    server = LiveServer(e2e_databases)
    server.start()
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


@pytest.fixture
def new_page(browser):
    """new_page(width, height) -> a page in a fresh context; all closed after the test."""
    contexts = []

    def make(width: int = 1366, height: int = 768, **kwargs):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="id-ID",
                                      timezone_id="Asia/Jakarta", **kwargs)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def login(page, base_url: str, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(base_url + "/")


def screenshot(page, name: str) -> Path:
    """Keep a screenshot under artifacts/screenshots/ for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
