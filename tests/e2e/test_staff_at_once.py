"""The whole staff at once against `botram serve` (one and two processes, SQLite and PostgreSQL): twenty
officers sign in within the same instant at 08.00, then twenty desks, two reception clients, a finance
officer, a coordinator and the citizens' survey answers write together for a minute. Every answer has the
status its request expects (a refusal only where the scenario has one: an empty queue, a survey before the
visitor was served), no write answered as saved is missing from the database, every one of them has an audit
entry, and with two processes both of them answered (`X-Botram-Worker`).

BOTRAM_STAFF_TEST_SECONDS sets how long the writing lasts: 60 by default, as the issue asks, and in `.ci/run`;
`make test` sets 20 (the Makefile), which already runs every kind of write many times over."""
from __future__ import annotations

import os
import random
import re
import threading
import time
from collections import Counter
from datetime import time as clock

import pytest
import requests
import sqlalchemy as sa

from botram import create_app
from botram.domain import events as event_rules
from botram.domain.clock import today_wib
from botram.domain.users import create_user, update_user
from botram.extensions import db
from botram.models import (UNSUR_KEYS, Agency, AuditLog, Contribution, Event, EventStatus, Service, Sponsor, Step,
                           SurveyResponse, User, Visit)

SECONDS = float(os.environ.get("BOTRAM_STAFF_TEST_SECONDS", "60"))
DESKS = 20
PASSWORD = "loket-bersama-2026"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class Staff:
    """One person's browser: a cookie jar and the page's CSRF token."""

    def __init__(self, base: str, username: str):
        self.base, self.username = base, username
        self.http = requests.Session()
        self.token = ""

    def open_login(self) -> None:
        page = self.http.get(self.base + "/login", timeout=30)
        self.token = TOKEN.search(page.text).group(1)

    def sign_in(self) -> requests.Response:
        return self.http.post(self.base + "/login", data={"username": self.username, "password": PASSWORD,
                                                         "csrf_token": self.token},
                              allow_redirects=False, timeout=60)

    def post(self, path: str, **kwargs) -> requests.Response:
        headers = {"X-CSRFToken": self.token, **kwargs.pop("headers", {})}
        return self.http.post(self.base + path, headers=headers, allow_redirects=False, timeout=60, **kwargs)


