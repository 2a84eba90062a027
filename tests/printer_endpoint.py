"""A network thermal printer for tests: a TCP server on 127.0.0.1 that answers the paper-status query
(DLE EOT 4) like an ESC/POS printer and keeps what each connection sent after it."""
from __future__ import annotations

import socket
import threading
import time

PAPER_QUERY = b"\x10\x04\x04"
PAPER_OK, PAPER_OUT = b"\x12", b"\x72"


class FakePrinter:
    def __init__(self, port: int = 0):
        self.paper = True
        self.jobs: list[bytes] = []
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="fake-printer", daemon=True)
        self._thread.start()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._take, args=(conn,), daemon=True).start()

    def _take(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            data = bytearray()
            try:
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                    if data.startswith(PAPER_QUERY) and len(data) == len(PAPER_QUERY):
                        conn.sendall(PAPER_OK if self.paper else PAPER_OUT)
            except OSError:
                pass
        body = bytes(data[len(PAPER_QUERY):] if data.startswith(PAPER_QUERY) else data)
        if body:
            with self._lock:
                self.jobs.append(body)

    def wait_for(self, count: int, timeout: float = 10) -> list[bytes]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.jobs) >= count:
                    return list(self.jobs)
            time.sleep(0.02)
        return list(self.jobs)

    def close(self) -> None:
        self._sock.close()


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (a printer switched off)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port
