"""Queue rules (docs/queue-domain.md): ordering, fairness, one desk at a time, recall, no-show, transfer,
finish and issue validation, versions and audit."""
from __future__ import annotations

import dataclasses
import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from botram.domain import Conflict, DomainError, NotFound
from botram.domain import queue as q
from botram.extensions import db
from botram.models import AuditLog, Desk, Event, Step, Visit
from botram.domain.queue_rules import QueueRules, current_rules

from .conftest import count
from .factories import make_desk, make_event, make_user, service

NO_WAIT = QueueRules.defaults(no_show_min_seconds=0)  # these tests mark a no-show straight after the call
GOOD_NIK = "3216014501900001"


class Setup:
    """An open event with desk 1 (Disdukcapil: KTP-REKAM, KK), desk 2 (Bapenda: PBB-BAYAR, PBB-MUTASI),
    desk 3 (Disdukcapil: KTP-REKAM), and a receptionist and two officers."""

    def __init__(self):
        self.event = make_event()
        self.desk1 = make_desk(self.event, 1, "DISDUKCAPIL", ["KTP-REKAM", "KK"])
        self.desk2 = make_desk(self.event, 2, "BAPENDA", ["PBB-BAYAR", "PBB-MUTASI"])
        self.desk3 = make_desk(self.event, 3, "DISDUKCAPIL", ["KTP-REKAM"])
        self.reception = make_user("resepsionis")
        self.officer = make_user("petugas", "petugas1")
        self.officer2 = make_user("petugas", "petugas2", agency_code="BAPENDA")
        self.ids = {code: service(code).id for code in ("KTP-REKAM", "KK", "PBB-BAYAR", "PBB-MUTASI", "DTKS")}
        self.event_id, self.d1, self.d2, self.d3 = self.event.id, self.desk1.id, self.desk2.id, self.desk3.id
        self.rid, self.oid, self.oid2 = self.reception.id, self.officer.id, self.officer2.id

    def issue(self, *codes, **kwargs):
        kwargs.setdefault("by_user_id", self.rid)
        return q.issue_visit(self.event_id, [self.ids[c] for c in codes], **kwargs).visit

    def call(self, desk_id=None, **kwargs):
        return q.call_next(desk_id or self.d1, by_user_id=self.oid, **kwargs)

    def done(self, step, **kwargs):
        kwargs.setdefault("outcome", "done")
        return q.finish(step.id, by_user_id=self.oid, **kwargs)


@pytest.fixture
def s(app):
    return Setup()


def version(event_id):
    return db.session.scalar(sa.select(Event.queue_version).where(Event.id == event_id))


# ----------------------------------------------------------------------------------------------- issuing


def test_issue_visit_builds_steps_codes_and_token(s):
    issued = q.issue_visit(s.event_id, [s.ids["KTP-REKAM"], s.ids["PBB-BAYAR"], s.ids["KTP-REKAM"]],
                           priority="lansia", name="  Siti Aminah ", nik="3216 0145 0190 0001",
                           phone="+62 812 3456 7890", by_user_id=s.rid)
    visit = issued.visit
    assert issued.warnings == []
    assert visit.code == "A-001" and visit.letter == "A" and visit.seq == 1
    assert visit.name == "Siti Aminah" and visit.nik == GOOD_NIK and visit.phone == "+6281234567890"
    assert len(visit.public_token) == 43 and visit.priority == "lansia"
    assert [(st.service_id, st.position, st.status, st.priority_rank) for st in visit.steps] == [
        (s.ids["KTP-REKAM"], 0, "waiting", 0), (s.ids["PBB-BAYAR"], 1, "waiting", 0)]
    assert all(st.event_id == s.event_id and st.arrived_at == visit.created_at for st in visit.steps)
    assert visit.created_by_id == s.rid
    assert s.issue("KK").code == "A-002"
    assert s.issue("PBB-BAYAR", "KK").code == "B-001"
    assert s.issue("KTP-REKAM").code == "A-003"


