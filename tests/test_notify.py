"""Messages to citizens (issue 22, docs/outbox.md): opt-in at reception, "near" and "called" through the outbox
and apprise to a real HTTP endpoint on 127.0.0.1 that the test starts (`json://`), a gateway that goes away
and comes back, and a worker process killed mid-send."""
from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from botram.domain import DomainError, notify, outbox
from botram.domain import queue as q
from botram.domain.clock import now
from botram.domain.notify import sender, texts
from botram.extensions import db
from botram.models import AuditLog, Outbox, OutboxStatus, Step, Visit
from botram.outbox_worker import Worker, install_senders

from .factories import make_desk, make_event, make_user, service
from .notify_gateway import Gateway

NAME, NIK = "Siti Aminah", "3216014501900001"


class Day:
    """An open event: two Disdukcapil desks for KTP-REKAM, one Bapenda desk for PBB-BAYAR."""

    def __init__(self):
        self.event = make_event(title="BOTRAM Pasar Cikarang")
        self.desks = [make_desk(self.event, 1, "DISDUKCAPIL", ["KTP-REKAM"]),
                      make_desk(self.event, 2, "DISDUKCAPIL", ["KTP-REKAM"]),
                      make_desk(self.event, 3, "BAPENDA", ["PBB-BAYAR"])]
        self.labels = {d.id: d.label for d in self.desks}
        self.desk_ids = [d.id for d in self.desks]
        self.reception = make_user("resepsionis").id
        self.officers = {d.id: make_user("petugas", f"petugas{d.number}",
                                         agency_code="BAPENDA" if d.number == 3 else "DISDUKCAPIL").id
                         for d in self.desks}
        self.ktp, self.pbb = service("KTP-REKAM").id, service("PBB-BAYAR").id
        self.event_id = self.event.id

    def issue(self, n: int, *, tick: bool, **kwargs) -> Visit:
        return q.issue_visit(self.event_id, [self.ktp if n % 3 else self.pbb], phone=f"0812{n:08d}",
                             notify=tick, by_user_id=self.reception, **kwargs).visit


@pytest.fixture
def day(app):
    return Day()


def _phone(n: int) -> str:
    return f"+62812{n:08d}"


def _serve_everyone(day: Day, worker: Worker | None = None, timings: list[float] | None = None,
                    pause: float = 0.0) -> None:
    """Desks call in turn and finish, until no one waits; the worker runs a pass after every call."""
    while True:
        called = 0
        for desk_id in day.desk_ids:
            started = time.perf_counter()
            step = q.call_next(desk_id, by_user_id=day.officers[desk_id])
            if timings is not None:
                timings.append(time.perf_counter() - started)
            if step is None:
                continue
            called += 1
            if worker is not None:
                worker.run_once()
            time.sleep(pause)  # a desk takes a while with each citizen: the worker thread looks meanwhile
            q.finish(step.id, outcome="done", by_user_id=day.officers[desk_id])
        if not called:
            return


def _expected_called(day: Day) -> dict[str, str]:
    """Phone → the desk label of the desk that actually called that visit."""
    rows = db.session.execute(sa.select(Visit.phone, Step.desk_id).join(Step, Step.visit_id == Visit.id)
                              .where(Visit.notify.is_(True)))
    return {phone: day.labels[desk_id] for phone, desk_id in rows}


def _by_kind(messages: list[dict]) -> tuple[Counter, Counter]:
    near = Counter(m["to"] for m in messages if "dipanggil ke" not in m["text"])
    called = Counter(m["to"] for m in messages if "dipanggil ke" in m["text"])
    return near, called


def test_thirty_ticked_tickets_get_one_near_and_one_called_message_each_with_the_right_desk(app, day, gateway):
    worker = Worker(app)
    install_senders(app, worker)
    worker.before_pass[0].every = 0  # look after every call (a server looks at most once a second)
    ticked = [day.issue(n, tick=True, name=NAME, nik=None).id for n in range(1, 31)]
    for n in range(31, 41):
        day.issue(n, tick=False)
    assert len(ticked) == 30
    worker.run_once()  # the worker's poll after reception's tickets, before the first call
    _serve_everyone(day, worker)
    worker.run_once()

    messages = gateway.messages()
    near, called = _by_kind(messages)
    opted = {_phone(n) for n in range(1, 31)}
    assert set(near) == opted and set(near.values()) == {1}
    assert set(called) == opted and set(called.values()) == {1}
    desk_of = _expected_called(day)
    for message in messages:
        assert message["to"] in opted  # none for the ten without the tick
        assert NAME not in message["text"] and "3216" not in message["text"]
        if "dipanggil ke" in message["text"]:
            assert f"dipanggil ke {desk_of[message['to']]} " in message["text"], message
    # The audit says a message was sent, never to whom.
    sent = list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "outbox.sent")))
    assert len(sent) == 60 and not any("+62" in str(entry.detail) for entry in sent)


