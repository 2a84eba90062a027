"""A TCP proxy on 127.0.0.1 that can stall the board's stream without a word: after `stall()`, the stream's
connections stay open in both directions but nothing the server sends on them reaches the browser any more
(a router that forgot the connection, a server PC that lost power: EventSource has no read timeout and never
notices). Every other connection, the board's 10 s poll included, is forwarded as before."""
from __future__ import annotations

import re
import socket
import threading

_STREAM_REQUEST = re.compile(rb"GET /board/\d+/stream\b")


class StallingProxy:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stalled = threading.Event()
        self.streams = 0  # stream connections seen
        self.held_back = 0  # bytes the server sent on a stalled stream that the browser never got
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stall(self) -> None:
        self.stalled.set()

    def close(self) -> None:
        self._closed = True
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.close()
                except OSError:
                    pass

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self._lock:
                self._sockets += [client, upstream]
            connection = {"stream": False}
            threading.Thread(target=self._to_server, args=(client, upstream, connection), daemon=True).start()
            threading.Thread(target=self._to_browser, args=(upstream, client, connection), daemon=True).start()

    def _to_server(self, client: socket.socket, upstream: socket.socket, connection: dict) -> None:
        try:
            while data := client.recv(65536):
                if not connection["stream"] and _STREAM_REQUEST.search(data):
                    connection["stream"] = True
                    with self._lock:
                        self.streams += 1
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            self._shut(upstream)

    def _to_browser(self, upstream: socket.socket, client: socket.socket, connection: dict) -> None:
        try:
            while data := upstream.recv(65536):
                if connection["stream"] and self.stalled.is_set():
                    with self._lock:
                        self.held_back += len(data)  # read and dropped, the browser's side stays open
                    continue
                client.sendall(data)
        except OSError:
            pass
        finally:
            if not (connection["stream"] and self.stalled.is_set()):
                self._shut(client)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