@pytest.mark.parametrize("kwargs, field, fragment", [
    ({"service_ids": []}, "services", "minimal satu layanan"),
    ({"service_ids": [999999]}, "services", "tidak tersedia di acara ini"),
    ({"service_ids": ["abc"]}, "services", "tidak dikenal"),
    ({"service_ids": ["DTKS"]}, "services", "tidak tersedia di acara ini"),  # catalogued, no desk offers it
    ({"priority": "vip"}, "priority", "prioritas tidak dikenal"),
    ({"name": "x" * 121}, "name", "120 karakter"),
    ({"phone": "12345"}, "phone", "Nomor telepon tidak valid"),
    ({"phone": "0812-abc"}, "phone", "Nomor telepon tidak valid"),
    ({"nik": "321601450190"}, "nik", "NIK tidak valid. NIK harus terdiri dari 16 digit angka."),
    ({"nik": "3216019913900001"}, "nik", "Tanggal lahir di NIK tidak valid"),
])
def test_issue_visit_refuses_bad_input_and_saves_nothing(s, kwargs, field, fragment):
    args = {"service_ids": [s.ids["KTP-REKAM"]], "by_user_id": s.rid}
    args.update(kwargs)
    if args["service_ids"] == ["DTKS"]:
        args["service_ids"] = [s.ids["DTKS"]]
    before = version(s.event_id)
    with pytest.raises(DomainError) as exc:
        q.issue_visit(s.event_id, args.pop("service_ids"), **args)
    assert exc.value.field == field and exc.value.status == 422
    assert fragment in exc.value.message
    assert count(Visit) == 0 and count(Step) == 0 and count(AuditLog, AuditLog.action == "visit.issue") == 0
    assert version(s.event_id) == before


def test_issue_visit_needs_an_open_event(s):
    with pytest.raises(NotFound):
        q.issue_visit(999999, [s.ids["KK"]], by_user_id=s.rid)
    for status in ("draft", "closed"):
        s.event.status = status
        db.session.commit()
        with pytest.raises(DomainError) as exc:
            s.issue("KK")
        assert exc.value.status == 422 and "dibuka" in exc.value.message
    assert count(Visit) == 0


def test_nik_outside_regency_only_warns(s):
    issued = q.issue_visit(s.event_id, [s.ids["KK"]], nik="3171014501900001", by_user_id=s.rid)
    assert issued.visit.id is not None
    assert any("di luar Kabupaten Bekasi" in w for w in issued.warnings)


def test_nik_cap_counts_active_tickets_only(s):
    first = s.issue("KK", nik=GOOD_NIK)
    s.issue("KTP-REKAM", nik=GOOD_NIK)
    with pytest.raises(DomainError) as exc:
        s.issue("PBB-BAYAR", nik=GOOD_NIK)
    assert exc.value.field == "nik" and "2 tiket aktif" in exc.value.message
    assert count(Visit) == 2
    # A different cap, and a ticket that is finished no longer counts.
    assert s.issue("PBB-BAYAR", nik=GOOD_NIK, rules=dataclasses.replace(current_rules(), max_tickets_per_nik=3)).code == "B-001"
    q.cancel_visit(first.id, by_user_id=s.rid)
    with pytest.raises(DomainError):
        s.issue("PBB-MUTASI", nik=GOOD_NIK)  # still 2 active (the second and the third)
    assert s.issue("PBB-MUTASI", nik="3216014501900002").code == "B-002"


def test_concurrent_reception_desks_never_clash(app, s):
    errors, codes = [], []
    lock = threading.Lock()

    def reception(n):
        with app.app_context():
            try:
                for _ in range(5):
                    visit = q.issue_visit(s.event_id, [s.ids["KTP-REKAM"]], by_user_id=s.rid).visit
                    with lock:
                        codes.append(visit.code)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=reception, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.session.rollback()  # end this thread's read snapshot
    assert errors == []
    assert sorted(codes) == [f"A-{n:03d}" for n in range(1, 81)]
    assert count(Visit) == 80 and version(s.event_id) == 80


# ------------------------------------------------------------------------------------------------ calling


def test_order_is_priority_then_arrival(s):
    regular1 = s.issue("KTP-REKAM")
    elderly = s.issue("KTP-REKAM", priority="lansia")
    regular2 = s.issue("KK")
    pregnant = s.issue("KK", priority="hamil")
    order = []
    for _ in range(4):
        step = s.call()
        order.append(step.visit_id)
        s.done(step)
    assert order == [elderly.id, pregnant.id, regular1.id, regular2.id]
    assert s.call() is None


@pytest.mark.parametrize("cap", [1, 2, 3])
def test_fairness_cap_takes_the_oldest_regular_after_k_priority_calls(s, cap):
    regulars = [s.issue("KTP-REKAM") for _ in range(3)]
    priorities = [s.issue("KTP-REKAM", priority="disabilitas") for _ in range(3 * cap)]
    order = []
    while (step := s.call(rules=dataclasses.replace(current_rules(), priority_cap=cap))) is not None:
        order.append(step.visit_id)
        s.done(step)
    expected = []
    for i in range(3):
        expected += [v.id for v in priorities[i * cap:(i + 1) * cap]] + [regulars[i].id]
    assert order == expected


def test_fairness_cap_default_is_three_and_priority_continues_without_regulars(s):
    priorities = [s.issue("KK", priority="lansia") for _ in range(5)]
    order = []
    while (step := s.call()) is not None:
        order.append(step.visit_id)
        s.done(step)
    assert order == [v.id for v in priorities]
    assert db.session.get(Desk, s.d1).priority_streak == 5


