"""`botram serve --processes N`: workers share the port, the supervisor replaces a worker that dies, and
nothing keeps the port once the server is stopped or killed; a board connected to one worker shows a call
made through another."""
from __future__ import annotations

import json
import os
import signal
import socket
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import api, demo_ids


def workers(server) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.process.pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return sorted(found)


def wait_until(check, timeout=15.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def two_workers(live_server):
    live_server.stop()
    live_server.start(processes=2, port=0)  # a fresh port: nothing needs the old one
    wait_until(lambda: len(workers(live_server)) == 2, what="two workers")
    return live_server


def test_two_workers_serve_desks_at_once_and_stop_together(two_workers):
    server = two_workers
    reception = server.cli("create-token", "resepsionis").strip()
    event_id, desks = demo_ids(server)
    service = desks[1]["services"][0]["id"]

    def issue(_):
        return api(server, "POST", f"/api/v1/events/{event_id}/visits", reception, {"services": [service]})

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(issue, range(40)))
    assert {status for status, _ in answers} == {201}
    codes = [body["code"] for _, body in answers]
    assert len(set(codes)) == 40, "two processes must never hand out one ticket code twice"

    pids = workers(server)
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(15)
    wait_until(lambda: not any(alive(pid) for pid in pids), what="workers to stop")
    assert port_free(server.port)
    server.process = None


def test_a_worker_that_dies_is_replaced(two_workers):
    server = two_workers
    first, second = workers(server)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: len(workers(server)) == 2 and first not in workers(server), what="a replacement worker")
    assert second in workers(server)
    event_id, _desks = demo_ids(server)  # still answering
    assert event_id


def test_workers_exit_when_the_supervisor_is_killed(two_workers):
    server = two_workers
    pids = workers(server)
    server.process.kill()
    server.process.wait(10)
    wait_until(lambda: not any(alive(pid) for pid in pids), timeout=10, what="orphaned workers to exit")
    wait_until(lambda: port_free(server.port), timeout=5, what="the port to be released")
    server.process = None


def call_next(server, desk_id: int, token: str) -> tuple[dict, str]:
    """Call the next visitor at a desk through the API; the answer and the number of the worker that took it."""
    request = urllib.request.Request(f"{server.url}/api/v1/desks/{desk_id}/call-next", method="POST",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read()), response.headers["X-Botram-Worker"]


def test_a_board_on_one_worker_shows_a_call_made_through_another(two_workers, new_page):
    """Only the cross-process push can bring the call: the boards' safety-net polls are answered "nothing
    changed", and the call shows well within the 10 s a poll would take."""
    server = two_workers
    reception = server.cli("create-token", "resepsionis").strip()
    officer = server.cli("create-token", "petugas1").strip()
    event_id, desks = demo_ids(server)
    api(server, "POST", f"/api/v1/events/{event_id}/visits", reception, {"services": [desks[1]["services"][0]["id"]]})

    # Open boards until each worker holds a board's stream (the kernel decides which worker accepts a
    # connection); the worker's number comes with the stream's answer.
    boards: dict[str, object] = {}
    for _ in range(16):
        page = new_page(1920, 1080)
        page.route(f"**/board/{event_id}/panel*", lambda route: route.fulfill(status=204))
        with page.expect_response(lambda r: f"/board/{event_id}/stream" in r.url) as stream:
            page.goto(f"{server.url}/board/{event_id}")
        page.wait_for_selector(".desk-tile")
        boards.setdefault(stream.value.headers["x-botram-worker"], page)
        if len(boards) == 2:
            break
    assert sorted(boards) == ["1", "2"], f"boards reached only worker(s) {sorted(boards)}"

    # Each board notes, by its own clock, when the code appears: the browsers' arrival, not the test's polling.
    for page in boards.values():
        page.evaluate("""() => { window.__shown = null; new MutationObserver(() => {
            const el = document.querySelector('.latest-code');
            if (el && window.__shown === null) window.__shown = [el.textContent, Date.now()];
        }).observe(document.getElementById('board-panel'), {subtree: true, childList: true, characterData: true}); }""")
    asked = {worker: page.evaluate("Date.now()") for worker, page in boards.items()}
    called, through = call_next(server, desks[1]["id"], officer)
    other = "2" if through == "1" else "1"
    for worker in (other, through):
        boards[worker].wait_for_selector(f".latest-code:text('{called['visit_code']}')", timeout=10_000)
        code, shown_at = boards[worker].evaluate("window.__shown")
        # polls answer "nothing changed" here, so only a push can have brought it: well within a poll's 10 s
        assert code == called["visit_code"] and shown_at - asked[worker] < 5000, (worker, shown_at - asked[worker])
