"""The projector board: public, live, and free of personal data."""
import re
from datetime import timedelta

import pytest

from botram.domain.board import board_state, current_version
from botram.domain.clock import now
from botram.extensions import db
from botram.models import Desk, Event, Step, Visit

from .conftest import sse_event, sse_text
from .factories import make_desk, make_event, make_user, service

NAME, NIK, PHONE = "Siti Aminah", "3216014508950001", "081234567890"


def _visit(event, code, service_codes, *, name=None, nik=None, phone=None, minutes_ago=10):
    arrived = now() - timedelta(minutes=minutes_ago)
    visit = Visit(event_id=event.id, code=code, letter=code[0], seq=int(code[2:]), name=name, nik=nik,
                  phone=phone, public_token=f"tok-{code}", created_at=arrived)
    for position, c in enumerate(service_codes):
        visit.steps.append(Step(event_id=event.id, service_id=service(c).id, position=position, arrived_at=arrived))
    db.session.add(visit)
    db.session.commit()
    return visit


def _call(step, desk, minutes_ago=1):
    step.status = "called"
    step.desk_id = desk.id
    step.called_at = now() - timedelta(minutes=minutes_ago)
    step.visit.busy_desk_id = desk.id
    desk.event.queue_version += 1
    db.session.commit()


@pytest.fixture
def hall(app):
    event = make_event(title="BOTRAM Papan Uji")
    desk1 = make_desk(event, 1, "DISDUKCAPIL", ["AKTA-MATI", "KK"])
    desk3 = make_desk(event, 3, "BAPENDA", ["PBB-BAYAR"])
    return event, desk1, desk3


