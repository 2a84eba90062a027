"""`botram serve --processes N` (gunicorn): workers share the port, the arbiter replaces a worker that dies
and restarts them all gracefully on SIGHUP, and nothing keeps the port once the server is stopped or killed;
a board connected to one worker shows a call made through another."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .conftest import LiveServer, api, demo_ids


def workers(server) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.process.pid and fields[0] != "Z" and not _is_outbox(stat.parent):
            found.append(int(stat.parent.name))
    return sorted(found)


def _is_outbox(proc: Path) -> bool:
    """The server's one outbox worker process (botram/outbox_process.py) is its child too, not a gunicorn worker."""
    try:
        return (proc / "comm").read_text().strip() == "botram-outbox"
    except OSError:
        return False


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


def log_of(server) -> str:
    return (server.databases.workdir / f"{server.name}-{server.starts}.log").read_text(errors="replace")


def holder(pids: list[int], port: int, client_port: int) -> int | None:
    """Which of `pids` accepted the connection from `client_port` to `port` (Linux /proc): a connection the
    kernel queued but no process accepted yet has no inode."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(f":{port:04X}") and fields[2].endswith(f":{client_port:04X}") and fields[9] != "0":
            inode = fields[9]
    for pid in pids if inode else ():
        try:
            if any(os.readlink(fd) == f"socket:[{inode}]" for fd in Path(f"/proc/{pid}/fd").iterdir()):
                return pid
        except OSError:
            continue
    return None


@pytest.fixture
def two_workers(e2e_databases):
    """`botram serve --processes 2` on a fresh database, started that way at once (not one worker, stopped,
    then two: a gunicorn shutdown costs seconds)."""
    server = LiveServer(e2e_databases, executable=True)
    server.start(processes=2)
    wait_until(lambda: len(workers(server)) == 2, what="two workers")
    yield server
    server.stop()


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
    assert server.process.wait(15) == 0, "a stop on SIGTERM is a clean exit"
    wait_until(lambda: not any(alive(pid) for pid in pids), what="workers to stop")
    assert port_free(server.port)
    server.process = None


def test_sigterm_ends_the_board_streams_then_exits_0_and_frees_the_port(two_workers):
    """A board stream would run for ten minutes; the stopping worker ends it with `reconnect` (the board comes
    back once the server is up again) instead of holding the stop for the grace period and being killed."""
    server = two_workers
    event_id, _desks = demo_ids(server)
    stream = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    stream.request("GET", f"/board/{event_id}/stream")
    response = stream.getresponse()
    greeting = b"retry: 1000\n: connected\n\n"
    assert response.status == 200 and response.read(len(greeting)) == greeting
    pids = workers(server)
    server.process.send_signal(signal.SIGTERM)
    rest = response.read()  # to the stream's last chunk: a worker killed mid-stream raises IncompleteRead
    assert rest.endswith(b"event: reconnect\ndata: \n\n")
    stream.close()
    assert server.process.wait(15) == 0
    server.process = None
    wait_until(lambda: not any(alive(pid) for pid in pids), what="workers to stop")
    assert port_free(server.port)


def test_sighup_starts_new_workers_and_lets_a_request_in_flight_finish(two_workers):
    """A graceful restart: new workers take new connections at once, the old ones finish what they hold and
    stop; the server never stops answering and keeps its port."""
    server = two_workers
    reception = server.cli("create-token", "resepsionis").strip()
    event_id, desks = demo_ids(server)
    body = json.dumps({"services": [desks[1]["services"][0]["id"]], "priority": "lansia"}).encode()
    old = workers(server)

    # A ticket whose body is still on its way: an old worker holds the request while the restart happens.
    client = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    client.sendall((f"POST /api/v1/events/{event_id}/visits HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Authorization: Bearer {reception}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode() + body[:7])
    client_port = client.getsockname()[1]
    wait_until(lambda: holder(old, server.port, client_port), what="an old worker to accept the request")
    busy = holder(old, server.port, client_port)

    server.process.send_signal(signal.SIGHUP)
    wait_until(lambda: len(set(workers(server)) - set(old)) == 2, what="two new workers")
    assert alive(busy), "the worker holding a request waits for it to finish"
    for _ in range(4):  # new connections go to the new workers only
        with urllib.request.urlopen(server.url + "/api/v1/events", timeout=10) as answer:
            assert answer.status == 200
            assert answer.headers["X-Botram-Worker"] not in ("1", "2"), "an old worker took a new connection"

    client.sendall(body[7:])
    response = http.client.HTTPResponse(client)
    response.begin()
    ticket = json.loads(response.read())
    client.close()
    assert response.status == 201, ticket
    assert response.headers["X-Botram-Worker"] in ("1", "2"), "the request was answered by the old worker"
    assert ticket["code"] and ticket["steps"][0]["status"] == "waiting"
    wait_until(lambda: not any(alive(pid) for pid in old), what="the old workers to stop")
    assert server.process.poll() is None
    assert len(workers(server)) == 2
    status, events = api(server, "GET", f"/api/v1/events/{event_id}/desks", reception)
    assert status == 200 and events


def test_the_server_log_quotes_no_query_string_or_status_token(two_workers):
    """Gunicorn's error lines can quote a request line; nothing a citizen typed or a status link may show."""
    server = two_workers
    # A byte outside printable ASCII makes gunicorn reject the request line and quote it whole.
    for line in (b"GET /reception/?q=3216014508950001&nama=Siti\xa0Aminah HTTP/1.1",
                 b"GET /status/tok-rahasia-4242/\xa0 HTTP/1.1"):
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
            raw.sendall(line + b"\r\nHost: 127.0.0.1\r\n\r\n")
            assert raw.recv(100).startswith(b"HTTP/1.1 400")
    wait_until(lambda: log_of(server).count("Invalid request") == 2, what="the bad requests in the log")
    log = log_of(server)
    for secret in ("3216014508950001", "Siti", "tok-rahasia-4242"):
        assert secret not in log