def _prepare(database_url: str, instance: str) -> dict:
    """Twenty desks of one agency offering one service, and their officers, in the served database."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": instance})
    with app.app_context():
        event = db.session.scalar(sa.select(Event).where(Event.status == EventStatus.OPEN))
        agency = db.session.scalar(sa.select(Agency).where(Agency.code == "DISDUKCAPIL"))
        kk = db.session.scalar(sa.select(Service).where(Service.code == "KK"))
        coordinator = db.session.scalar(sa.text("SELECT id FROM \"user\" WHERE username = 'koordinator'"))
        desk_ids, officers = [], []
        for n in range(DESKS):
            desk = event_rules.add_desk(db.session.get(Event, event.id), event_rules.DeskInput(
                number=60 + n, label=f"Loket bersama {n + 1}", agency_id=agency.id, service_ids=[kk.id],
                opens=clock(0, 30), closes=clock(23, 30)), by_user_id=coordinator)
            desk_ids.append(desk.id)
            officers.append(create_user(f"meja{n + 1:02d}", f"Petugas meja {n + 1}", PASSWORD, "petugas",
                                        agency_id=agency.id).username)
        for username in ("resepsionis", "keuangan", "koordinator", "admin"):
            user = db.session.scalar(sa.select(User).where(User.username == username))
            update_user(user, name=user.name, role=user.role, agency_id=user.agency_id, active=True,
                        password=PASSWORD, by_user_id=None)
        sponsor_id = db.session.scalar(sa.select(Sponsor.id).order_by(Sponsor.id))
        started = {action: n for action, n in db.session.execute(
            sa.select(AuditLog.action, sa.func.count()).group_by(AuditLog.action))}
        context = dict(event_id=event.id, desk_ids=desk_ids, officers=officers, kk=kk.id, sponsor_id=sponsor_id,
                       audit_before=Counter(started), visits_before=db.session.scalar(sa.select(sa.func.count(Visit.id))),
                       contributions_before=db.session.scalar(sa.select(sa.func.count(Contribution.id))),
                       surveys_before=db.session.scalar(sa.select(sa.func.count(SurveyResponse.id))))
        db.session.remove()
        db.engine.dispose()
    return context


def _check(database_url: str, instance: str, ctx: dict, done: Counter, last_text: str | None) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": instance})
    with app.app_context():
        audit = Counter({a: n for a, n in db.session.execute(
            sa.select(AuditLog.action, sa.func.count()).group_by(AuditLog.action))})
        audit.subtract(ctx["audit_before"])
        event_id = ctx["event_id"]
        visits = db.session.scalar(sa.select(sa.func.count(Visit.id))) - ctx["visits_before"]
        called = db.session.scalar(sa.select(sa.func.count(Step.id)).where(
            Step.desk_id.in_(ctx["desk_ids"]), Step.called_at.is_not(None)))
        finished = db.session.scalar(sa.select(sa.func.count(Step.id)).where(
            Step.desk_id.in_(ctx["desk_ids"]), Step.status == "done"))
        contributions = db.session.scalar(sa.select(sa.func.count(Contribution.id))) - ctx["contributions_before"]
        surveys = db.session.scalar(sa.select(sa.func.count(SurveyResponse.id))) - ctx["surveys_before"]
        text = db.session.scalar(sa.select(Event.running_text).where(Event.id == event_id))
        db.session.remove()
        db.engine.dispose()
    # nothing answered as saved is missing, nothing is there twice
    assert visits == done["ticket"]
    assert called == done["call"] and finished == done["finish"]
    assert contributions == done["contribution"]
    assert surveys == done["survey"]
    if last_text is not None:
        assert text == last_text
    # and every one of them is in the audit log
    assert audit["auth.login"] >= DESKS + 3
    assert audit["visit.issue"] == done["ticket"]
    assert audit["step.call"] == done["call"] and audit["step.finish"] == done["finish"]
    assert audit["funding.contribution.record"] == done["contribution"]
    assert audit["event.running_text"] == done["running_text"]
    assert audit["desk.hours"] == done["hours"]
    assert audit["survey.submit"] == done["survey"]


def _workers_answering(base: str, rounds: int = 10, at_once: int = 16) -> set[str]:
    """Which workers answer new connections opened together (bounded: `rounds` bursts of `at_once`)."""
    seen: set[str] = set()
    for _ in range(rounds):
        found: list[str] = []

        def ask():
            answer = requests.get(base + "/healthz", headers={"Connection": "close"}, timeout=10)
            found.append(answer.headers.get("X-Botram-Worker"))
        threads = [threading.Thread(target=ask) for _ in range(at_once)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
        seen.update(found)
        if {"1", "2"} <= seen:
            break
    return seen


@pytest.mark.timeout(SECONDS + 300)  # the writing plus starting, preparing and checking
@pytest.mark.parametrize("processes", [1, pytest.param(2, marks=pytest.mark.serve(processes=2))])
def test_the_whole_staff_signs_in_at_once_and_writes_for_a_minute(live_server, processes):
    instance = str(live_server.databases.workdir / "instance")
    ctx = _prepare(live_server.database_url, instance)
    base = live_server.url
    officers = [Staff(base, name) for name in ctx["officers"]]
    reception = [Staff(base, "resepsionis"), Staff(base, "resepsionis")]
    finance, coordinator = Staff(base, "keuangan"), Staff(base, "koordinator")
    everyone = officers + reception + [finance, coordinator]
    for person in everyone:
        person.open_login()

    # 08.00: everyone presses "Masuk" in the same instant
    gate = threading.Barrier(len(everyone))
    answers: dict[str, int] = {}

    served_by: Counter = Counter()  # X-Botram-Worker of every answer (absent under waitress: one process)

    def sign_in(person):
        gate.wait()
        response = person.sign_in()
        answers[f"{person.username}-{id(person)}"] = response.status_code
        served_by[response.headers.get("X-Botram-Worker")] += 1

    threads = [threading.Thread(target=sign_in, args=(p,)) for p in everyone]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(answers.values()) == [303] * len(everyone), answers

    done: Counter = Counter()
    failures: list[str] = []
    lock = threading.Lock()
    tokens: list[str] = []
    last_text: list[str] = []
    stop_at = time.monotonic() + SECONDS

    def record(kind: str, response: requests.Response, ok: tuple[int, ...], refused=None) -> bool:
        """Count a write answered as saved (`ok`); `refused(response)` says whether a refusal is one this
        scenario expects. Any other answer, a 4xx included, is a failure."""
        with lock:
            served_by[response.headers.get("X-Botram-Worker")] += 1
            if response.status_code in ok:
                done[kind] += 1
                return True
            if refused is not None and refused(response):
                done[f"{kind} refused"] += 1
            else:
                failures.append(f"{kind}: {response.status_code} {response.text[:200]}")
        return False

    def nobody_waits(response: requests.Response) -> bool:
        return response.status_code == 204 and response.content == b""

    def not_served_yet(response: requests.Response) -> bool:
        """The ticket's visitor has not been served at any desk yet (the citizens try every new ticket)."""
        return response.status_code == 409 and "selesai dilayani" in response.json().get("detail", "")

    def desk(person: Staff, desk_id: int, rng: random.Random):
        while time.monotonic() < stop_at:
            response = person.post(f"/api/v1/desks/{desk_id}/call-next")
            if record("call", response, ok=(200,), refused=nobody_waits):
                step_id = response.json()["step_id"]
                time.sleep(rng.uniform(0.05, 0.3))
                record("finish", person.post(f"/api/v1/steps/{step_id}/finish", json={"outcome": "done"}),
                       ok=(200,))
            else:
                time.sleep(rng.uniform(0.2, 0.5))

    def desk_reception(person: Staff, rng: random.Random):
        while time.monotonic() < stop_at:
            response = person.post(f"/api/v1/events/{ctx['event_id']}/visits",
                                   json={"services": [ctx["kk"]], "priority": rng.choice(["none", "lansia"])})
            if record("ticket", response, ok=(201,)):
                with lock:
                    tokens.append(response.json()["status_url"].rsplit("/", 1)[1])
            time.sleep(rng.uniform(0.05, 0.2))

    def finance_officer(person: Staff, rng: random.Random):
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            response = person.post("/funding/contributions/new", data={
                "csrf_token": person.token, "sponsor_id": str(ctx["sponsor_id"]), "event_id": str(ctx["event_id"]),
                "form": "cash", "status": "received", "value": str(100_000 * rng.randint(1, 50)),
                "description": "Sumbangan uji bersama", "pledged_on": today_wib().isoformat(),
                "received_on": today_wib().isoformat(), "receipt_number": f"KW/UJI/{id(person) % 997}/{n}"})
            record("contribution", response, ok=(303,))
            time.sleep(rng.uniform(0.3, 0.8))

    def coordinator_worker(person: Staff, rng: random.Random):
        n = 0
        while time.monotonic() < stop_at:
            n += 1
            text = f"Pengumuman {n}: loket bersama buka sampai malam"
            if record("running_text", person.post(f"/events/{ctx['event_id']}/running-text",
                                                  data={"csrf_token": person.token, "running_text": text}),
                      ok=(303,)):
                with lock:
                    last_text.append(text)
            desk_id = rng.choice(ctx["desk_ids"])
            record("hours", person.post(f"/events/{ctx['event_id']}/desks/{desk_id}/hours", data={
                "csrf_token": person.token, "opens": "00:30", "closes": rng.choice(["23:00", "23:30"])}),
                ok=(303,))
            time.sleep(rng.uniform(0.3, 0.8))

    def citizens(rng: random.Random):
        http = requests.Session()
        scores = {key: 4 for key in UNSUR_KEYS}
        answered: set[str] = set()
        while time.monotonic() < stop_at:
            with lock:
                waiting = [t for t in tokens if t not in answered]
            for token in waiting[:5]:
                response = http.post(f"{base}/api/v1/visits/{token}/survey", json={"scores": scores}, timeout=60)
                if record("survey", response, ok=(201,), refused=not_served_yet):
                    answered.add(token)
            time.sleep(rng.uniform(0.3, 0.8))

    rng = random.Random(2026)
    workers = [threading.Thread(target=desk, args=(o, d, random.Random(rng.random())))
               for o, d in zip(officers, ctx["desk_ids"])]
    workers += [threading.Thread(target=desk_reception, args=(r, random.Random(rng.random()))) for r in reception]
    workers += [threading.Thread(target=finance_officer, args=(finance, random.Random(rng.random()))),
                threading.Thread(target=coordinator_worker, args=(coordinator, random.Random(rng.random()))),
                threading.Thread(target=citizens, args=(random.Random(rng.random()),))]
    for t in workers:
        t.start()
    for t in workers:
        t.join(SECONDS + 120)
    assert not any(t.is_alive() for t in workers)
    assert failures == [], failures[:20]
    if processes == 1:
        assert set(served_by) == {"1"}, served_by  # gunicorn with one worker (botram serve --processes 1)
    else:
        # The staff's browsers keep their connections open, and a quiet machine may let one worker accept them
        # all; new connections at once show that the other worker answers too.
        assert set(served_by) <= {"1", "2"}, served_by
        assert _workers_answering(base) == {"1", "2"}, f"both worker processes must answer: {served_by}"
    # every kind of write happened, many times
    for kind in ("ticket", "call", "finish", "contribution", "running_text", "hours", "survey"):
        assert done[kind] >= 3, (kind, done)
    _check(live_server.database_url, instance, ctx, done, last_text[-1] if last_text else None)