def test_near_waits_for_the_set_number_of_people_ahead(app, day, gateway):
    app.config["BOTRAM_NOTIFY_NEAR_AHEAD"] = 2
    visits = [day.issue(n, tick=True) for n in (1, 2, 4, 5, 7)]  # all KTP-REKAM: 0..4 people ahead
    assert notify.queue_near(day.event_id) == 3
    keys = set(db.session.scalars(sa.select(Outbox.dedupe_key)))
    assert keys == {notify.near_key(v.steps[0].uuid) for v in visits[:3]}
    assert notify.queue_near(day.event_id) == 0  # once each
    q.call_next(day.desk_ids[0], by_user_id=day.officers[day.desk_ids[0]])
    assert notify.queue_near(day.event_id) == 1  # the fourth is now two behind


def test_english_when_the_visitor_chose_it_and_no_name_or_nik(app, day, gateway):
    visit = day.issue(1, tick=True, locale="en", name=NAME, nik=NIK)
    assert (visit.phone, visit.notify, visit.locale) == (_phone(1), True, "en")
    q.call_next(day.desk_ids[0], by_user_id=day.officers[day.desk_ids[0]])
    row = db.session.scalar(sa.select(Outbox).where(Outbox.kind == notify.CALLED))
    assert row.payload["text"].startswith("BOTRAM Pasar Cikarang: ticket A-001 is called to Loket 1")
    assert NAME not in row.payload["text"] and NIK not in row.payload["text"]
    short = texts.called("id", code="A-001", service="Perekaman KTP-el", desk="Loket 1 Disdukcapil",
                         event="BOTRAM Pasar Cikarang")
    assert len(short) <= 160, short


@pytest.mark.parametrize("phone, message", [
    ("", "Isi nomor HP untuk menerima pesan."),
    ("12", "Nomor HP tidak valid"),
    ("(021) 8832 1234", "Pesan hanya bisa dikirim ke nomor HP"),
])
def test_a_tick_without_a_mobile_number_is_refused(app, day, gateway, phone, message):
    with pytest.raises(DomainError) as refused:
        q.issue_visit(day.event_id, [day.ktp], phone=phone, notify=True, by_user_id=day.reception)
    assert refused.value.field == "phone" and message in refused.value.message


def test_without_a_gateway_the_tick_is_ignored_and_nothing_is_queued(app, day):
    app.config["BOTRAM_NOTIFY_URLS"] = ""
    visit = day.issue(1, tick=True)
    assert visit.notify is False
    q.call_next(day.desk_ids[0], by_user_id=day.officers[day.desk_ids[0]])
    assert notify.queue_near(day.event_id) == 0
    assert db.session.scalar(sa.select(sa.func.count(Outbox.id))) == 0


def test_record_opt_in_is_the_hook_for_booking_and_the_kiosk(app, day, gateway):
    visit = day.issue(1, tick=False)
    notify.record_opt_in(visit.id, "0812 0000 0001", locale="en", by_user_id=None)
    db.session.rollback()
    visit = db.session.get(Visit, visit.id)
    assert (visit.notify, visit.phone, visit.locale) == (True, _phone(1), "en")
    with pytest.raises(DomainError):
        notify.record_opt_in(visit.id, "021 8832 1234")


@pytest.mark.timeout(150)
def test_a_gateway_down_for_twenty_seconds_gets_every_message_once_and_calls_are_not_slowed(app, day, gateway):
    worker = Worker(app, poll=0.2)
    install_senders(app, worker)
    worker.before_pass[0].every = 0.1
    for n in range(1, 13):
        day.issue(n, tick=True)
    gateway.down()
    worker.run_once()
    worker.start()
    try:
        timings: list[float] = []
        started = time.monotonic()
        _serve_everyone(day, timings=timings, pause=0.5)
        time.sleep(max(0.0, 20 - (time.monotonic() - started)))
        assert gateway.messages() == []
        failing = outbox.health()
        assert failing.warning and failing.failing > 0
        gateway.up()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(gateway.messages()) < 24:
            time.sleep(0.5)
        time.sleep(1.0)  # nothing more arrives
    finally:
        worker.stop()
    near, called = _by_kind(gateway.messages())
    everyone = {_phone(n) for n in range(1, 13)}
    assert set(near) == everyone and set(near.values()) == {1}
    assert set(called) == everyone and set(called.values()) == {1}
    assert statistics.quantiles(timings, n=20)[-1] < 0.5, timings  # a dead gateway never holds up a call
    db.session.rollback()
    assert set(db.session.scalars(sa.select(Outbox.status))) == {OutboxStatus.SENT}


