"""Personal data (UU PDP No. 27/2022): masked NIK outside the serving desk, audited reveals, nothing on the
public surfaces, error pages or logs, and `botram purge-pii` that removes identities but keeps statistics."""
from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from botram.domain import queue, skm
from botram.domain.clock import today_wib
from botram.domain.privacy import parse_age, purge_pii
from botram.domain.stats import event_stats
from botram.extensions import db
from botram.models import AuditLog, Event, Step, SurveyResponse, Visit
from botram.domain.queue_rules import current_rules

from .conftest import count
from .factories import make_desk, make_event, make_user, service

NAME, NIK, PHONE = "Siti Aminah Rahmawati", "3216014512900003", "081234567890"
SECRETS = (NAME, "Aminah", NIK, PHONE, "81234567890", "0812-3456-7890", "+6281234567890", "6281234567890")
SCORES = {key: 3 for key in ("persyaratan", "prosedur", "waktu", "biaya", "produk", "kompetensi", "perilaku",
                             "sarana", "pengaduan")}


def _assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} on {where}"


@pytest.fixture
def served(app):
    """An open event whose desk is serving a visit with a name, NIK and phone (so the board shows it)."""
    users = {role: make_user(role) for role in ("resepsionis", "petugas", "admin", "koordinator")}
    event = make_event()
    desk = make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM"])
    visit = queue.issue_visit(event.id, [service("KTP-REKAM").id], name=NAME, nik=NIK, phone=PHONE,
                              by_user_id=users["resepsionis"].id).visit
    db.session.commit()
    step = queue.call_next(desk.id, by_user_id=users["petugas"].id)
    db.session.commit()
    return dict(event=event, desk=desk, visit=visit, step_id=step.id, users=users)


def test_public_surfaces_never_show_personal_data(client, served):
    event, visit = served["event"], served["visit"]
    for url in (f"/board/{event.id}", f"/board/{event.id}/panel", f"/status/{visit.public_token}",
                f"/survey/{visit.public_token}", "/api/v1/events", f"/api/v1/events/{event.id}/board",
                f"/api/v1/events/{event.id}/desks", f"/api/v1/events/{event.id}/services", "/api/v1/openapi.json",
                f"/status/{visit.public_token}x", "/tidak-ada", "/api/v1/tidak-ada"):
        response = client.get(url)
        assert response.status_code < 500, url
        _assert_clean(response.get_data(as_text=True), url)
    assert visit.code in client.get(f"/board/{event.id}").get_data(as_text=True)  # the board does show the call


def test_staff_pages_outside_the_desk_show_the_nik_masked(client, auth, served):
    event, visit = served["event"], served["visit"]
    auth.login("resepsionis")
    for url in (f"/reception/{event.id}", f"/reception/{event.id}/visits", f"/reception/visits/{visit.id}/ticket"):
        response = client.get(url, headers={"HX-Request": "true"} if url.endswith("/visits") else {})
        assert response.status_code == 200, url
        assert NIK not in response.get_data(as_text=True), url


def test_the_serving_desk_sees_the_nik_only_on_an_audited_reveal(client, auth, served, htmx_headers):
    desk, step_id = served["desk"], served["step_id"]
    auth.login("petugas")
    console = client.get(f"/desk/{desk.id}").get_data(as_text=True)
    assert NIK not in console and "3216" in console  # masked: 3216********0003
    response = client.post(f"/desk/{desk.id}/steps/{step_id}/reveal-nik", headers=htmx_headers)
    assert response.status_code == 200 and NIK in response.get_data(as_text=True)
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "visit.reveal_nik"))
    assert entry.user_id == served["users"]["petugas"].id and entry.entity_id == served["visit"].id
    _assert_clean(str(entry.detail), "the audit log")
    # the reveal is for this one view: the next page load is masked again
    assert NIK not in client.get(f"/desk/{desk.id}").get_data(as_text=True)


def test_audit_log_and_application_log_carry_no_personal_data(app, client, auth, served):
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep(level=logging.DEBUG)
    loggers = [app.logger, logging.getLogger()]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        auth.login("resepsionis")
        event = served["event"]
        client.post(f"/api/v1/events/{event.id}/visits",
                    json={"services": [service("KTP-REKAM").id], "name": NAME, "nik": NIK, "phone": PHONE})
        client.post("/reception/nik", data={"nik": NIK})
        client.get(f"/status/{served['visit'].public_token}")
        client.post(f"/api/v1/events/{event.id}/visits", json={"services": [10**12], "nik": NIK, "name": NAME})
    finally:
        for logger, level in zip(loggers, levels):
            logger.removeHandler(handler)
            logger.setLevel(level)
    _assert_clean("\n".join(records), "the application log")
    for entry in db.session.scalars(sa.select(AuditLog)):
        _assert_clean(str(entry.detail or ""), f"audit {entry.action}")