def test_a_visit_is_never_called_at_two_desks(s):
    both = s.issue("KTP-REKAM", "PBB-BAYAR")
    later = s.issue("PBB-BAYAR")
    at_a = s.call(s.d1)
    assert at_a.visit_id == both.id
    assert db.session.get(Visit, both.id).busy_desk_id == s.d1
    rows = q.waiting_for_desk(s.d2)
    assert [(r.visit_code, r.busy, r.other_services) for r in rows] == [
        (both.code, True, ["KTP-REKAM"]), (later.code, False, [])]
    at_b = q.call_next(s.d2, by_user_id=s.oid2)
    assert at_b.visit_id == later.id  # the busy visit is skipped ...
    q.finish(at_b.id, outcome="done", by_user_id=s.oid2)
    assert q.call_next(s.d2, by_user_id=s.oid2) is None  # ... and only it is left, still busy
    s.done(at_a)
    again = q.call_next(s.d2, by_user_id=s.oid2)
    assert again.visit_id == both.id and again.service_id == s.ids["PBB-BAYAR"]  # it kept its place


def test_call_next_desk_rules(s):
    s.issue("KK")
    s.issue("KK")
    step = s.call()
    with pytest.raises(Conflict):
        s.call()
    assert q.desk_current(s.d1).id == step.id
    paused = q.set_desk_state(s.d1, "paused", by_user_id=s.oid)  # pausing with a visitor is allowed
    assert paused.state == "paused"
    with pytest.raises(Conflict):
        q.set_desk_state(s.d1, "closed", by_user_id=s.oid)
    s.done(step)
    with pytest.raises(DomainError) as exc:
        s.call()
    assert "dijeda" in exc.value.message
    q.set_desk_state(s.d1, "closed", by_user_id=s.oid)
    with pytest.raises(DomainError):
        q.set_desk_state(s.d1, "rusak", by_user_id=s.oid)
    q.set_desk_state(s.d1, "open", by_user_id=s.oid)
    assert s.call() is not None
    with pytest.raises(NotFound):
        q.call_next(999999, by_user_id=s.oid)
    s.event.status = "closed"
    db.session.commit()
    with pytest.raises(DomainError):
        s.call(s.d3)
    assert count(Step, Step.status == "called") == 1


def test_desk_without_eligible_visitors_gets_none(s):
    s.issue("PBB-BAYAR")
    assert s.call(s.d1) is None
    assert count(AuditLog, AuditLog.action == "step.call") == 0


# --------------------------------------------------------------------------------- recall, start, finish


def test_recall_limit(s):
    s.issue("KK")
    step = s.call()
    for n in (1, 2, 3):
        assert q.recall(step.id, by_user_id=s.oid).recall_count == n
    with pytest.raises(DomainError) as exc:
        q.recall(step.id, by_user_id=s.oid)
    assert "sudah dipanggil 3 kali; tandai tidak hadir" in exc.value.message
    assert q.recall(step.id, by_user_id=s.oid, rules=dataclasses.replace(current_rules(), max_recalls=4)).recall_count == 4
    q.start(step.id, by_user_id=s.oid)
    with pytest.raises(Conflict):
        q.recall(step.id, by_user_id=s.oid, rules=dataclasses.replace(current_rules(), max_recalls=9))
    # each accepted recall is one audit entry naming the step, its desk and the count reached
    entries = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "step.recall")
                                 .order_by(AuditLog.id)).all()
    assert [(e.entity, e.entity_id, e.user_id, e.event_id) for e in entries] == [("step", step.id, s.oid, s.event_id)] * 4
    assert [(e.detail["desk_id"], e.detail["recall_count"]) for e in entries] == [(s.d1, n) for n in (1, 2, 3, 4)]


def test_start_then_finish_records_the_service(s):
    visit = s.issue("PBB-BAYAR")
    step = q.call_next(s.d2, by_user_id=s.oid2)
    started = q.start(step.id, by_user_id=s.oid2)
    assert started.status == "serving" and started.started_at is not None
    with pytest.raises(Conflict):
        q.start(step.id, by_user_id=s.oid2)
    reqs = [r.id for r in service("PBB-BAYAR").requirements]
    done = q.finish(step.id, outcome="incomplete", by_user_id=s.oid2, requirements_presented=reqs[:1],
                    amount=1_250_000, note="  SPPT tahun lalu belum dibawa ")
    assert (done.status, done.outcome, done.amount, done.requirements_presented, done.note) == (
        "done", "incomplete", 1_250_000, reqs[:1], "SPPT tahun lalu belum dibawa")
    assert done.finished_at >= done.started_at >= done.called_at
    assert db.session.get(Visit, visit.id).busy_desk_id is None
    assert q.desk_current(s.d2) is None
    with pytest.raises(Conflict):
        q.finish(step.id, outcome="done", by_user_id=s.oid2)