def database_handles(pid: int, database_url: str) -> list[str]:
    """What process `pid` holds open of the database: the SQLite file, or sockets to PostgreSQL's port."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    links = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            links.append(os.readlink(fd))
        except OSError:
            continue
    if url.get_backend_name() == "sqlite":
        return [link for link in links if link.startswith(url.database)]
    port = f":{url.port or 5432:04X}"
    to_postgres = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[2].endswith(port):
                to_postgres.add(f"socket:[{fields[9]}]")
    return [link for link in links if link in to_postgres]


def test_the_arbiter_never_opens_the_database(two_workers):
    """Connections are the workers' own: the arbiter forks them and replaces them, and a connection it held
    would be shared by every worker forked after it."""
    server = two_workers
    for _ in range(4):
        demo_ids(server)  # read through the workers, which keep their connections pooled
    assert any(database_handles(pid, server.database_url) for pid in workers(server)), "the check sees nothing"
    assert database_handles(server.process.pid, server.database_url) == []


def test_a_worker_that_dies_is_replaced(two_workers):
    server = two_workers
    first, second = workers(server)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: len(workers(server)) == 2 and first not in workers(server), what="a replacement worker")
    assert second in workers(server)
    event_id, _desks = demo_ids(server)  # still answering
    assert event_id


def test_workers_exit_and_free_the_port_when_the_arbiter_is_killed(two_workers):
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


def test_serve_without_options_runs_one_gunicorn_worker_per_core_and_says_so(live_server):
    """The default on POSIX (issue 19 "faster morning", issue 20 "one server"): as many gunicorn workers as
    the cores the server may use, under one arbiter, announced on the usual "BOTRAM serving on" line."""
    import re
    import subprocess

    from .conftest import BOTRAM

    live_server.stop()
    cores = len(os.sched_getaffinity(0))
    env = live_server.databases.env(live_server.database_url)
    env.pop("BOTRAM_PROCESSES", None)
    env.pop("BOTRAM_THREADS", None)
    log_path = live_server.databases.workdir / "serve-defaults.log"
    with open(log_path, "wb") as log:
        live_server.process = subprocess.Popen([BOTRAM, "serve", "--host", "127.0.0.1", "--port", "0"], env=env,
                                               stdout=log, stderr=subprocess.STDOUT)
    wait_until(lambda: b"BOTRAM serving on" in log_path.read_bytes(), timeout=60, what="the serving line")
    line = re.search(rb"BOTRAM serving on http://127\.0\.0\.1:(\d+)  \(processes=(\d+), threads=64 each\)",
                     log_path.read_bytes())
    assert line, log_path.read_text()
    live_server.port = int(line.group(1))
    assert int(line.group(2)) == cores
    wait_until(lambda: len(workers(live_server)) == cores, timeout=30, what=f"{cores} workers")
    seen = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(seen) < min(cores, 2):
        with urllib.request.urlopen(live_server.url + "/login", timeout=10) as answer:
            seen.add(answer.headers["X-Botram-Worker"])  # only gunicorn's workers name themselves
    assert seen and seen <= {str(n) for n in range(1, cores + 1)}