# ------------------------------------------------------------------------------------------------ purge

def _close_in_the_past(event: Event, days: int) -> None:
    event.status = "closed"
    event.date = today_wib() - timedelta(days=days)
    db.session.commit()


@pytest.fixture
def history(app):
    """Three events: closed 120 days ago, closed 10 days ago, and open today, each with a served visit."""
    users = {role: make_user(role) for role in ("resepsionis", "petugas")}
    events = {}
    for key, title in (("old", "BOTRAM Lama"), ("recent", "BOTRAM Baru"), ("open", "BOTRAM Hari Ini")):
        event = make_event(title)
        desk = make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM", "KK"])
        visit = queue.issue_visit(event.id, [service("KTP-REKAM").id, service("KK").id], name=NAME, nik=NIK,
                                  phone=PHONE, by_user_id=users["resepsionis"].id, rules=dataclasses.replace(current_rules(), max_tickets_per_nik=9)).visit
        db.session.commit()
        step = queue.call_next(desk.id, by_user_id=users["petugas"].id)
        queue.finish(step.id, outcome="done", note=f"Berkas {NAME} lengkap", by_user_id=users["petugas"].id)
        db.session.commit()
        skm.submit_survey(visit.public_token, SCORES, comment="Pelayanan cepat")
        db.session.commit()
        events[key] = event
    _close_in_the_past(events["old"], 120)
    _close_in_the_past(events["recent"], 10)
    return events


def _snapshot(event_id: int) -> dict:
    steps = db.session.execute(sa.select(Step.status, Step.outcome, Step.arrived_at, Step.called_at, Step.finished_at,
                                         Step.service_id).where(Step.event_id == event_id).order_by(Step.id)).all()
    scores = db.session.execute(sa.select(SurveyResponse.persyaratan, SurveyResponse.pengaduan)
                                .where(SurveyResponse.event_id == event_id)).all()
    visits = db.session.execute(sa.select(Visit.code, Visit.priority, Visit.created_at)
                                .where(Visit.event_id == event_id)).all()
    return {"steps": steps, "scores": scores, "visits": visits, "ikm": skm.ikm_for_event(event_id).ikm,
            "stats": {k: v for k, v in event_stats(event_id).items() if k != "generated_at"}}


def test_purge_removes_identities_of_old_closed_events_and_keeps_the_statistics(runner, history):
    old, recent, today = history["old"].id, history["recent"].id, history["open"].id
    before = {key: _snapshot(event.id) for key, event in history.items()}
    result = runner.invoke(args=["purge-pii", "--older-than", "90d"])
    assert result.exit_code == 0, result.output
    assert "1 visits" in result.output and "1 closed events" in result.output
    db.session.expire_all()
    stored_phone = db.session.scalar(sa.select(Visit.phone).where(Visit.event_id == recent))
    assert stored_phone == "+62" + PHONE[1:]  # kept in international form (domain/notify)
    pii = {event_id: db.session.execute(sa.select(Visit.name, Visit.nik, Visit.phone)
                                        .where(Visit.event_id == event_id)).all()
           for event_id in (old, recent, today)}
    assert pii[old] == [(None, None, None)]
    assert pii[recent] == [(NAME, NIK, stored_phone)] and pii[today] == [(NAME, NIK, stored_phone)]
    assert db.session.scalars(sa.select(Step.note).where(Step.event_id == old)).all() == [None, None]
    assert db.session.scalar(sa.select(Step.note).where(Step.event_id == recent, Step.note.is_not(None)))
    for key, event in history.items():
        assert _snapshot(event.id) == before[key], key
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "privacy.purge"))
    assert entry.detail["events"] == [old] and entry.detail["visits"] == 1
    _assert_clean(str(entry.detail), "the purge audit")
    # a second run has nothing left to do
    assert "0 visits" in runner.invoke(args=["purge-pii", "--older-than", "90d"]).output


def test_purge_dry_run_changes_nothing(runner, history):
    result = runner.invoke(args=["purge-pii", "--older-than", "5d", "--dry-run"])
    assert result.exit_code == 0 and "2 visits" in result.output and "2 closed events" in result.output
    assert count(Visit, Visit.nik.is_not(None)) == 3
    assert count(AuditLog, AuditLog.action == "privacy.purge") == 0


def test_purge_never_touches_an_event_that_is_not_closed(history):
    event = history["open"]
    event.date = today_wib() - timedelta(days=400)
    db.session.commit()
    purge_pii(timedelta(days=90))
    db.session.commit()
    assert count(Visit, Visit.event_id == event.id, Visit.nik == NIK) == 1