@pytest.mark.parametrize("kwargs, field, fragment", [
    ({"outcome": "selesai"}, "outcome", "Pilih hasil layanan"),
    ({"outcome": ""}, "outcome", "Pilih hasil layanan"),
    ({"requirements_presented": "OTHER"}, "requirements", "bukan milik layanan ini"),
    ({"requirements_presented": [999999]}, "requirements", "bukan milik layanan ini"),
    ({"requirements_presented": ["x"]}, "requirements", "tidak dikenal"),
    ({"amount": 5000}, "amount", "tidak mencatat nominal"),
    ({"note": "n" * 1001}, "note", "1000 karakter"),
])
def test_finish_validation_on_a_service_without_amount(s, kwargs, field, fragment):
    s.issue("KK")
    step = s.call()
    if kwargs.get("requirements_presented") == "OTHER":
        kwargs["requirements_presented"] = [service("PBB-BAYAR").requirements[0].id]
    kwargs.setdefault("outcome", "done")
    with pytest.raises(DomainError) as exc:
        q.finish(step.id, by_user_id=s.oid, **kwargs)
    assert exc.value.field == field and fragment in exc.value.message
    assert db.session.get(Step, step.id).status == "called"
    assert count(AuditLog, AuditLog.action == "step.finish") == 0


@pytest.mark.parametrize("amount, ok", [(-1, False), (100_000_000_001, False), (10**30, False), (12.5, False),
                                        ("abc", False), (True, False), (0, True), (100_000_000_000, True),
                                        ("150000", True), (None, True)])
def test_finish_amount_bounds(s, amount, ok):
    s.issue("PBB-BAYAR")
    step = q.call_next(s.d2, by_user_id=s.oid2)
    if ok:
        done = q.finish(step.id, outcome="done", by_user_id=s.oid2, amount=amount)
        assert done.amount == (None if amount is None else int(amount))
    else:
        with pytest.raises(DomainError) as exc:
            q.finish(step.id, outcome="done", by_user_id=s.oid2, amount=amount)
        assert exc.value.field == "amount"
        assert db.session.get(Step, step.id).amount is None


def test_unknown_step_is_not_found(s):
    for action in (lambda: q.recall(999999, by_user_id=s.oid), lambda: q.start(999999, by_user_id=s.oid),
                   lambda: q.finish(999999, outcome="done", by_user_id=s.oid),
                   lambda: q.no_show(999999, by_user_id=s.oid),
                   lambda: q.transfer(999999, s.ids["KK"], by_user_id=s.oid),
                   lambda: q.restore_step(999999, by_user_id=s.rid),
                   lambda: q.cancel_visit(999999, by_user_id=s.rid),
                   lambda: q.set_desk_state(999999, "open", by_user_id=s.oid)):
        with pytest.raises(NotFound):
            action()


# ----------------------------------------------------------------------------------------- no-show, restore


def _backdate(step_id, minutes):
    step = db.session.get(Step, step_id)
    step.arrived_at = step.arrived_at - timedelta(minutes=minutes)
    db.session.commit()


def test_no_show_and_restore_keeps_the_place_when_not_expired(s):
    first = s.issue("KK")
    second = s.issue("KK")
    step = s.call()
    assert step.visit_id == first.id
    with pytest.raises(Conflict):
        q.restore_step(step.id, by_user_id=s.rid)
    arrived = step.arrived_at
    gone = q.no_show(step.id, by_user_id=s.oid, rules=NO_WAIT)
    assert gone.status == "no_show" and gone.finished_at is not None
    assert db.session.get(Visit, first.id).busy_desk_id is None
    with pytest.raises(Conflict):
        q.no_show(step.id, by_user_id=s.oid, rules=NO_WAIT)
    back = q.restore_step(step.id, by_user_id=s.rid)
    assert back.status == "waiting" and back.arrived_at == arrived and back.desk_id is None
    assert back.recall_count == 0 and back.called_at is None
    assert s.call().visit_id == first.id  # back in its original place, ahead of the second
    assert second.id


def test_restore_after_max_recalls_joins_the_end(s):
    first = s.issue("KK")
    second = s.issue("KK")
    step = s.call()
    for _ in range(3):
        q.recall(step.id, by_user_id=s.oid)
    arrived = step.arrived_at
    q.no_show(step.id, by_user_id=s.oid, rules=NO_WAIT)
    back = q.restore_step(step.id, by_user_id=s.rid)
    assert back.arrived_at > arrived
    assert s.call().visit_id == second.id
    assert first.id


