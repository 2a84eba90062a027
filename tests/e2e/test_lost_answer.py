"""A kiosk whose connection dies before it reads the answer sends the same request again with the same
Idempotency-Key and gets the same ticket: one ticket issued, not two. The same for a call button.

The repeat is sent only once the first request's write is visible, so it must be answered as a replay
(`Idempotent-Replayed: true`), never by running the write again or by the repeat overtaking the first."""
from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from .conftest import demo_ids


def _send_and_hang_up(url: str, token: str, body: dict, key: str) -> None:
    """Write the whole request, then close the connection without reading a byte of the answer."""
    parts = urlsplit(url)
    payload = json.dumps(body).encode()
    request = (f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n"
               f"Content-Type: application/json\r\nIdempotency-Key: {key}\r\nContent-Length: {len(payload)}\r\n"
               f"Connection: close\r\n\r\n").encode() + payload
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_RDWR)


def _retry(url: str, token: str, body: dict | None, key: str) -> tuple[int, dict, dict]:
    """What a device does after a lost answer: the same request, same key, until it gets a final answer."""
    data = json.dumps(body).encode() if body is not None else b""
    deadline = time.monotonic() + 20
    while True:
        request = urllib.request.Request(url, data=data, method="POST", headers={
            "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Idempotency-Key": key})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, dict(response.headers), json.loads(raw) if raw else {}
        except urllib.error.HTTPError as exc:
            if exc.code == 409 and exc.headers.get("Retry-After") and time.monotonic() < deadline:
                time.sleep(float(exc.headers["Retry-After"]) / 4)  # the first request is still finishing
                continue
            raise


def _until(what: str, check) -> None:
    """Wait until the first request (whose answer nobody reads) has written: `check()` holds."""
    deadline = time.monotonic() + 20
    while not check():
        assert time.monotonic() < deadline, f"the request whose answer was lost never wrote: {what}"
        time.sleep(0.05)


def _get(url: str, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return json.loads(response.read())


def test_a_ticket_and_a_call_whose_answers_were_lost_are_not_made_twice(live_server):
    reception = live_server.cli("create-token", "resepsionis").strip()
    officer = live_server.cli("create-token", "petugas1").strip()
    event_id, desks = demo_ids(live_server)
    service_id = desks[1]["services"][0]["id"]
    visits_url = f"{live_server.url}/api/v1/events/{event_id}/visits"
    body = {"services": [service_id], "priority": "lansia"}

    board_url = f"{live_server.url}/api/v1/events/{event_id}/board"

    def waiting() -> int:
        return sum(s["waiting"] for s in _get(board_url)["services"] if s["id"] == service_id)

    _send_and_hang_up(visits_url, reception, body, "kiosk-2-000117")
    _until("the ticket", lambda: waiting() == 1)
    status, headers, ticket = _retry(visits_url, reception, body, "kiosk-2-000117")
    assert status == 201 and headers.get("Idempotent-Replayed") == "true", (status, headers)  # the first answer
    assert waiting() == 1  # one ticket, the one the retry answered with
    # a new key is a new ticket
    status, headers, other = _retry(visits_url, reception, body, "kiosk-2-000118")
    assert status == 201 and other["code"] != ticket["code"] and "Idempotent-Replayed" not in headers

    call_url = f"{live_server.url}/api/v1/desks/{desks[1]['id']}/call-next"
    desk_url = f"{live_server.url}/api/v1/desks/{desks[1]['id']}"
    _send_and_hang_up(call_url, officer, {}, "button-1-0042")
    _until("the call", lambda: _get(desk_url, officer).get("step") is not None)
    status, headers, called = _retry(call_url, officer, {}, "button-1-0042")
    assert status == 200 and headers.get("Idempotent-Replayed") == "true", (status, headers)
    assert called["visit_code"] == ticket["code"]  # the lansia ticket, called once
    desk = _get(desk_url, officer)
    assert desk["step"]["id"] == called["step_id"] and desk["step"]["recall_count"] == 0
    assert waiting() == 1  # the other ticket still waits: the repeat did not call a second one