@pytest.mark.parametrize("text", ["", "90", "abc", "-5d", "90x", "9" * 7, "0d"])
def test_purge_refuses_a_bad_age(runner, history, text):
    result = runner.invoke(args=["purge-pii", "--older-than", text])
    if text == "90":
        assert result.exit_code == 0  # days are the default unit
        return
    assert result.exit_code != 0
    assert count(Visit, Visit.nik.is_not(None)) == 3


@pytest.mark.db_independent
def test_parse_age_units():
    assert parse_age("90d") == timedelta(days=90)
    assert parse_age("13w") == timedelta(weeks=13)
    assert parse_age(" 30 ") == timedelta(days=30)


def test_purge_redacts_numbers_and_addresses_in_old_survey_comments(runner, history):
    comment = f"Cepat. NIK saya {NIK}, hubungi 0812-3456-7890 atau warga.bekasi@example.com. Loket 3 ramah."
    for event in history.values():
        response = db.session.scalar(sa.select(SurveyResponse).where(SurveyResponse.event_id == event.id))
        response.comment = comment
    db.session.commit()
    dry = runner.invoke(args=["purge-pii", "--older-than", "90d", "--dry-run"])
    assert "1 survey comments redacted" in dry.output
    result = runner.invoke(args=["purge-pii", "--older-than", "90d"])
    assert result.exit_code == 0 and "1 survey comments redacted" in result.output
    db.session.expire_all()
    comments = {key: db.session.scalar(sa.select(SurveyResponse.comment).where(SurveyResponse.event_id == event.id))
                for key, event in history.items()}
    assert comments["old"] == "Cepat. NIK saya [dihapus], hubungi [dihapus] atau [dihapus]. Loket 3 ramah."
    assert comments["recent"] == comment and comments["open"] == comment
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "privacy.purge"))
    assert entry.detail["comments"] == 1


@pytest.mark.parametrize("text, expected", [
    ("Nomor +62 812 3456 7890 tolong dihapus", "Nomor [dihapus] tolong dihapus"),
    ("Antre 45 menit di loket 12", "Antre 45 menit di loket 12"),
    ("Tanggal 12.03.2026 pelayanan baik", "Tanggal 12.03.2026 pelayanan baik"),
    ("", ""),
])
def test_redaction_keeps_ordinary_numbers(text, expected):
    from botram.domain.privacy import redact

    assert redact(text) == expected


COMMENT_WITH_PII = ("Petugas ramah. NIK saya 3216014512900003, kalau berkas kurang telepon (021) 8888 777 "
                    "atau 0812-3456-7890. Antre 45 menit.")
COMMENT_MASKED = ("Petugas ramah. NIK saya [dihapus], kalau berkas kurang telepon [dihapus] atau [dihapus]. "
                  "Antre 45 menit.")


@pytest.mark.db_independent
def test_redaction_masks_what_the_running_text_guard_finds():
    """The running text's guard (lokal-id) knows a phone written with its area code in brackets; the purge
    and every shown comment mask it too."""
    from botram.domain.privacy import personal_number, redact

    assert personal_number("telepon (021) 8888 777") == "(021) 8888 777"
    assert redact(COMMENT_WITH_PII) == COMMENT_MASKED


def test_the_event_report_shows_survey_comments_with_personal_numbers_masked(client, auth, history):
    event = history["open"]
    response = db.session.scalar(sa.select(SurveyResponse).where(SurveyResponse.event_id == event.id))
    response.comment = COMMENT_WITH_PII
    db.session.commit()
    make_user("koordinator")
    auth.login("koordinator")
    page = client.get(f"/reports/events/{event.id}").get_data(as_text=True)
    assert COMMENT_MASKED in " ".join(page.split())
    for secret in ("3216014512900003", "8888 777", "0812-3456-7890"):
        assert secret not in page
    db.session.expire_all()  # shown masked, kept as typed until the purge
    assert db.session.scalar(sa.select(SurveyResponse.comment).where(SurveyResponse.id == response.id)) == \
        COMMENT_WITH_PII


def test_purge_masks_a_phone_written_with_its_area_code_in_brackets(history):
    old = db.session.scalar(sa.select(SurveyResponse).where(SurveyResponse.event_id == history["old"].id))
    old.comment = COMMENT_WITH_PII
    db.session.commit()
    result = purge_pii(timedelta(days=90))
    db.session.commit()
    assert result.comments == 1
    assert db.session.scalar(sa.select(SurveyResponse.comment).where(SurveyResponse.id == old.id)) == COMMENT_MASKED