def test_restore_after_later_numbers_were_called_joins_the_end(s):
    absent = s.issue("KK")
    others = [s.issue("KK") for _ in range(3)]
    step = s.call()
    arrived = step.arrived_at
    q.no_show(step.id, by_user_id=s.oid, rules=NO_WAIT)
    for _ in range(2):
        s.done(s.call())
    assert not q.is_expired(db.session.get(Step, step.id), rules=dataclasses.replace(current_rules(), no_show_after=3))
    assert q.is_expired(db.session.get(Step, step.id), rules=dataclasses.replace(current_rules(), no_show_after=2))
    back = q.restore_step(step.id, by_user_id=s.rid, rules=dataclasses.replace(current_rules(), no_show_after=2))
    assert back.arrived_at > arrived
    assert s.call().visit_id == others[2].id
    assert absent.id


# ------------------------------------------------------------------------------------------------- transfer


def test_transfer_keeps_arrival_and_priority(s):
    early = s.issue("KTP-REKAM", priority="hamil")
    _backdate(early.steps[0].id, 30)
    waiting_at_kk = s.issue("KK")  # arrived after `early`
    step = q.call_next(s.d3, by_user_id=s.oid)
    assert step.visit_id == early.id
    new = q.transfer(step.id, s.ids["KK"], by_user_id=s.oid, note="Perlu perubahan KK dulu")
    old = db.session.get(Step, step.id)
    assert old.status == "transferred" and old.note == "Perlu perubahan KK dulu" and old.finished_at
    assert new.status == "waiting" and new.service_id == s.ids["KK"] and new.transferred_from_id == old.id
    assert new.arrived_at == old.arrived_at and new.priority_rank == 0 and new.position == 1
    assert db.session.get(Visit, early.id).busy_desk_id is None
    assert s.call(s.d1).visit_id == early.id  # ahead of the later arrival at KK
    assert waiting_at_kk.id


@pytest.mark.parametrize("target, fragment", [("KTP-REKAM", "berbeda"), ("DTKS", "tidak tersedia"),
                                              ("PBB-BAYAR", "sudah ada dalam antrean"), ("x", "tidak dikenal")])
def test_transfer_validation(s, target, fragment):
    s.issue("KTP-REKAM", "PBB-BAYAR")
    step = s.call()
    with pytest.raises(DomainError) as exc:
        q.transfer(step.id, s.ids.get(target, target), by_user_id=s.oid)
    assert exc.value.field == "service" and fragment in exc.value.message
    assert db.session.get(Step, step.id).status == "called" and count(Step) == 2


def test_transfer_of_a_waiting_step_is_refused(s):
    visit = s.issue("KK")
    with pytest.raises(Conflict):
        q.transfer(visit.steps[0].id, s.ids["KTP-REKAM"], by_user_id=s.oid)


def test_cancel_visit_cancels_live_steps_and_frees_the_desk(s):
    visit = s.issue("KTP-REKAM", "PBB-BAYAR")
    step = s.call()
    q.cancel_visit(visit.id, by_user_id=s.rid)
    assert {st.status for st in db.session.get(Visit, visit.id).steps} == {"cancelled"}
    assert db.session.get(Visit, visit.id).busy_desk_id is None and q.desk_current(s.d1) is None
    with pytest.raises(Conflict):
        q.cancel_visit(visit.id, by_user_id=s.rid)
    assert step.id


# ------------------------------------------------------------------------------------- versions and audit


def test_every_change_bumps_the_version_and_is_audited_without_personal_data(s):
    actions = []

    def bumped(fn, action, user):
        before = version(s.event_id)
        started = datetime.now(timezone.utc)
        result = fn()
        ended = datetime.now(timezone.utc)
        assert version(s.event_id) == before + 1, action
        entry = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id.desc())).first()
        assert entry.action == action and entry.user_id == user and entry.event_id == s.event_id
        assert started <= entry.at <= ended, (action, started, entry.at, ended)
        actions.append(entry)
        return result

    visit = bumped(lambda: q.issue_visit(s.event_id, [s.ids["KK"], s.ids["PBB-BAYAR"]], name="Budi Santoso",
                                         nik=GOOD_NIK, phone="081234567890", by_user_id=s.rid).visit,
                   "visit.issue", s.rid)
    step = bumped(lambda: s.call(), "step.call", s.oid)
    bumped(lambda: q.recall(step.id, by_user_id=s.oid), "step.recall", s.oid)
    bumped(lambda: q.start(step.id, by_user_id=s.oid), "step.start", s.oid)
    new = bumped(lambda: q.transfer(step.id, s.ids["KTP-REKAM"], by_user_id=s.oid), "step.transfer", s.oid)
    step = bumped(lambda: s.call(), "step.call", s.oid)
    assert step.id == new.id
    bumped(lambda: q.no_show(step.id, by_user_id=s.oid, rules=NO_WAIT), "step.no_show", s.oid)
    bumped(lambda: q.restore_step(step.id, by_user_id=s.rid), "step.restore", s.rid)
    step = bumped(lambda: s.call(), "step.call", s.oid)
    bumped(lambda: s.done(step), "step.finish", s.oid)
    bumped(lambda: q.set_desk_state(s.d1, "paused", by_user_id=s.oid), "desk.state", s.oid)
    bumped(lambda: q.cancel_visit(visit.id, by_user_id=s.rid), "visit.cancel", s.rid)
    for entry in actions:
        text = repr(entry.detail)
        assert "Budi" not in text and GOOD_NIK not in text and "0812" not in text and "3456" not in text


