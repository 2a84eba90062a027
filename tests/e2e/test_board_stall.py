"""A board whose stream hangs without a word still catches up: the 10 s poll beside the stream
(templates/board/_panel.html) fetches the newer panel. The board is opened through a proxy that, once told
to, keeps the stream's connection open but forwards nothing more on it."""
from __future__ import annotations

import time

import pytest

from .conftest import api, demo_ids
from .stall_proxy import StallingProxy

POLL = 10  # seconds between the board's polls (hx-trigger="every 10s")


@pytest.mark.timeout(300)  # a poll period or two of waiting, on a loaded machine
def test_a_board_whose_stream_stalls_silently_catches_up_through_its_poll(live_server, new_page):
    reception = live_server.cli("create-token", "resepsionis").strip()
    officer = live_server.cli("create-token", "petugas1").strip()
    event_id, desks = demo_ids(live_server)
    service_id = desks[1]["services"][0]["id"]
    call_url = f"/api/v1/desks/{desks[1]['id']}/call-next"
    first, second = (api(live_server, "POST", f"/api/v1/events/{event_id}/visits", reception,
                         {"services": [service_id]})[1] for _ in range(2))

    proxy = StallingProxy(live_server.port)
    board = new_page(1920, 1080)
    polled: list[tuple[float, int]] = []  # (when, status) of every poll answer
    board.on("response", lambda r: "/panel?" in r.url and polled.append((time.monotonic(), r.status)))
    try:
        board.goto(f"{proxy.url}/board/{event_id}")
        board.wait_for_selector(".latest-empty")
        board.wait_for_function("() => document.querySelector('#board-panel').hasAttribute('sse-connect')")
        deadline = time.monotonic() + 10
        while proxy.streams == 0:
            assert time.monotonic() < deadline, "the board never opened its stream through the proxy"
            time.sleep(0.05)

        # while the stream flows, a call reaches the board through it, before any poll could bring it
        status, called = api(live_server, "POST", call_url, officer)
        assert status == 200 and called["visit_code"] == first["code"]
        board.wait_for_selector(f".latest-code:text('{first['code']}')", timeout=POLL * 1000 // 2)
        assert not [s for _, s in polled if s == 200], polled

        # the stream goes silent; the browser is not told
        proxy.stall()
        stalled_at = time.monotonic()
        status, _ = api(live_server, "POST", f"/api/v1/steps/{called['step_id']}/finish", officer,
                        {"outcome": "done"})
        assert status == 200
        status, called = api(live_server, "POST", call_url, officer)
        assert status == 200 and called["visit_code"] == second["code"]
        board.wait_for_selector(f".latest-code:text('{second['code']}')", timeout=(POLL + 5) * 1000)
        caught_up = time.monotonic()

        assert proxy.held_back > 0, "the server sent nothing on the stream: it was not the stream that stalled"
        assert any(stalled_at < when <= caught_up and s == 200 for when, s in polled), polled
        assert board.evaluate("document.getElementById('board-offline').hidden")  # nothing looked wrong
    finally:
        board.goto("about:blank")  # leave the board before the proxy goes, so its stream ends as a page left
        proxy.close()
