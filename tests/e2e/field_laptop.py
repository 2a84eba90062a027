"""A field laptop for the browser and network tests of field sync (docs/field-sync.md): its own SQLite
database and instance folder driven through the real `botram` command, and a proxy that drops the line."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

from .conftest import BOTRAM, Databases

KEY = "kunci-lapangan-bersama-2026"


class CuttingProxy:
    """A TCP proxy to the server that drops the connection once `cut_after` bytes have gone in the armed
    direction ("down": server → laptop, "up": laptop → server), then passes everything through again.
    It keeps what the laptop sent (the request heads), so the test can see how the laptop resumed."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.armed: tuple[str, int] | None = None
        self.cuts = 0
        self.sent_up = bytearray()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True, name="cutting-proxy").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def arm(self, direction: str, cut_after: int) -> None:
        """Cut the first connection that carries more than `cut_after` bytes in `direction`."""
        with self.lock:
            self.armed = (direction, cut_after)
            self.sent_up.clear()

    def _accept(self) -> None:
        while True:
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            for source, sink, direction in ((client, server, "up"), (server, client, "down")):
                threading.Thread(target=self._pump, args=(source, sink, direction, client, server),
                                 daemon=True).start()

    def _cut_at(self, direction: str, size: int) -> int | None:
        """How many of the next `size` bytes may pass before the line drops (None: all of them). The count
        runs over every connection since the proxy was armed, so a cut can fall in any request."""
        with self.lock:
            if self.armed is None or self.armed[0] != direction:
                return None
            left = self.armed[1]
            if size < left:
                self.armed = (direction, left - size)
                return None
            self.armed = None  # one cut per arming
            self.cuts += 1
            return left

    def _pump(self, source, sink, direction, client, server) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if direction == "up":
                    self.sent_up.extend(data)
                cut = self._cut_at(direction, len(data))
                if cut is not None:
                    sink.sendall(data[:cut])
                    for end in (client, server):  # a dropped line: both ends at once, mid-transfer
                        try:
                            end.shutdown(socket.SHUT_RDWR)  # also wakes the other pump blocked in recv
                        except OSError:
                            pass
                        end.close()
                    return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            try:
                sink.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()


class FieldDatabases(Databases):
    """The e2e databases, with the field key every server and laptop of the test shares."""

    def env(self, url: str) -> dict:
        env = super().env(url)
        env["BOTRAM_FIELD_KEY"] = KEY
        return env


class Laptop:
    """A field laptop: its own instance folder and SQLite database, the `botram` command."""

    def __init__(self, root: Path):
        self.root = root
        self.env = dict(os.environ)
        self.env.pop("BOTRAM_TEST_DATABASE_URL", None)
        self.env.update({"BOTRAM_DATABASE_URL": f"sqlite:///{root / 'laptop.sqlite'}",
                         "BOTRAM_INSTANCE_PATH": str(root / "instance"), "BOTRAM_SECRET_KEY": "laptop",
                         "BOTRAM_FIELD_KEY": KEY, "PYTHONUNBUFFERED": "1"})
        self.botram("init")

    def botram(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([BOTRAM, *args], env=self.env, capture_output=True, text=True, timeout=300)
        if check and result.returncode != 0:
            raise AssertionError(f"botram {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def serve_visitors(self, event_id: int, count: int) -> list[str]:
        """Register `count` visitors at the event and serve each at the first desk, as the day would."""
        result = subprocess.run([sys.executable, "-c", _SERVE, str(event_id), str(count)], env=self.env,
                                capture_output=True, text=True, check=False, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout.strip().splitlines()[-1])

    def export_checkin(self, event_id: int, target: Path) -> Path:
        """The check-in bundle a laptop hands over as a file (the coordinator's upload page takes it)."""
        result = subprocess.run([sys.executable, "-c", _EXPORT, str(event_id), str(target)], env=self.env,
                                capture_output=True, text=True, check=False, timeout=120)
        assert result.returncode == 0, result.stderr
        return target


_SERVE = """
import json, sys
import sqlalchemy as sa
from botram import create_app
from botram.domain import queue
from botram.extensions import db
from botram.models import Desk, DeskState, User

app = create_app()
with app.app_context():
    event_id, count = int(sys.argv[1]), int(sys.argv[2])
    desk = db.session.scalar(sa.select(Desk).where(Desk.event_id == event_id).order_by(Desk.number))
    officer = db.session.scalar(sa.select(User.id).where(User.role.in_(("admin", "koordinator"))).order_by(User.id))
    service_id = desk.services[0].id
    desk_id = desk.id
    if desk.state != DeskState.OPEN:
        queue.set_desk_state(desk_id, DeskState.OPEN, by_user_id=officer)
    codes = []
    for _ in range(count):
        visit = queue.issue_visit(event_id, [service_id], by_user_id=officer).visit
        codes.append(visit.code)
        step = queue.call_next(desk_id, by_user_id=officer)
        queue.finish(step.id, outcome="done", by_user_id=officer)
    print(json.dumps(codes))
"""


_EXPORT = """
import sys
from pathlib import Path
from botram import create_app
from botram.domain.field import export_checkin

app = create_app()
with app.app_context():
    Path(sys.argv[2]).write_bytes(export_checkin(int(sys.argv[1]), key=app.config["BOTRAM_FIELD_KEY"]))
"""
