"""`botram serve` runs the outbox worker as ONE process beside the server (botram/outbox_process.py, issue 22):
started with the server, not one per gunicorn worker; a call made through the server reaches the local
gateway; a worker process that dies is started again; stopping the server stops it, and a server killed
outright leaves no orphan sending messages."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from botram.domain.tokens import issue_token
from botram.extensions import db
from botram.models import User

from .notify_gateway import Gateway
from .test_notify import Day


@pytest.fixture
def day(app):
    return Day()


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, process name) of the live children of `pid` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, rest = stat.read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, IndexError, ValueError):
            continue
        fields = rest.split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append((int(stat.parent.name), name))
    return found


def _outbox_children(pid: int) -> list[int]:
    return [child for child, name in _children(pid) if name == "botram-outbox"]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Served:
    """`botram serve` as documented (README: the production server), on the test's database."""

    def __init__(self, database_url: str, tmp_path: Path, gateway: Gateway, processes: int):
        env = {**os.environ, "BOTRAM_DATABASE_URL": database_url, "BOTRAM_NOTIFY_URLS": gateway.url,
               "BOTRAM_INSTANCE_PATH": str(tmp_path), "BOTRAM_SECRET_KEY": "test", "PYTHONUNBUFFERED": "1"}
        env.pop("BOTRAM_OUTBOX_WORKER", None)  # the default
        self.log = tmp_path / "serve.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "botram.cli", "serve", "--host", "127.0.0.1", "--port", "0",
                 "--processes", str(processes)], env=env, stdout=log, stderr=subprocess.STDOUT)
        found = _wait(lambda: re.search(rb"serving on http://127\.0\.0\.1:(\d+) ", self.log.read_bytes()), 60,
                      "the serving line")
        self.url = f"http://127.0.0.1:{int(found.group(1))}"

    def post(self, path: str, token: str) -> int:
        request = urllib.request.Request(self.url + path, data=b"{}", method="POST",
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(60)


def _token(user_id: int) -> str:
    _row, raw = issue_token(db.session.get(User, user_id), "tombol panggil")
    db.session.remove()
    return raw


def _called_messages(gateway: Gateway) -> list[dict]:
    return [m for m in gateway.messages() if "dipanggil ke" in m["text"]]


def test_serve_starts_one_outbox_process_that_delivers_a_call_and_stops_with_the_server(
        app, day, gateway, database_url, tmp_path):
    visits = [(v.phone, v.code) for v in (day.issue(n, tick=True) for n in (1, 2))]  # KTP at Disdukcapil
    token = _token(day.officers[day.desk_ids[0]])
    served = Served(database_url, tmp_path, gateway, processes=2)
    try:
        outbox_pids = _wait(lambda: _outbox_children(served.process.pid), 30, "the outbox process")
        time.sleep(1.0)  # both request processes are up by now: still one outbox process for the server
        assert len(_outbox_children(served.process.pid)) == 1
        assert len(_children(served.process.pid)) == 3  # two gunicorn workers and the outbox process

        assert served.post(f"/api/v1/desks/{day.desk_ids[0]}/call-next", token) == 200
        called = _wait(lambda: _called_messages(gateway), 30, "the 'called' message at the gateway")
        assert called == [{"to": visits[0][0], "text": called[0]["text"]}]
        assert day.labels[day.desk_ids[0]] in called[0]["text"] and visits[0][1] in called[0]["text"]
    finally:
        served.stop()
    assert served.process.returncode == 0
    _wait(lambda: not _alive(outbox_pids[0]), 10, "the outbox process to end with the server")


def test_a_dead_outbox_process_is_replaced_and_a_killed_server_leaves_no_orphan(
        app, day, gateway, database_url, tmp_path):
    phones = [day.issue(n, tick=True).phone for n in (1, 2)]
    token = _token(day.officers[day.desk_ids[0]])
    served = Served(database_url, tmp_path, gateway, processes=1)
    try:
        first = _wait(lambda: _outbox_children(served.process.pid), 30, "the outbox process")[0]
        os.kill(first, signal.SIGKILL)
        second = _wait(lambda: [p for p in _outbox_children(served.process.pid) if p != first], 30,
                       "a new outbox process")[0]
        assert served.post(f"/api/v1/desks/{day.desk_ids[0]}/call-next", token) == 200
        _wait(lambda: _called_messages(gateway), 30, "the 'called' message from the new process")
        assert [m["to"] for m in _called_messages(gateway)] == [phones[0]]

        served.stop(signal.SIGKILL)  # no arbiter left to stop anything
        _wait(lambda: not _alive(second), 10, "the outbox process to end with its killed server")
    finally:
        served.stop()