# ------------------------------------------------------------------------------------------------ reading


def test_people_ahead_and_estimates_use_measured_times(s):
    visits = [s.issue("KTP-REKAM") for _ in range(4)]
    target = service("KTP-REKAM").target_minutes
    last = visits[3].steps[0].id
    assert q.people_ahead(last) == 3
    # Two open desks offer KTP-REKAM (1 and 3): 3 ahead × target ÷ 2, rounded up.
    assert q.estimated_wait_minutes(last) == -(-3 * target // 2)
    assert q.estimated_wait_minutes(visits[0].steps[0].id) == 0
    assert q.service_times_today(s.event_id) == {}
    step = s.call()
    db.session.get(Step, step.id).called_at = db.session.get(Step, step.id).called_at - timedelta(minutes=20)
    db.session.commit()
    s.done(step)
    means = q.service_times_today(s.event_id)
    assert means[s.ids["KTP-REKAM"]] == pytest.approx(20, abs=0.1)
    assert q.people_ahead(last) == 2
    assert q.estimated_wait_minutes(last) == 20  # 2 × 20 ÷ 2
    q.set_desk_state(s.d3, "closed", by_user_id=s.oid)
    assert q.estimated_wait_minutes(last) == 40
    q.set_desk_state(s.d1, "paused", by_user_id=s.oid)
    assert q.estimated_wait_minutes(last) is None  # no open desk offers it
    assert q.estimated_wait_minutes(step.id) is None and q.people_ahead(step.id) == 0
    with pytest.raises(NotFound):
        q.people_ahead(999999)


def test_visit_status_is_public_safe(s):
    visit = s.issue("KTP-REKAM", "PBB-BAYAR", name="Budi Santoso", nik=GOOD_NIK, phone="081234567890")
    s.issue("PBB-BAYAR")
    s.call()
    status = q.visit_status(visit.public_token)
    assert status.code == visit.code and status.event_title == s.event.title and not status.finished
    rekam, pbb = status.steps
    assert (rekam.status, rekam.desk_number, rekam.people_ahead, rekam.estimated_minutes) == ("called", 1, 0, None)
    assert rekam.desk_label == "Loket 1 Disdukcapil"
    assert (pbb.status, pbb.desk_number, pbb.people_ahead, pbb.estimated_minutes) == ("waiting", None, 0, 0)
    text = repr(status)
    assert "Budi" not in text and GOOD_NIK not in text and "0812" not in text
    assert q.visit_status("tidak-ada") is None and q.visit_status("") is None


def test_waiting_for_desk_order_and_minutes(s):
    a = s.issue("KK")
    b = s.issue("KTP-REKAM", priority="lansia")
    _backdate(a.steps[0].id, 12)
    rows = q.waiting_for_desk(s.d1)
    assert [r.visit_code for r in rows] == [b.code, a.code]
    assert rows[1].waited_minutes == 12 and rows[0].priority == "lansia" and rows[1].service_code == "KK"
    assert len(q.waiting_for_desk(s.d1, limit=1)) == 1


# ------------------------------------------------------------------------------- no-show wait, reopen


def _backdate_call(step_id, seconds):
    step = db.session.get(Step, step_id)
    step.called_at = step.called_at - timedelta(seconds=seconds)
    db.session.commit()


def test_no_show_needs_the_recalls_or_the_minimum_time_since_the_call(s):
    s.issue("KK")
    step = s.call()
    rules = QueueRules.defaults(max_recalls=2, no_show_min_seconds=60)
    with pytest.raises(Conflict) as refused:
        q.no_show(step.id, by_user_id=s.oid, rules=rules)
    assert "panggil ulang 2 kali lagi" in str(refused.value.message) and "60 detik" in str(refused.value.message)
    q.recall(step.id, by_user_id=s.oid, rules=rules)
    _backdate_call(step.id, 45)  # 45 s after the (re)call: one recall and 15 s remain
    with pytest.raises(Conflict) as refused:
        q.no_show(step.id, by_user_id=s.oid, rules=rules)
    assert "1 kali lagi" in str(refused.value.message) and "15 detik" in str(refused.value.message)
    assert db.session.get(Step, step.id).status == "called"
    _backdate_call(step.id, 15)  # the minute has passed without the second recall: accepted
    assert q.no_show(step.id, by_user_id=s.oid, rules=rules).status == "no_show"


def test_no_show_right_after_the_last_recall_is_accepted(s):
    s.issue("KK")
    step = s.call()
    rules = QueueRules.defaults(max_recalls=2, no_show_min_seconds=600)
    for _ in range(2):
        q.recall(step.id, by_user_id=s.oid, rules=rules)
    assert q.no_show_wait(db.session.get(Step, step.id), rules=rules) == (0, 0)
    assert q.no_show(step.id, by_user_id=s.oid, rules=rules).status == "no_show"


def test_reopen_a_finished_step_puts_it_back_at_its_original_arrival(s):
    first = s.issue("KK")
    second = s.issue("KK")
    step = s.call()
    arrived = step.arrived_at
    s.done(step, outcome="incomplete", requirements_presented=[], note="kurang KK")
    before = version(s.event_id)
    back = q.reopen_step(step.id, reason="salah tekan S", by_user_id=s.oid, desk_id=s.d1)
    assert back.status == "waiting" and back.arrived_at == arrived and back.outcome is None
    assert back.desk_id is None and back.finished_at is None and back.called_at is None
    assert back.note == "kurang KK"  # what the officer entered stays, to correct at the next call
    assert version(s.event_id) == before + 1
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "step.reopen"))
    assert entry.user_id == s.oid and entry.detail["reason"] == "salah tekan S"
    assert entry.detail["before"]["status"] == "done" and entry.detail["before"]["outcome"] == "incomplete"
    assert entry.detail["desk_id"] == s.d1 and entry.detail["by_desk"] == s.d1
    assert s.call().visit_id == first.id  # ahead of the second, who arrived later
    assert second.id