def test_board_shows_calls_and_never_personal_data(client, hall):
    event, desk1, desk3 = hall
    first = _visit(event, "A-001", ["AKTA-MATI", "PBB-BAYAR"], name=NAME, nik=NIK, phone=PHONE)
    _visit(event, "A-002", ["KK"], name="Budi Santoso", minutes_ago=5)
    _call(first.steps[0], desk1)
    page = client.get(f"/board/{event.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "A-001" in html and "Panggilan terakhir" in html and "BOTRAM Papan Uji" in html
    for secret in (NAME, NIK, PHONE, "Budi Santoso", "3216", "0812"):
        assert secret not in html
    assert 'data-call-key="%d:0"' % first.steps[0].id in html


def test_board_of_a_draft_or_unknown_event_is_not_found(client, app):
    draft = make_event(status="draft")
    assert client.get(f"/board/{draft.id}").status_code == 404
    assert client.get("/board/999999").status_code == 404
    assert client.get("/board/999999/panel?v=0").status_code == 404


def test_panel_answers_204_when_the_version_is_unchanged(client, hall):
    event, desk1, _ = hall
    version = current_version(event.id)
    assert client.get(f"/board/{event.id}/panel?v={version}").status_code == 204
    visit = _visit(event, "A-001", ["KK"])
    _call(visit.steps[0], desk1)
    fresh = client.get(f"/board/{event.id}/panel?v={version}")
    assert fresh.status_code == 200
    assert f'data-version="{version + 1}"' in fresh.get_data(as_text=True)


def test_state_counts_waiting_and_estimates_per_service(hall):
    event, desk1, desk3 = hall
    for i in range(1, 5):
        _visit(event, f"A-00{i}", ["KK"], minutes_ago=30 - i)
    _visit(event, "B-001", ["PBB-BAYAR"])
    desk3.state = "closed"
    db.session.commit()
    state = board_state(event)
    by_code = {s.code: s for s in state.services}
    assert by_code["KK"].waiting == 4
    # no service measured today yet: the target time of the service, over one open desk
    assert by_code["KK"].estimated_minutes == 4 * service("KK").target_minutes
    assert by_code["PBB-BAYAR"].waiting == 1 and by_code["PBB-BAYAR"].estimated_minutes is None
    assert state.latest is None and state.recent == []


def test_latest_call_and_recent_calls_in_order(hall):
    event, desk1, desk3 = hall
    a = _visit(event, "A-001", ["KK"])
    b = _visit(event, "B-001", ["PBB-BAYAR"])
    _call(a.steps[0], desk1, minutes_ago=3)
    _call(b.steps[0], desk3, minutes_ago=1)
    state = board_state(db.session.get(type(event), event.id))
    assert state.latest.code == "B-001" and state.latest.desk_number == 3
    assert [c.code for c in state.recent] == ["B-001", "A-001"]
    tiles = {d.number: d for d in state.desks}
    assert tiles[1].current.code == "A-001" and tiles[3].current.agency == "Bapenda"
    json = state.as_json()
    assert json["latest"]["key"] == f"{b.steps[0].id}:0"


def test_latest_call_is_only_a_call_still_current(client, hall):
    """Issue 19 item 5: a finished or absent visitor leaves "Panggilan terakhir" when their desk is free."""
    event, desk1, desk3 = hall
    a = _visit(event, "A-001", ["KK"])
    b = _visit(event, "B-001", ["PBB-BAYAR"])
    _call(a.steps[0], desk1, minutes_ago=3)
    _call(b.steps[0], desk3, minutes_ago=1)
    b.steps[0].status, b.steps[0].finished_at = "no_show", now()
    b.busy_desk_id = None
    event.queue_version += 1
    db.session.commit()
    state = board_state(db.session.get(Event, event.id))
    # desk 1's call is still current: it is the latest, though B-001 was called after it
    assert state.latest.code == "A-001" and [c.code for c in state.earlier] == ["B-001"]
    html = client.get(f"/board/{event.id}").get_data(as_text=True)
    latest = re.search(r'<section class="board-latest".*?</section>', html, re.S).group(0)
    assert "A-001" in latest and "B-001" not in latest

    a.steps[0].status, a.steps[0].finished_at = "done", now()
    a.busy_desk_id = None
    event.queue_version += 1
    db.session.commit()
    state = board_state(db.session.get(Event, event.id))
    assert state.latest is None and [c.code for c in state.earlier] == ["B-001", "A-001"]
    html = client.get(f"/board/{event.id}").get_data(as_text=True)
    latest = re.search(r'<section class="board-latest".*?</section>', html, re.S).group(0)
    assert "Menunggu panggilan berikutnya" in latest and "A-001" not in latest and "B-001" not in latest
    assert "Siap melayani" in html


def _version_in(html: str) -> int:
    return int(re.search(r'data-version="(\d+)"', html).group(1))


def test_stream_sends_the_new_panel_when_the_version_changes(client, hall, app):
    event, desk1, _ = hall
    event_id, desk_id = event.id, desk1.id
    version = current_version(event_id)
    # the stream releases the database session before it waits, detaching this test's objects too
    response = client.get(f"/board/{event_id}/stream?v={version}", buffered=False)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-cache"
    chunks = iter(response.response)
    greeting = sse_text(next(chunks))
    assert greeting.startswith("retry: ") and "\n: connected\n" in greeting
    visit = _visit(db.session.get(Event, event_id), "A-001", ["KK"])
    _call(visit.steps[0], db.session.get(Desk, desk_id))
    message = sse_text(next(chunks))
    assert message.endswith("\n\n") and message.count("\n\n") == 1  # one event, and the HTML in it
    name, sent, html = sse_event(message)
    # its id is its version: a browser that reconnects by itself sends it back (Last-Event-ID)
    assert (name, sent) == ("panel", version + 1) and _version_in(html) == version + 1 and "A-001" in html
    response.close()


def _codes_shown(html: str) -> list[str]:
    """The call codes of a panel, the latest call first, then the recent list in its order."""
    return re.findall(r'class="(?:latest|recent)-code">([A-Z]-\d+)<', html)


@pytest.mark.timeout(60)
def test_a_burst_of_calls_reaches_a_board_in_order_with_none_missing(client, hall, app):
    """Five desks press Panggil within 100 ms (committed by another thread, as other requests would): the
    stream sends rising versions, every panel shows the calls so far newest first, none goes missing."""
    import threading
    import time

    from botram.domain.queue import call_next

    event, _desk1, _ = hall
    event_id = event.id
    desk_ids = [make_desk(event, n, "DISDUKCAPIL", ["KK"]).id for n in range(4, 9)]
    codes = [f"A-{n:03d}" for n in range(1, 6)]
    for minutes, code in zip(range(50, 0, -10), codes):
        _visit(event, code, ["KK"], minutes_ago=minutes)
    officer_id = make_user("koordinator", "koordinator-papan").id
    version = current_version(event_id)
    response = client.get(f"/board/{event_id}/stream?v={version}", buffered=False)
    chunks = iter(response.response)
    next(chunks)  # the greeting

    def press_all():
        with app.app_context():
            for desk_id in desk_ids:
                call_next(desk_id, by_user_id=officer_id)
                time.sleep(0.02)
            db.session.remove()

    presses = threading.Thread(target=press_all)
    presses.start()
    panels = []
    while not panels or panels[-1][0] < version + len(codes):
        chunk = next(chunks)
        if sse_text(chunk).startswith(":"):
            continue  # a keep-alive: on a loaded machine the burst may take longer than its interval
        name, sent, html = sse_event(chunk)
        assert name == "panel"
        panels.append((sent, _codes_shown(html)))
    presses.join()
    response.close()
    versions = [sent for sent, _shown in panels]
    assert versions == sorted(set(versions))  # never the same twice, never back
    for _sent, shown in panels:  # newest first, and what was called before is never dropped
        assert shown == list(reversed(codes[:len(shown)]))
    assert panels[-1][1] == list(reversed(codes))
    assert len(panels) <= len(codes)


def test_streams_beyond_the_limit_are_told_busy_and_the_slot_comes_back(client, hall, app, monkeypatch):
    """BOTRAM_STREAMS caps the streams a process holds (each keeps a thread): one more is answered `busy`
    at once, with a long retry, and a stream that ends gives its slot back."""
    from botram import board_watch

    event_id = hall[0].id
    monkeypatch.setitem(app.config, "BOTRAM_STREAMS", board_watch.open_streams() + 1)
    held = client.get(f"/board/{event_id}/stream", buffered=False)
    next(iter(held.response))
    refused = client.get(f"/board/{event_id}/stream", buffered=False)
    body = refused.get_data(as_text=True)
    assert refused.status_code == 200 and refused.headers["X-Botram-Streams"] == "full"
    assert body.startswith(f"retry: {board_watch.BUSY_RETRY_MS}\nevent: busy\n")
    held.close()
    again = client.get(f"/board/{event_id}/stream", buffered=False)
    assert "X-Botram-Streams" not in again.headers
    again.close()


def test_a_reconnecting_board_gets_only_what_is_newer_than_its_last_event(client, hall):
    event, desk1, _ = hall
    event_id, desk_id = event.id, desk1.id
    page_version = current_version(event_id)
    visit = _visit(event, "A-001", ["KK"])
    _call(visit.steps[0], desk1)
    shown = current_version(event_id)  # what a push already brought the board
    response = client.get(f"/board/{event_id}/stream?v={page_version}", buffered=False,
                          headers={"Last-Event-ID": str(shown)})
    chunks = iter(response.response)
    next(chunks)
    db.session.get(Desk, desk_id).state = "paused"
    db.session.get(Event, event_id).queue_version += 1
    db.session.commit()
    name, sent, _html = sse_event(next(chunks))
    response.close()
    assert name == "panel" and sent == shown + 1  # not the page's version's successor, long shown


@pytest.mark.timeout(60)
def test_a_stopping_server_process_ends_its_waiting_streams_with_reconnect(client, hall, app, monkeypatch):
    """`close_streams` (a server worker told to stop) wakes a stream in the middle of its wait: the board gets
    `reconnect` and comes back on a process that keeps serving, instead of the stream running on."""
    import threading

    from botram import board_watch

    monkeypatch.setattr(board_watch, "_closing", threading.Event())  # this test's process keeps serving after
    monkeypatch.setattr(board_watch, "KEEPALIVE_SECONDS", 3600)  # only the wake-up can end this wait
    event, _desk1, _ = hall
    response = client.get(f"/board/{event.id}/stream?v={current_version(event.id)}", buffered=False)
    chunks = iter(response.response)
    assert ": connected" in sse_text(next(chunks))
    # The stream runs in this thread (it carries the request context); the stop comes from another, while
    # it waits. Without the wake-up the wait would last the hour, and the test's timeout fails it.
    threading.Timer(0.3, board_watch.close_streams).start()
    assert [sse_text(chunk) for chunk in chunks] == ["event: reconnect\ndata: \n\n"]
    response.close()


def test_a_board_that_asks_without_a_version_gets_the_current_panel_at_once(client, hall):
    event_id = hall[0].id
    version = current_version(event_id)
    response = client.get(f"/board/{event_id}/stream", buffered=False)
    chunks = iter(response.response)
    next(chunks)
    name, sent, html = sse_event(next(chunks))
    response.close()
    assert name == "panel" and sent == version == _version_in(html)


def test_the_panel_poll_never_steps_a_board_back(client, hall):
    """An older or equal version is "nothing to swap" (a stale read, or a poll overtaken by a push)."""
    event, desk1, _ = hall
    version = current_version(event.id)
    for known in (version, version + 1, version + 50):
        assert client.get(f"/board/{event.id}/panel?v={known}").status_code == 204
    fresh = client.get(f"/board/{event.id}/panel?v={version - 1}")
    assert fresh.status_code == 200 and fresh.headers["X-Board-Version"] == str(version)


class ControlledClock:
    """The stream's clock: sleeping moves time on at once."""

    def __init__(self):
        self.at = 0.0

    def monotonic(self) -> float:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.at = round(self.at + seconds, 6)


class ScriptedWatcher:
    """A watcher whose version moves at set times of the controlled clock, as commits would move it."""

    def __init__(self, clock, start: int, changes_at: list[float]):
        self.clock, self.start, self.changes_at = clock, start, sorted(changes_at)

    @property
    def version(self) -> int:
        return self.start + sum(1 for at in self.changes_at if at <= self.clock.at + 1e-9)

    def wait(self, known, timeout):
        """As `_Watcher.wait`: returns once the version is newer than `known`, or at the timeout."""
        from botram.board_watch import newer

        deadline = self.clock.at + timeout
        while not newer(self.version, known) and self.clock.at < deadline:
            later = [at for at in self.changes_at if at > self.clock.at]
            self.clock.at = min([deadline, *later])
        return self.version


def _sent(changes_at: list[float], start: int = 7, until: float = 5.0, **pacing) -> list[tuple[float, int]]:
    """(time, version) of every refresh a stream sends for versions moving at `changes_at`."""
    from botram.board_watch import changes

    clock = ControlledClock()
    watch = ScriptedWatcher(clock, start, changes_at)
    sent = []
    for version in changes(lambda: watch, start, clock, **pacing):
        if version is not None:
            sent.append((round(clock.at, 6), version))
        if version == start + len(changes_at) or clock.at > until:
            break
    return sent


def test_a_lone_change_is_sent_at_once():
    assert _sent([1.0, 3.0]) == [(1.0, 8), (3.0, 9)]


def test_a_desks_finish_then_call_reach_the_board_one_gap_apart():
    """The desk's rhythm: the finish goes at once, the call 5 ms later waits only the rest of MIN_GAP (50 ms)."""
    assert _sent([1.0, 1.005]) == [(1.0, 8), (1.05, 9)]


def test_a_burst_reaches_a_board_as_a_few_refreshes_ending_on_its_latest_version():
    """Five desks within 100 ms: the first change at once, then one refresh per gap with what piled up."""
    assert _sent([0.0, 0.02, 0.04, 0.07, 0.1]) == [(0.0, 8), (0.05, 10), (0.1, 12)]
    # ten changes 10 ms apart, faster than a board redraws: three refreshes, never one per change
    assert _sent([round(0.01 * i, 2) for i in range(10)]) == [(0.0, 8), (0.05, 13), (0.1, 17)]


def test_a_desk_console_gets_a_lone_change_at_once_and_a_busy_queue_at_most_four_times_a_second():
    """The console's waiting list costs queries and a render per desk and change: a busy queue (a change
    every 50 ms) reaches it every CONSOLE_MIN_GAP_SECONDS with the latest version, a lone change at once."""
    from botram.board_watch import CONSOLE_MIN_GAP_SECONDS as gap

    assert gap == 0.25
    assert _sent([1.0, 3.0], gap=gap) == [(1.0, 8), (3.0, 9)]
    assert _sent([round(0.05 * i, 2) for i in range(11)], gap=gap) == [(0.0, 8), (0.25, 13), (0.5, 18)]


@pytest.mark.db_independent
def test_a_quiet_stream_sends_keep_alives_and_ends_after_its_time():
    from botram.board_watch import KEEPALIVE_SECONDS, STREAM_SECONDS, changes

    clock = ControlledClock()
    sent = list(changes(lambda: ScriptedWatcher(clock, 3, []), 3, clock))
    assert sent == [None] * int(STREAM_SECONDS / KEEPALIVE_SECONDS) and clock.at == STREAM_SECONDS


@pytest.mark.db_independent
def test_a_stream_never_sends_an_older_version_than_the_board_has():
    """Another process's watcher may read the version a moment late: what it has is not news."""
    from botram.board_watch import changes

    clock = ControlledClock()
    behind = ScriptedWatcher(clock, 5, [30.0])  # reads 5 while the board already shows 9, then 10 at 30 s
    stream = changes(lambda: behind, 9, clock)
    assert next(stream) is None and next(stream) is None  # keep-alives at 15 s and 30 s, no step back
    assert clock.at == 30.0
    behind.changes_at = [30.0, 31.0, 32.0, 33.0, 34.0]  # 6, 7, 8, 9, then 10 at 34 s: news at last
    assert next(stream) == 10 and clock.at == 34.0


def test_stream_of_a_draft_event_is_not_found(client, app):
    draft = make_event(status="draft")
    assert client.get(f"/board/{draft.id}/stream").status_code == 404


def test_board_thanks_received_sponsors_who_agreed(client, app):
    from botram.domain.demo import seed_demo
    from botram.domain.funding import public_sponsors

    seed_demo("demo-sandi-1")
    event = db.session.scalar(db.select(Event).where(Event.title == "BOTRAM Pasar Bersih Jababeka"))
    names = public_sponsors(event.id)
    assert names, "the demo has received sponsors who agreed to be thanked"
    html = client.get(f"/board/{event.id}").get_data(as_text=True)
    assert "Terima kasih atas dukungan" in html
    for name in names[:8]:
        assert name.replace("&", "&amp;") in html


ALL_SERVICES = {"DISDUKCAPIL": ["KTP-REKAM", "KTP-CETAK", "KK", "AKTA-LAHIR", "AKTA-MATI", "KIA"],
                "BAPENDA": ["PBB-BAYAR", "PBB-MUTASI", "PAJAK-KONSUL"],
                "DINSOS": ["DTKS", "BANSOS-KONSUL", "RUJUKAN-SOSIAL"],
                "DINKES": ["CEK-KESEHATAN", "RUJUKAN-KESEHATAN"]}


@pytest.fixture
def busy_hall(app):
    """Fourteen services, every one with people waiting: more than one screen of the board holds."""
    from datetime import time

    event = make_event(title="BOTRAM Papan Ramai", opens=time(8), closes=time(12))
    desks = {code: make_desk(event, number, code, services)
             for number, (code, services) in enumerate(ALL_SERVICES.items(), start=1)}
    seq = 0
    for services in ALL_SERVICES.values():
        for code in services:
            seq += 1
            _visit(event, f"A-{seq:03d}", [code])
    return event, desks


def test_the_panel_holds_every_waiting_service_not_only_the_first_eight(client, busy_hall):
    """KTP-el, KIA and akta kematian were dropped past the eighth queue; the board pages through them now."""
    event, _ = busy_hall
    html = client.get(f"/board/{event.id}/panel").get_data(as_text=True)
    names = [service(code).name for codes in ALL_SERVICES.values() for code in codes]
    assert len(names) == 14
    for name in names:
        assert name in html
    assert html.count('class="service-chip') == 14
    assert "{n}" in html and "layanan lainnya" in html  # the template board.js fills for "+N layanan lainnya"


def test_a_paused_desk_says_istirahat_and_a_closed_one_tutup(client, busy_hall):
    event, desks = busy_hall
    desks["BAPENDA"].state = "paused"
    desks["DINSOS"].state = "closed"
    event.queue_version += 1
    db.session.commit()
    state = board_state(db.session.get(Event, event.id))
    by_code = {s.code: s for s in state.services}
    assert by_code["PBB-BAYAR"].desk_state == "paused" and by_code["PBB-BAYAR"].estimated_minutes is None
    assert by_code["DTKS"].desk_state == "closed" and by_code["KK"].desk_state == "open"
    html = client.get(f"/board/{event.id}/panel").get_data(as_text=True)
    assert html.count("Loket istirahat") == 3 and html.count("Loket tutup") == 3
    assert "belum buka" not in html


def test_the_running_text_tells_which_desks_stay_open_longer(client, busy_hall):
    from datetime import time

    from botram.domain.clock import wib_to_utc

    event, desks = busy_hall

    for code in ("BAPENDA", "DINKES"):
        desks[code].closes_at = wib_to_utc(event.date, time(15))
    event.queue_version += 1
    db.session.commit()
    state = board_state(db.session.get(Event, event.id))
    assert (state.hours_opens_wib, state.hours_closes_wib) == ("08.00", "12.00")
    assert [(e.closes_at_wib, e.desk_numbers) for e in state.extensions] == [("15.00", [2, 4])]
    assert [d.extended for d in state.desks] == [False, True, False, True]
    html = client.get(f"/board/{event.id}").get_data(as_text=True)
    assert "Layanan 08.00–12.00 WIB · Loket 2, 4 diperpanjang sampai 15.00 WIB" in _ticker(html)
    api = client.get(f"/api/v1/events/{event.id}/board").get_json()
    assert api["extensions"] == [{"closes_at_wib": "15.00", "desk_numbers": [2, 4]}]

    # every desk stays longer: the new hours are simply the hours
    for desk in desks.values():
        desk.closes_at = wib_to_utc(event.date, time(16))
    event.queue_version += 1
    db.session.commit()
    html = client.get(f"/board/{event.id}").get_data(as_text=True)
    assert "Layanan 08.00–16.00 WIB" in _ticker(html) and "diperpanjang" not in html


def _ticker(html: str) -> str:
    """The running text as the board shows it: its words, whatever the whitespace of the markup."""
    from html.parser import HTMLParser

    class Ticker(HTMLParser):
        inside, text = False, []

        def handle_starttag(self, tag, attrs):
            self.inside = self.inside or ("id", "ticker-text") in attrs

        def handle_endtag(self, tag):
            if self.inside and tag == "span":
                self.inside = False

        def handle_data(self, data):
            if self.inside:
                self.text.append(data)

    parser = Ticker()
    parser.feed(html)
    return " ".join("".join(parser.text).split())


def test_every_thanked_sponsor_is_in_the_board_state(client, busy_hall):
    from botram.models import Contribution, Sponsor

    event, _ = busy_hall
    names = [f"PT Mitra BOTRAM {i:02d}" for i in range(1, 12)]
    for i, name in enumerate(names):
        sponsor = Sponsor(name=name, kind="csr", public_thanks=True)
        db.session.add(Contribution(sponsor=sponsor, event_id=event.id, form="cash", value=1_000_000 * (20 - i),
                                    status="received", pledged_on=event.date, received_on=event.date))
    db.session.add(Contribution(sponsor=Sponsor(name="PT Tanpa Nama", kind="csr", public_thanks=False),
                                event_id=event.id, form="cash", value=9_000_000_000, status="received",
                                pledged_on=event.date, received_on=event.date))
    event.queue_version += 1
    db.session.commit()
    state = board_state(db.session.get(Event, event.id))
    assert state.sponsors == names
    html = client.get(f"/board/{event.id}").get_data(as_text=True)
    assert len(re.findall(r'class="sponsor-name"', html)) == 11 and "PT Tanpa Nama" not in html


def test_boards_asking_for_a_new_version_at_once_read_the_database_once(app, hall):
    """Every open board asks for the new state the moment the version moves: one reads the database, the others
    wait for its state instead of each opening a session to read the event (bench/streams.py: 400 boards)."""
    import threading

    import sqlalchemy as sa

    from botram.domain.board import state_at

    event, desk1, _ = hall
    first = _visit(event, "A-001", ["KK"])
    _call(first.steps[0], desk1)
    event_id, version = event.id, current_version(event.id)
    db.session.remove()
    readers: set[str] = set()
    boards = [f"board-{i}" for i in range(12)]
    start = threading.Barrier(len(boards))
    shown: dict[str, int | None] = {}

    def watch(_conn, _cursor, statement, *_args):
        if threading.current_thread().name in boards:
            readers.add(threading.current_thread().name)

    def board() -> None:
        with app.app_context():
            start.wait()
            state = state_at(event_id, version)
            shown[threading.current_thread().name] = state.version if state else None
            db.session.remove()

    sa.event.listen(db.engine, "before_cursor_execute", watch)
    try:
        threads = [threading.Thread(target=board, name=name) for name in boards]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", watch)
    assert shown == {name: version for name in boards}
    assert len(readers) == 1


def test_the_watchers_cheap_read_sees_each_commit_as_the_session_does(app, hall):
    """The watcher reads the version on a bare pooled connection (no session, no application context): it
    must see what a session sees, every commit at once, and nothing for an event that does not exist."""
    from botram.domain.board import version_reader

    event = hall[0]
    read = version_reader(db.engine, event.id)
    assert read() == current_version(event.id)
    event.queue_version += 1
    db.session.commit()
    assert read() == current_version(event.id) == event.queue_version
    assert version_reader(db.engine, event.id + 10_000)() is None


def test_the_version_poll_slows_only_while_this_process_hears_notify(app, hall, monkeypatch):
    """With PostgreSQL's NOTIFY heard, every change pokes the watcher at once and the poll is only the safety
    net (once a second); without it (SQLite, or the listening connection lost) the poll is how a change made
    by another process is learnt, at BOTRAM_BOARD_POLL_MS as before."""
    import threading
    from types import SimpleNamespace

    from botram import board_watch

    current = board_watch._Watcher(app, hall[0].id)  # never started: only its interval is asked
    assert current.interval() == current.poll  # SQLite here, or no listener yet
    done = threading.Thread(target=lambda: None)
    done.start()  # stop_watchers at teardown joins it
    heard = SimpleNamespace(app=app, listening=threading.Event(), stop_requested=False, thread=done)
    monkeypatch.setattr(board_watch, "_listener", heard)
    assert current.interval() == current.poll  # its connection not up (yet, or lost)
    heard.listening.set()
    assert current.interval() == max(current.poll, board_watch.POLL_LISTENING) == board_watch.POLL_LISTENING
    heard.app = object()  # a listener for another application's database tells this one nothing
    assert current.interval() == current.poll
