"""A call made through one `botram serve` reaches a board stream held by another through PostgreSQL's
NOTIFY: both servers run with the version poll switched off (an hour), so nothing else could carry it."""
import http.client
import os
import time

import pytest

from .conftest import LiveServer, api, demo_ids

NO_POLL = {"BOTRAM_BOARD_POLL_MS": str(3_600_000)}


@pytest.mark.timeout(180)
def test_a_call_on_one_server_reaches_a_board_stream_on_another_through_notify(e2e_databases):
    if not os.environ.get("BOTRAM_TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's: checked in the PostgreSQL pass")
    boards = LiveServer(e2e_databases)
    desks_side = LiveServer(e2e_databases)
    desks_side.database_url = boards.database_url  # two processes, one database
    boards.settings.update(NO_POLL)
    desks_side.settings.update(NO_POLL)
    boards.start()
    desks_side.start()
    try:
        officer = desks_side.cli("create-token", "petugas5").strip()
        reception = desks_side.cli("create-token", "resepsionis").strip()
        event_id, desks = demo_ids(desks_side)
        desk = desks[5]
        status, _visit = api(desks_side, "POST", f"/api/v1/events/{event_id}/visits", reception,
                             {"services": [desk["services"][0]["id"]]})
        assert status == 201
        _s, shown = api(boards, "GET", f"/api/v1/events/{event_id}/board", reception)

        conn = http.client.HTTPConnection("127.0.0.1", boards.port, timeout=10)
        conn.request("GET", f"/board/{event_id}/stream?v={shown['version']}")
        stream = conn.getresponse()
        assert stream.getheader("Content-Type").startswith("text/event-stream")
        while stream.readline().strip() != b": connected":
            pass
        time.sleep(1.0)  # the stream's first read of the version is done: from here it waits
        # The board's server has read the version once when the stream began and now waits: only a NOTIFY
        # can wake it within the 10 s read timeout (its next poll is an hour away; keep-alives come every 15 s).
        status, called = api(desks_side, "POST", f"/api/v1/desks/{desk['id']}/call-next", officer)
        assert status == 200
        lines = []
        while not lines or lines[-1] != b"":
            lines.append(stream.readline().rstrip(b"\n"))
            if lines[-1].startswith(b":") or lines == [b""]:  # a keep-alive, the greeting's end: not news
                lines.clear()
        assert lines[0] == b"event: panel"
        assert int(lines[1].removeprefix(b"id: ")) > shown["version"]
        assert called["visit_code"].encode() in b"\n".join(lines)
        conn.close()
    finally:
        desks_side.stop()
        boards.stop()
