"""Field sync over a real network (docs/field-sync.md): a regency server (`botram serve`, on PostgreSQL in CI's
PostgreSQL pass, else on a SQLite file of its own) and a field laptop (its own SQLite database), each through
the real `botram` command.

The laptop pulls the demo event, serves visitors offline, pushes at midday and again in the evening: each
push brings what is new and nothing twice. Between them sits a proxy that cuts the connection after a number
of bytes, once in the middle of the download and once in the middle of the upload: the laptop must resume
from where it was cut (a `Range` request, a chunk that starts after zero), not start over.
"""
from __future__ import annotations

import json
import re
import urllib.request

import pytest

from .conftest import LiveServer
from .field_laptop import CuttingProxy, FieldDatabases, Laptop

CHUNK = 2048  # small chunks so a small bundle still travels in several


def _postgres_base(database_url: str) -> str | None:
    """The server's database: this run's PostgreSQL (a database of its own beside it) in CI's PostgreSQL pass,
    else None: a SQLite file of its own (Databases), so the test runs everywhere and never skips."""
    from sqlalchemy.engine import make_url

    if not database_url.startswith("postgresql"):
        return None
    url = make_url(database_url)
    return url.set(database=f"{url.database}_field").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def server_databases(tmp_path_factory, database_url):
    return FieldDatabases(_postgres_base(database_url), tmp_path_factory.mktemp("field-server"))


@pytest.fixture
def server(server_databases):
    live = LiveServer(server_databases)
    live.start()
    yield live
    live.stop()


def get_json(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def visits_on_server(server, event_id: int, token: str) -> int:
    return get_json(f"{server.url}/api/v1/events/{event_id}/stats", token)["visits"]


@pytest.mark.timeout(420)  # two installs, a dozen `botram` processes, and the pauses of the retries
def test_pull_serve_push_twice_through_a_line_that_drops(server, tmp_path):
    token = server.cli("create-token", "koordinator", "--name", "laptop lapangan").strip().splitlines()[-1]
    with urllib.request.urlopen(server.url + "/api/v1/events?status=open") as response:
        event_id = json.loads(response.read())[0]["id"]
    before = visits_on_server(server, event_id, token)
    proxy = CuttingProxy(server.port)
    laptop = Laptop(tmp_path / "laptop")

    # pull, cut in the middle of the download (after the answer's head and some of the bundle)
    bundle_size = _checkout_size(server, event_id, token)
    proxy.arm("down", 600 + bundle_size // 2)
    pulled = laptop.botram("field", "pull", "--server", proxy.url, "--token", token, "--event", str(event_id),
                           "--device", "laptop-cikarang-1")
    assert proxy.cuts == 1, pulled.stderr
    assert re.search(rb"Range: bytes=\d+-", bytes(proxy.sent_up), re.I), (bundle_size, pulled.stderr, bytes(proxy.sent_up)[-600:])
    assert "connection problem" in pulled.stderr or "retry" in pulled.stderr
    local_event = int(re.search(r"event (\d+) \(", pulled.stdout).group(1))
    where = get_json(f"{server.url}/api/v1/events/{event_id}/checkout", token)
    assert where["checked_out"] and where["device"] == "laptop-cikarang-1"

    # the day on the laptop, offline; midday push, cut in the middle of the upload
    first = laptop.serve_visitors(local_event, 3)
    proxy.arm("up", CHUNK + 1000)  # the announcement and the first chunk pass, the second is cut
    pushed = laptop.botram("field", "push", "--server", proxy.url, "--token", token, "--chunk-size", str(CHUNK))
    assert proxy.cuts == 2, pushed.stderr
    resumed = [int(s) for s in re.findall(rb"Content-Range: bytes (\d+)-", bytes(proxy.sent_up), re.I)]
    assert resumed and resumed[0] == 0 and max(resumed) > 0, "the upload did not go in chunks"
    assert resumed.count(0) == 1, "the upload started over instead of resuming"
    assert visits_on_server(server, event_id, token) == before + len(first)

    # evening push: only what is new
    second = laptop.serve_visitors(local_event, 2)
    laptop.botram("field", "push", "--server", proxy.url, "--token", token, "--event", str(local_event),
                  "--chunk-size", str(CHUNK))
    assert visits_on_server(server, event_id, token) == before + len(first) + len(second)
    again = laptop.botram("field", "push", "--server", proxy.url, "--token", token, "--chunk-size", str(CHUNK))
    assert "nothing new" in again.stdout
    assert visits_on_server(server, event_id, token) == before + len(first) + len(second)
    proxy.close()


def _checkout_size(server, event_id: int, token: str) -> int:
    """The size of the bundle the laptop will get: the checkout is made once, so asking first is harmless."""
    request = urllib.request.Request(f"{server.url}/api/v1/events/{event_id}/checkout", method="POST",
                                     data=json.dumps({"device": "laptop-cikarang-1"}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["size"]