def test_reopen_rules_reason_state_desk_and_day(s):
    s.issue("KK")
    step = s.call()
    with pytest.raises(Conflict):  # still called: nothing to reopen
        q.reopen_step(step.id, reason="alasan", by_user_id=s.oid)
    q.no_show(step.id, by_user_id=s.oid, rules=NO_WAIT)
    with pytest.raises(DomainError) as bad:
        q.reopen_step(step.id, reason="  x ", by_user_id=s.oid, desk_id=s.d1)
    assert bad.value.field == "reason"
    with pytest.raises(Conflict):  # another desk did not close it
        q.reopen_step(step.id, reason="salah loket", by_user_id=s.oid, desk_id=s.d3)
    closed = db.session.get(Step, step.id)
    closed.finished_at = closed.finished_at - timedelta(days=1)
    db.session.commit()
    with pytest.raises(Conflict):  # yesterday's: the desk no longer, reception still
        q.reopen_step(step.id, reason="kemarin", by_user_id=s.oid, desk_id=s.d1)
    assert q.reopen_step(step.id, reason="warga kembali, NIK 3216014501900001", by_user_id=s.rid).status == "waiting"
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "step.reopen"))
    assert GOOD_NIK not in repr(entry.detail)  # a NIK typed into the reason never reaches the log
    with pytest.raises(NotFound):
        q.reopen_step(999999, reason="alasan", by_user_id=s.rid)


def test_reopen_a_transfer_takes_it_back_while_the_new_step_waits(s):
    visit = s.issue("KK")
    step = s.call()
    new = q.transfer(step.id, s.ids["PBB-BAYAR"], by_user_id=s.oid)
    back = q.reopen_step(step.id, reason="salah alihkan", by_user_id=s.oid, desk_id=s.d1)
    assert back.status == "waiting"
    assert db.session.get(Step, new.id).status == "cancelled"
    assert s.call(s.d2) is None  # nothing waits at Bapenda any more
    # transferred again, and this time the target desk already called it: no taking back
    step = s.call()
    assert step.visit_id == visit.id
    new = q.transfer(step.id, s.ids["PBB-BAYAR"], by_user_id=s.oid)
    assert q.call_next(s.d2, by_user_id=s.oid2).id == new.id
    with pytest.raises(Conflict):
        q.reopen_step(step.id, reason="salah alihkan", by_user_id=s.rid)


