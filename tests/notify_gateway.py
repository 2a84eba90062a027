"""A message gateway on 127.0.0.1 for the tests and the benches (bench/notify.py, bench/queue.py --notify):
apprise's `json://` posts to it, and it keeps what arrived.
`down()` closes the port (connection refused, as a switched-off SMS box), `up()` opens it again."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote


class Gateway:
    def __init__(self, port: int = 0, delay: float = 0.0):
        self.received: list[dict] = []
        self.delay = delay
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = port
        self.up()

    def _handler(self):
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if gateway.delay:
                    time.sleep(gateway.delay)
                message = json.loads(body or b"{}")
                with gateway._lock:
                    gateway.received.append({"to": unquote(self.path.rsplit("/", 1)[-1]),
                                             "text": message.get("message", "")})
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        return Handler

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/sms/{{phone}}"

    def up(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="test-gateway", daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def messages(self) -> list[dict]:
        with self._lock:
            return list(self.received)