@pytest.mark.timeout(150)
def test_a_worker_killed_mid_send_loses_nothing_and_repeats_at_most_the_message_in_flight(app, day, database_url,
                                                                                         tmp_path):
    gw = Gateway(delay=0.3)  # a slow gateway: the kill lands while a send is under way
    try:
        app.config["BOTRAM_NOTIFY_URLS"] = gw.url
        for n in range(1, 16):
            day.issue(n, tick=True)
        for desk_id in day.desk_ids:
            q.call_next(desk_id, by_user_id=day.officers[desk_id])
        assert notify.queue_near(day.event_id) > 0
        db.session.remove()
        total = db.session.scalar(sa.select(sa.func.count(Outbox.id)))
        db.session.remove()

        env = {**os.environ, "BOTRAM_DATABASE_URL": database_url, "BOTRAM_NOTIFY_URLS": gw.url,
               "BOTRAM_INSTANCE_PATH": str(tmp_path), "BOTRAM_SECRET_KEY": "test"}
        command = [sys.executable, "-m", "botram.cli", "outbox", "run"]
        first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while len(gw.messages()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.15)  # into the next send: the gateway has the request, the worker has not marked it
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        arrived_before = len(gw.messages())
        assert 3 <= arrived_before < total

        # The dead worker's lease runs out (60 s in real life; moved here so the test need not wait it out).
        with db.engine.begin() as conn:
            conn.execute(sa.update(Outbox.__table__).where(Outbox.status == OutboxStatus.PENDING)
                         .values(claimed_until=now() - timedelta(seconds=1)))
        subprocess.run([*command, "--once"], env=env, check=True, capture_output=True, timeout=60)
        subprocess.run([*command, "--once"], env=env, check=True, capture_output=True, timeout=60)
        time.sleep(0.5)
    finally:
        gw.down()
        outbox.unregister_sender(sender.KIND_PREFIX)
    got = Counter((m["to"], m["text"]) for m in gw.messages())
    rows = list(db.session.scalars(sa.select(Outbox)))
    assert {(r.payload["phone"], r.payload["text"]) for r in rows} == set(got)  # nothing lost
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    twice = [key for key, times in got.items() if times > 1]
    assert len(twice) <= 1, twice  # at least once: only the one in flight at the kill may come again


# ------------------------------------------------------------------------------------------ reception's form

def _reception(client, auth, day, **data):
    auth.login("resepsionis")
    return client.post(f"/reception/{day.event_id}", data={"services": str(day.ktp), **data})


def test_reception_offers_the_tick_only_with_a_gateway(app, client, auth, day):
    auth.login("resepsionis")
    app.config["BOTRAM_NOTIFY_URLS"] = ""
    assert 'name="notify"' not in client.get(f"/reception/{day.event_id}").get_data(as_text=True)
    app.config["BOTRAM_NOTIFY_URLS"] = "json://127.0.0.1:9/sms/{phone}"
    page = client.get(f"/reception/{day.event_id}").get_data(as_text=True)
    assert 'name="notify"' in page and 'name="notify" type="checkbox" value="y">' in page  # never ticked


def test_reception_ticks_and_the_number_is_kept_as_plus_62(app, client, auth, day, gateway):
    response = _reception(client, auth, day, phone="0812-0000-0007", notify="y", notify_locale="en")
    assert response.status_code == 303
    visit = db.session.scalar(sa.select(Visit))
    assert (visit.phone, visit.notify, visit.locale) == (_phone(7), True, "en")


@pytest.mark.parametrize("phone, message", [
    ("", "Isi nomor HP untuk menerima pesan."),
    ("0812", "Nomor HP tidak valid"),
    ("021 8832 1234", "Pesan hanya bisa dikirim ke nomor HP"),
])
def test_reception_refuses_a_tick_without_a_mobile_number_on_the_form(app, client, auth, day, gateway, phone,
                                                                       message):
    response = _reception(client, auth, day, phone=phone, notify="y")
    assert response.status_code == 422
    import re
    error = re.search(r'id="phone-error"[^>]*>([^<]*)<', response.get_data(as_text=True))
    assert error and message in error.group(1)
    assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0


# ------------------------------------------------------------------------------------------------ the admin

