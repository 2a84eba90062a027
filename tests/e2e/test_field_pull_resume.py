"""`botram field pull` interrupted (Ctrl-C, the laptop closed) after the line dropped mid-download: the partial
file is kept, and the NEXT run of the same command continues from its last byte with a Range request instead
of starting over (docs/field-sync.md). The server is the run's database kind (SQLite, or PostgreSQL in CI's
PostgreSQL pass)."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.request

import pytest

from .conftest import BOTRAM, LiveServer
from .field_laptop import CuttingProxy, FieldDatabases, Laptop


@pytest.fixture
def server(tmp_path_factory, database_url):
    """A regency server of this test's own (its instance folder too: the checkout bundles are kept there)."""
    from sqlalchemy.engine import make_url

    base = None
    if database_url.startswith("postgresql"):
        url = make_url(database_url)
        base = url.set(database=f"{url.database}_pull").render_as_string(hide_password=False)
    live = LiveServer(FieldDatabases(base, tmp_path_factory.mktemp("pull-server")))
    live.start()
    yield live
    live.stop()


def get_json(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _checkout_size(server, event_id: int, token: str) -> int:
    request = urllib.request.Request(f"{server.url}/api/v1/events/{event_id}/checkout", method="POST",
                                     data=json.dumps({"device": "laptop-cikarang-1"}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["size"]


@pytest.mark.timeout(300)
def test_a_pull_interrupted_after_a_cut_resumes_in_the_next_run_from_the_kept_file(server, tmp_path):
    token = server.cli("create-token", "koordinator", "--name", "laptop lapangan").strip().splitlines()[-1]
    event_id = get_json(f"{server.url}/api/v1/events?status=open", token)[0]["id"]
    size = _checkout_size(server, event_id, token)
    laptop = Laptop(tmp_path / "laptop")
    proxy = CuttingProxy(server.port)
    pull = ["field", "pull", "--server", proxy.url, "--token", token, "--event", str(event_id),
            "--device", "laptop-cikarang-1"]

    # the first run: the line drops halfway; while it waits to retry, the officer closes the laptop (Ctrl-C)
    proxy.arm("down", 600 + size // 2)
    first = subprocess.Popen([BOTRAM, *pull], env=laptop.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    deadline = time.monotonic() + 120
    while proxy.cuts == 0:
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the download was never cut"
        time.sleep(0.01)
    first.send_signal(signal.SIGINT)
    _out, err = first.communicate(timeout=60)
    assert first.returncode != 0, "the first run was to be interrupted before it finished"
    parts = list((tmp_path / "laptop" / "instance" / "field").glob("pull-*.part"))
    assert len(parts) == 1, err
    kept = parts[0].stat().st_size
    assert 0 < kept < size, (kept, size)

    # the next run, on a line that holds: it asks for the rest only, and the event is imported
    proxy.arm("down", 10**12)  # never reached: no cut, but the request heads are recorded afresh
    second = laptop.botram(*pull)
    ranges = [int(n) for n in re.findall(rb"Range: bytes=(\d+)-", bytes(proxy.sent_up), re.I)]
    assert ranges and ranges[0] == kept, (ranges, kept, second.stderr)
    assert "Imported" in second.stdout or "Ready" in second.stdout, second.stdout
    assert not parts[0].exists(), "the partial file is removed once the bundle is imported"
    where = get_json(f"{server.url}/api/v1/events/{event_id}/checkout", token)
    assert where["checked_out"] and where["device"] == "laptop-cikarang-1"
    proxy.close()