def test_reopen_of_a_transfer_audits_the_step_and_the_one_it_cancelled(s):
    s.issue("KK")
    step = s.call()
    finished = db.session.get(Step, step.id).called_at
    new = q.transfer(step.id, s.ids["PBB-BAYAR"], by_user_id=s.oid)
    q.reopen_step(step.id, reason="salah alihkan", by_user_id=s.oid, desk_id=s.d1)
    db.session.expire_all()
    cancelled = db.session.get(Step, new.id)
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    assert cancelled.finished_at >= finished  # cancelled now, not left open-ended
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "step.reopen"))
    assert (entry.entity, entry.entity_id, entry.event_id) == ("step", step.id, s.event_id)
    assert entry.detail["cancelled_step"] == new.id and entry.detail["visit_id"] == step.visit_id
    assert set(entry.detail["before"]) == {"status", "outcome", "desk_id", "finished_at"}
    assert entry.detail["before"]["status"] == "transferred" and entry.detail["before"]["desk_id"] == s.d1
    assert entry.detail["before"]["finished_at"] is not None


def test_reopen_refused_while_the_visitor_already_waits_again_for_that_service(s):
    """Done at desk 1 for KK; Bapenda then sends the same visitor back to KK: reopening the first KK step would
    queue them twice for one service."""
    s.issue("KK", "PBB-BAYAR")
    kk = s.done(s.call())
    pbb = q.call_next(s.d2, by_user_id=s.oid2)
    again = q.transfer(pbb.id, s.ids["KK"], by_user_id=s.oid2)
    assert again.visit_id == kk.visit_id and again.status == "waiting"
    with pytest.raises(Conflict, match="sudah ada lagi"):
        q.reopen_step(kk.id, reason="salah tekan S", by_user_id=s.rid)
    assert db.session.get(Step, kk.id).status == "done"
    # its own other closed steps do not count: a visit's finished KK step beside this one is no duplicate
    q.finish(q.call_next(s.d1, by_user_id=s.oid).id, by_user_id=s.oid, outcome="done")
    s.issue("KK")  # and another visitor waiting for KK is not this visitor waiting twice
    assert q.reopen_step(kk.id, reason="salah tekan S", by_user_id=s.rid).status == "waiting"


def test_reopen_refused_when_the_event_is_not_open(s):
    s.issue("KK")
    step = s.done(s.call())
    event = db.session.get(Event, s.event_id)
    event.status = "closed"
    db.session.commit()
    with pytest.raises(Conflict):
        q.reopen_step(step.id, reason="terlambat", by_user_id=s.rid)


def test_closed_today_lists_this_desks_closed_steps_latest_first(s):
    for _ in range(3):
        s.issue("KK")
    a = s.done(s.call())
    b = s.call()
    q.no_show(b.id, by_user_id=s.oid, rules=NO_WAIT)
    s.issue("KTP-REKAM")
    c = s.done(s.call(s.d3))
    assert [x.id for x in q.closed_today(s.d1)] == [b.id, a.id]
    assert [x.id for x in q.closed_today(s.d3)] == [c.id]


def test_closed_today_starts_at_midnight_wib_keeps_the_latest_thirty_and_only_what_may_reopen(s):
    """The day's edge, the statuses, the tie-break and the limit of the reopen dialog's list."""
    from botram.domain.clock import WIB

    for _ in range(34):
        s.issue("KK")
    closed = [s.done(s.call()) for _ in range(34)]
    day = datetime.combine(s.event.date, datetime.min.time(), tzinfo=WIB)
    at = day.replace(hour=15, minute=30, second=45)
    moments = {
        0: day - timedelta(microseconds=1),        # yesterday's last instant: not today
        1: day,                                    # midnight WIB itself: today
        2: day.replace(minute=30),                 # before 01.00
        3: day.replace(hour=9),                    # earlier today, before the hour of `at`
        4: day.replace(hour=12),                   # a tie on the moment: the higher id first
        5: day.replace(hour=12),
        6: day.replace(hour=13),                   # cancelled (a transfer taken back): not reopenable
    }
    for n, step in enumerate(closed):
        row = db.session.get(Step, step.id)
        row.finished_at = moments.get(n, day.replace(hour=14, minute=n))
        if n == 6:
            row.status = "cancelled"
    db.session.commit()
    listed = [x.id for x in q.closed_today(s.d1, at=at)]
    later = [closed[n].id for n in range(33, 6, -1)]  # 14.33 back to 14.07
    assert listed == later + [closed[5].id, closed[4].id, closed[3].id]  # thirty, the latest first
    everything = [x.id for x in q.closed_today(s.d1, at=at, limit=100)]
    assert everything[-5:] == [closed[5].id, closed[4].id, closed[3].id, closed[2].id, closed[1].id]
    assert closed[0].id not in everything and closed[6].id not in everything