def test_a_failing_gateway_warns_on_the_admin_pages_and_never_at_the_desk(app, client, auth, day, gateway):
    make_user("admin")
    gateway.down()
    install_senders(app)
    day.issue(1, tick=True)
    desk = day.desk_ids[0]
    q.call_next(desk, by_user_id=day.officers[desk])
    auth.login("admin")
    assert "Gateway pesan ke warga sedang gagal" not in client.get("/admin/users").get_data(as_text=True)
    outbox.deliver_due()  # the gateway is down: the send fails, the row waits for its retry
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Gateway pesan ke warga sedang gagal" in page
    detail = client.get("/admin/messages").get_data(as_text=True)
    assert f"json://127.0.0.1:{gateway.port}" in detail and "GatewayRefused" in detail
    assert "{phone}" not in detail and "+62" not in detail
    # The desk goes on: finishing and the next call are not refused or slowed by the outbox.
    step = db.session.scalar(sa.select(Step).where(Step.desk_id == desk))
    q.finish(step.id, outcome="done", by_user_id=day.officers[desk])


# ------------------------------------------------------------------------------------------------ purge-pii

def test_purge_pii_removes_the_numbers_and_texts_of_messages_of_old_closed_events(app, day, gateway, runner):
    install_senders(app)
    day.issue(1, tick=True)
    desk = day.desk_ids[0]
    q.call_next(desk, by_user_id=day.officers[desk])
    outbox.deliver_due()
    assert len(gateway.messages()) == 1
    db.session.rollback()
    event = db.session.get(type(day.event), day.event_id)
    event.status, event.date = "closed", event.date - timedelta(days=120)
    db.session.commit()

    result = runner.invoke(args=["purge-pii", "--older-than", "90d"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    row = db.session.scalar(sa.select(Outbox))
    assert row.payload == {} and row.status == OutboxStatus.SENT and row.sent_at is not None
    visit = db.session.scalar(sa.select(Visit))
    assert visit.phone is None and visit.notify is False
    purge = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "privacy.purge"))
    assert purge.detail["messages"] == 1


# ------------------------------------------------------------------------------------------------------ API

def test_the_api_takes_the_opt_in_and_refuses_a_landline(app, client, day, gateway):
    from .factories import bearer_for

    headers, _user = bearer_for("kiosk-resepsionis", "resepsionis")
    body = {"services": [day.ktp], "phone": "0812 0000 0009", "notify": True, "locale": "en"}
    response = client.post(f"/api/v1/events/{day.event_id}/visits", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    visit = db.session.scalar(sa.select(Visit))
    assert (visit.notify, visit.phone, visit.locale) == (True, _phone(9), "en")
    refused = client.post(f"/api/v1/events/{day.event_id}/visits", headers=headers,
                          json={**body, "phone": "021 8832 1234"})
    assert refused.status_code == 422 and "nomor HP" in str(refused.get_json()), refused.get_json()


def test_no_number_reaches_the_logs_even_at_debug(app, day, gateway, caplog):
    import logging

    install_senders(app)
    day.issue(1, tick=True)
    desk = day.desk_ids[0]
    q.call_next(desk, by_user_id=day.officers[desk])
    gateway.down()
    with caplog.at_level(logging.DEBUG):
        outbox.deliver_due()
    assert caplog.records and any(r.name == "apprise" for r in caplog.records)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "81200000001" not in logged and "%2B62" not in logged, logged


def test_the_look_out_counts_people_ahead_exactly_as_the_status_page_does(app, day, gateway):
    """queue_near walks the order once per group of desks; each step's count must equal wait.people_ahead."""
    from botram.domain.queue import wait

    for n in range(1, 25):
        q.issue_visit(day.event_id, [day.ktp] if n % 4 else [day.ktp, day.pbb], phone=f"0812{n:08d}",
                      notify=True, priority="lansia" if n % 5 == 0 else "none", by_user_id=day.reception)
    for desk_id in day.desk_ids[:2]:
        q.call_next(desk_id, by_user_id=day.officers[desk_id])
    expected = {s.id: wait.people_ahead(s.id) for s in db.session.scalars(
        sa.select(Step).where(Step.status == "waiting"))}
    notify.queue_near(day.event_id, ahead_at_most=1000)
    texts_by_step = {r.payload["step_id"]: r.payload["text"] for r in db.session.scalars(
        sa.select(Outbox).where(Outbox.kind == notify.NEAR))}
    assert set(texts_by_step) == set(expected)
    for step_id, people in expected.items():
        wording = "berikutnya dipanggil" if people == 0 else f"{people} orang lagi"
        assert wording in texts_by_step[step_id], (step_id, people, texts_by_step[step_id])
