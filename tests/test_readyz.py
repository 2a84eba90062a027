"""/readyz, the load balancer's signal: 503 while the database cannot be reached or is not migrated to head,
200 once it is back; /healthz answers regardless (liveness touches nothing)."""
from __future__ import annotations

import os
import socket
import sqlite3
import threading

from sqlalchemy.engine import make_url

from botram import create_app
from botram.extensions import db


class Relay:
    """A TCP relay on a fixed local port to the real database server: stopping it is the database going away
    for the app (new connections refused, pooled ones cut), starting it again on the same port brings it back."""

    def __init__(self, host: str, port: int):
        self.upstream = (host, port)
        self.port = 0
        self.listener = None
        self.sockets: list[socket.socket] = []

    def start(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(16)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def stop(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; a bare close() would not
        self.listener.close()
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.sockets.clear()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, target) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _app(url: str, tmp_path):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path),
                       "SECRET_KEY": "x", "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 3}}
                       if url.startswith("postgresql") else {}})


def _ready(client) -> tuple[int, str]:
    response = client.get("/readyz")
    return response.status_code, response.get_json().get("reason", "ok")


def test_a_database_not_migrated_to_head_is_not_ready_until_botram_init(tmp_path):
    from flask_migrate import upgrade

    app = _app(f"sqlite:///{tmp_path / 'neu.sqlite'}", tmp_path)
    client = app.test_client()
    assert _ready(client) == (503, "migrations_behind")
    assert client.get("/readyz").headers["Retry-After"] == "5"
    assert client.get("/healthz").status_code == 200
    with app.app_context():
        upgrade(revision="215fc5417a3f")  # an older release's schema: still behind
    assert _ready(client) == (503, "migrations_behind")
    with app.app_context():
        upgrade()  # what `botram init` does
        db.engine.dispose()
    assert _ready(client) == (200, "ok")


def test_503_while_the_database_is_stopped_and_200_after(database_url, _schema, tmp_path):
    """On PostgreSQL the server is reached through a relay that is stopped and started again; on SQLite the
    database file goes away (a USB disk pulled out) and comes back, opened read-write-existing so that SQLite
    does not quietly create an empty file in its place."""
    if database_url.startswith("postgresql"):
        real = make_url(database_url)
        relay = Relay(real.host or "127.0.0.1", real.port or 5432)
        relay.start()
        url = real.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
        stop, start = relay.stop, relay.start
    else:
        path = str(tmp_path / "venue.sqlite")  # a copy of the migrated test database: the shared one stays put
        with sqlite3.connect(make_url(database_url).database) as source, sqlite3.connect(path) as copy:
            source.backup(copy)
        source.close()
        copy.close()
        url = f"sqlite:///file:{path}?mode=rw&uri=true"
        away = f"{path}.away"
        stop, start = (lambda: os.rename(path, away)), (lambda: os.rename(away, path))
    app = _app(url, tmp_path)
    client = app.test_client()
    try:
        assert _ready(client) == (200, "ok")
        stop()
        try:
            assert _ready(client) == (503, "database_unreachable")
            assert client.get("/healthz").status_code == 200
        finally:
            start()
        assert _ready(client) == (200, "ok")
    finally:
        with app.app_context():
            db.engine.dispose()
        if database_url.startswith("postgresql"):
            relay.stop()
