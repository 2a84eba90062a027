"""The projector board: public, live, and free of personal data."""
import re
import time
from datetime import timedelta

import pytest

from botram.domain.board import board_state, current_version
from botram.domain.clock import now
from botram.extensions import db
from botram.models import Desk, Event, Step, Visit

from .factories import make_desk, make_event, service

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

    def text(chunk):
        return chunk.decode() if isinstance(chunk, bytes) else chunk

    assert text(next(chunks)).startswith(": connected")
    visit = _visit(db.session.get(Event, event_id), "A-001", ["KK"])
    _call(visit.steps[0], db.session.get(Desk, desk_id))
    message = text(next(chunks))
    assert message.startswith("event: panel\ndata: ") and message.endswith("\n\n")
    lines = message[:-2].split("\n")[1:]
    assert lines and all(line.startswith("data: ") for line in lines)  # every line of the HTML is a data line
    html = "\n".join(line[len("data: "):] for line in lines)
    assert f'data-version="{version + 1}"' in html and "A-001" in html
    response.close()


@pytest.mark.timeout(60)
def test_a_stopping_server_process_ends_its_waiting_streams_with_reconnect(client, hall, app, monkeypatch):
    """`close_streams` (a server worker told to stop) wakes a stream in the middle of its wait: the board gets
    `reconnect` and comes back on a process that keeps serving, instead of the stream running on."""
    import threading

    from botram import board_watch
    from botram.blueprints.board import routes

    monkeypatch.setattr(board_watch, "_closing", threading.Event())  # this test's process keeps serving after
    monkeypatch.setattr(routes, "KEEPALIVE_SECONDS", 3600)  # only the wake-up can end this wait
    event, _desk1, _ = hall
    response = client.get(f"/board/{event.id}/stream?v={current_version(event.id)}", buffered=False)
    chunks = iter(response.response)
    assert next(chunks).decode().startswith(": connected")
    # The stream runs in this thread (it carries the request context); the stop comes from another, while
    # it waits. Without the wake-up the wait would last the hour, and the test's timeout fails it.
    threading.Timer(0.3, board_watch.close_streams).start()
    assert [chunk.decode() for chunk in chunks] == [": keep-alive\n\n", "event: reconnect\ndata: \n\n"]
    response.close()


class BurstClock:
    """Stands in for the `time` module of the board routes: the stream's sleeps advance a fake clock, and
    the queue changes scheduled up to the new time are committed during the sleep, as if they had landed
    while the stream waited. Each sleep then waits (in real time) until this process's watcher has read the
    new version, so what the stream sends depends on the rule alone, not on how loaded the machine is."""

    def __init__(self, app, event_id: int, change_at: list[float]):
        self.app, self.event_id = app, event_id
        self.pending = sorted(change_at)
        self.at = 0.0

    def monotonic(self) -> float:
        return self.at

    def change(self) -> int:
        import sqlalchemy as sa

        with db.engine.begin() as conn:
            conn.execute(sa.update(Event).where(Event.id == self.event_id)
                         .values(queue_version=Event.queue_version + 1))
            return conn.execute(sa.select(Event.queue_version).where(Event.id == self.event_id)).scalar_one()

    def sleep(self, seconds: float) -> None:
        from botram.board_watch import watcher

        self.at += seconds
        version = None
        while self.pending and self.pending[0] <= self.at + 1e-9:
            self.pending.pop(0)
            version = self.change()
        if version is not None:
            watch = watcher(self.app, self.event_id)
            deadline = time.monotonic() + 10
            while watch.version != version and time.monotonic() < deadline:
                watch.wait(watch.version, 0.1)
            assert watch.version == version, "the watcher never read the new version"


def test_stream_coalesces_a_burst_and_ends_on_the_latest_version(client, hall, app, monkeypatch):
    """Ten changes 0.1 s apart reach a board as four refreshes: each change waits SETTLE (40 ms) for the
    ones landing with it, and a refresh is followed by MIN_GAP (250 ms) in which changes only accumulate."""
    from botram.blueprints.board import routes

    event_id = hall[0].id
    version = current_version(event_id)
    db.session.commit()
    clock = BurstClock(app, event_id, [round(0.1 * i, 1) for i in range(1, 10)])
    monkeypatch.setattr(routes, "time", clock)
    response = client.get(f"/board/{event_id}/stream?v={version}", buffered=False)
    chunks = iter(response.response)
    first = next(chunks)
    assert (first.decode() if isinstance(first, bytes) else first).startswith(": connected")
    clock.change()  # the first change of the burst, at 0.0
    sent = []
    while version + 10 not in [v for _, v in sent]:
        chunk = next(chunks)
        chunk = chunk.decode() if isinstance(chunk, bytes) else chunk
        assert chunk.startswith("event: panel"), chunk
        shown = int(re.search(r'data-version="(\d+)"', chunk).group(1))
        sent.append((round(clock.at, 2), shown))
    response.close()
    # 0.04: settle, send v+1 · gap to 0.29 (changes at 0.1, 0.2) · settle to 0.33 (0.3), send v+4 · gap to 0.58
    # (0.4, 0.5) · settle to 0.62 (0.6), send v+7 · gap to 0.87 (0.7, 0.8) · settle to 0.91 (0.9), send v+10
    assert sent == [(0.04, version + 1), (0.33, version + 4), (0.62, version + 7), (0.91, version + 10)]


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
    assert "Layanan 08.00–12.00 WIB · Loket 2, 4 diperpanjang sampai 15.00 WIB" in html
    api = client.get(f"/api/v1/events/{event.id}/board").get_json()
    assert api["extensions"] == [{"closes_at_wib": "15.00", "desk_numbers": [2, 4]}]

    # every desk stays longer: the new hours are simply the hours
    for desk in desks.values():
        desk.closes_at = wib_to_utc(event.date, time(16))
    event.queue_version += 1
    db.session.commit()
    html = client.get(f"/board/{event.id}").get_data(as_text=True)
    assert "Layanan 08.00–16.00 WIB" in html and "diperpanjang" not in html


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
    assert html.count('class="sponsor-name"') == 11 and "PT Tanpa Nama" not in html
