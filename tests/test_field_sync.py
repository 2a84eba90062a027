"""Field sync by file (docs/field-sync.md): the regency server (on PostgreSQL in CI's PostgreSQL pass, else on a
second SQLite file) and a field laptop on SQLite in one run. An event prepared on the server is checked out to
the laptop, served there (300+ visits with priorities, transfers, no-shows, recalls, surveys and a desk
extended), checked in at midday and in the evening; the server's statistics, IKM and regency view then equal
the laptop's. Refused bundles write nothing."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
import sqlalchemy as sa

from botram.domain import Conflict, events, privacy, queue, regency, skm, stats
from botram.domain.field import (BundleError, checkout_of, export_checkin, export_checkout, held_checkout,
                                 import_bundle, release_checkout)
from botram.domain.field import envelope
from botram.extensions import db
from botram.models import AuditLog, Desk, Event, Step, SurveyResponse, User, Visit

from . import field_sync_helpers as h

# The day's story (330 visitors served on the laptop, two check-ins) is the module fixture's setup, counted in
# the first test's time: on a busy two-core machine it passes the suite's default 120 s.
pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def installs(tmp_path_factory, worker_id):
    server_dir = tmp_path_factory.mktemp("server")
    server = h.make_install(h.server_url(worker_id, server_dir), str(server_dir))
    laptop_dir = tmp_path_factory.mktemp("laptop")
    laptop = h.make_install(f"sqlite:///{laptop_dir / 'botram.sqlite'}", str(laptop_dir))
    yield server, laptop
    for app in (server, laptop):
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="module")
def day(installs):
    """The whole story once per module: prepare, check out by file, serve, check in twice."""
    server, laptop = installs
    rng = random.Random(20261201)
    with h.on(server):
        server_event = h.prepare_event()
        checkout_bundle = export_checkout(server_event, device=h.DEVICE, key=h.KEY)
        assert checkout_of(server_event).device == h.DEVICE
    with h.on(laptop):
        report = import_bundle(checkout_bundle, key=h.KEY)
        laptop_event = report.event_id
        assert report.kind == "checkout" and held_checkout(laptop_event).device == h.DEVICE
        # the officers sign in on the laptop with the server's passwords
        assert db.session.scalar(sa.select(User).where(User.username == "petugas3")).check_password("rahasia-123")
        assert db.session.scalar(sa.select(User).where(User.username == "keuangan")) is None
        midday_counts = h.serve(laptop_event, 180, rng)
        midday = export_checkin(laptop_event, key=h.KEY)
    with h.on(server):
        first = import_bundle(midday, key=h.KEY)
        assert checkout_of(server_event) is not None  # still on the laptop after a midday check-in
    with h.on(laptop):
        desk = db.session.scalar(sa.select(Desk).where(Desk.event_id == laptop_event, Desk.number == 2))
        events.extend_desk_hours(desk, 60, by_user_id=h.user_id("koordinator"))
        evening_counts = h.serve(laptop_event, 150, rng, first=180)
        events.change_status(db.session.get(Event, laptop_event), "closed", by_user_id=h.user_id("koordinator"))
        evening = export_checkin(laptop_event, key=h.KEY)
    with h.on(server):
        second = import_bundle(evening, key=h.KEY)
    return {"server": server, "laptop": laptop, "server_event": server_event, "laptop_event": laptop_event,
            "checkout": checkout_bundle, "midday": midday, "evening": evening, "first": first, "second": second,
            "served": {k: midday_counts[k] + evening_counts[k] for k in midday_counts}}


def test_the_day_covers_what_a_field_event_does(day):
    served = day["served"]
    assert all(served[k] > 0 for k in served), served
    with h.on(day["laptop"]):
        assert db.session.scalar(sa.select(sa.func.count(Visit.id)).where(Visit.event_id == day["laptop_event"])) \
            >= 300
        priorities = set(db.session.scalars(sa.select(Visit.priority).where(Visit.event_id == day["laptop_event"])))
        assert {"none", "lansia", "disabilitas", "hamil"} <= priorities


def test_check_ins_bring_what_is_new_and_the_final_one_gives_the_event_back(day):
    first, second = day["first"], day["second"]
    assert first.kind == second.kind == "checkin"
    assert first.counts["visit"] == 180 and second.counts["visit"] == 150
    assert second.updated.get("desk")  # the extended desk, and desks closed with the event
    assert second.released
    with h.on(day["server"]):
        assert checkout_of(day["server_event"]) is None
        assert db.session.get(Event, day["server_event"]).status == "closed"


def test_the_server_then_equals_the_laptop(day):
    with h.on(day["laptop"]):
        at = h.at_end_of_day(day["laptop_event"])
        laptop_stats = h.stats_without_ids(stats.event_stats(day["laptop_event"], at=at))
        laptop_ikm = skm.ikm_for_event(day["laptop_event"]).as_dict()
        laptop_view = h.regency_digest(regency.regency_view())
    with h.on(day["server"]):
        server_stats = h.stats_without_ids(stats.event_stats(day["server_event"], at=at))
        server_ikm = skm.ikm_for_event(day["server_event"]).as_dict()
        server_view = h.regency_digest(regency.regency_view())
    assert laptop_stats["visits"] >= 300 and laptop_ikm["respondents"] > 0
    assert server_stats == laptop_stats
    assert server_ikm == laptop_ikm
    assert server_view == laptop_view


def test_the_final_check_in_leaves_a_summary_equal_to_a_fresh_report(day):
    """The evening check-in closes the event on the server: its summary is computed in that import."""
    from .summary_helpers import assert_summary_is_fresh

    with h.on(day["server"]):
        row = assert_summary_is_fresh(day["server_event"])
        assert row.visits >= 300


def test_the_same_bundles_again_change_no_row(day):
    with h.on(day["server"]):
        before = h.table_contents()
        for bundle in (day["midday"], day["evening"]):
            report = import_bundle(bundle, key=h.KEY)
            assert report.unchanged and report.counts == {}
        assert h.table_contents() == before
    with h.on(day["laptop"]):
        before = h.table_contents()
        assert import_bundle(day["checkout"], key=h.KEY).unchanged
        assert h.table_contents() == before


def _refused(app, data, message_part):
    with h.on(app):
        before = h.table_contents()
        with pytest.raises(BundleError) as refused:
            import_bundle(data, key=h.KEY)
        assert message_part in refused.value.message
        assert h.table_contents() == before


def test_tampered_truncated_and_future_bundles_are_refused_and_write_nothing(day):
    bundle = day["evening"]
    body = bundle.index(b"\n", len(envelope.MAGIC)) + 1
    flipped = bytearray(bundle)
    flipped[body + 100] ^= 0x01
    _refused(day["server"], bytes(flipped), "rusak atau telah diubah")
    at = bundle.index(b'"nonce": "') + len(b'"nonce": "')
    header = bundle[:at] + (b"B" if bundle[at:at + 1] == b"A" else b"A") + bundle[at + 1:]
    _refused(day["server"], header, "rusak atau telah diubah")  # the header is authenticated too
    _refused(day["server"], bundle[:len(bundle) - 10], "terpotong")
    _refused(day["server"], bundle[:10], "terpotong")
    _refused(day["server"], b"PK\x03\x04 not a bundle", "bukan bundel")
    newer = envelope.FORMAT + 1
    future = bundle.replace(b'"format": %d' % envelope.FORMAT, b'"format": %d' % newer, 1)
    _refused(day["server"], future, f"versi {newer}")


def test_a_future_manifest_inside_a_valid_envelope_is_refused(day):
    from botram.domain import field

    manifest = {"format": envelope.FORMAT + 1, "kind": "checkin"}
    sealed = envelope.seal(field._pack(manifest, {}), h.KEY)
    _refused(day["server"], sealed, f"versi {envelope.FORMAT + 1}")


def test_a_wrong_key_is_refused_and_writes_nothing(day):
    with h.on(day["server"]):
        before = h.table_contents()
        with pytest.raises(BundleError) as refused:
            import_bundle(day["evening"], key="kunci-yang-lain")
        assert "Kunci bundel salah" in refused.value.message
        with pytest.raises(BundleError) as missing:
            import_bundle(day["evening"], key="")
        assert "BOTRAM_FIELD_KEY" in missing.value.message
        assert h.table_contents() == before


def test_a_bundle_on_the_wrong_install_is_refused(day):
    _refused(day["server"], day["checkout"], "instalasi ini sendiri")
    _refused(day["laptop"], day["evening"], "instalasi ini sendiri")


def test_a_checked_out_event_refuses_queue_writes_until_checked_in_or_released(installs):
    server, laptop = installs
    with h.on(server):
        event_id = h.prepare_event("BOTRAM Pasar Cibitung")
        service = h.service_ids("KTP-REKAM")
        queue.issue_visit(event_id, service, by_user_id=h.user_id("resepsionis"))
        export_checkout(event_id, device="LAPTOP-CIBITUNG", key=h.KEY)
        desk_id, officer = h.desk_ids(event_id)[0]
        with pytest.raises(Conflict) as refused:
            queue.issue_visit(event_id, service, by_user_id=h.user_id("resepsionis"))
        assert "LAPTOP-CIBITUNG" in refused.value.message and refused.value.status == 409
        with pytest.raises(Conflict):
            queue.call_next(desk_id, by_user_id=officer)
        with pytest.raises(Conflict):
            export_checkout(event_id, device="LAPTOP-LAIN", key=h.KEY)
        release_checkout(event_id, reason="laptop hilang", by_user_id=h.user_id("koordinator"))
        assert queue.call_next(desk_id, by_user_id=officer) is not None


def test_purged_personal_data_is_not_brought_back_by_a_later_import(installs):
    server, laptop = installs
    rng = random.Random(7)
    with h.on(server):
        server_event = h.prepare_event("BOTRAM Balai Desa Serang Baru")
        checkout_bundle = export_checkout(server_event, device=h.DEVICE, key=h.KEY)
    with h.on(laptop):
        laptop_event = import_bundle(checkout_bundle, key=h.KEY).event_id
        h.serve(laptop_event, 12, rng, first=1000)
        events.change_status(db.session.get(Event, laptop_event), "closed", by_user_id=h.user_id("koordinator"))
        bundle = export_checkin(laptop_event, key=h.KEY)
    with h.on(server):
        import_bundle(bundle, key=h.KEY)
        assert db.session.scalar(sa.select(sa.func.count(Visit.id)).where(
            Visit.event_id == server_event, Visit.name.is_not(None))) == 12
        # the event is 100 days old: its personal data is purged on the server
        # the date computed here: `date - interval` in SQL is PostgreSQL's, SQLite would store a number
        day = db.session.get(Event, server_event).date
        db.session.execute(sa.update(Event).where(Event.id == server_event).values(date=day - timedelta(days=100)))
        db.session.commit()
        assert privacy.purge_pii(timedelta(days=90)).visits == 12
        assert import_bundle(bundle, key=h.KEY).unchanged
    with h.on(laptop):  # a later bundle from the laptop, which still has the names
        later = export_checkin(laptop_event, key=h.KEY)
    with h.on(server):
        report = import_bundle(later, key=h.KEY)
        assert report.unchanged
        named = db.session.scalar(sa.select(sa.func.count(Visit.id)).where(
            Visit.event_id == server_event, sa.or_(Visit.name.is_not(None), Visit.phone.is_not(None))))
        notes = db.session.scalar(sa.select(sa.func.count(Step.id)).where(
            Step.event_id == server_event, Step.note.is_not(None)))
        phones_in_comments = db.session.scalar(sa.select(sa.func.count(SurveyResponse.id)).where(
            SurveyResponse.event_id == server_event, SurveyResponse.comment.like("%0812%")))
        assert (named, notes, phones_in_comments) == (0, 0, 0)


def test_the_cli_carries_an_event_by_file_and_back(installs, tmp_path):
    server, laptop = installs
    key_file = tmp_path / "kunci.txt"
    key_file.write_text(h.KEY + "\n")
    stick = tmp_path / "acara.botram"
    with h.on(server):
        event_id = h.prepare_event("BOTRAM Kantor Desa Karangbahagia")
    result = server.test_cli_runner().invoke(args=["field", "export", str(event_id), "--output", str(stick),
                                                   "--device", "LAPTOP-KB", "--key-file", str(key_file)])
    assert result.exit_code == 0, result.output
    with h.on(server):
        assert checkout_of(event_id).device == "LAPTOP-KB"
    result = laptop.test_cli_runner().invoke(args=["field", "import", str(stick), "--key-file", str(key_file)])
    assert result.exit_code == 0 and "Imported the checkout" in result.output, result.output
    with h.on(laptop):
        laptop_event = db.session.scalar(sa.select(Event.id).where(Event.title == "BOTRAM Kantor Desa Karangbahagia"))
        h.serve(laptop_event, 5, random.Random(3), first=2000)
    back = tmp_path / "kembali.botram"
    result = laptop.test_cli_runner().invoke(args=["field", "export", str(laptop_event), "--output", str(back),
                                                   "--key-file", str(key_file)])
    assert result.exit_code == 0 and "check-in" in result.output, result.output
    for expected in ("Imported the checkin", "Nothing new"):
        result = server.test_cli_runner().invoke(args=["field", "import", str(back), "--key-file", str(key_file)])
        assert result.exit_code == 0 and expected in result.output, result.output
    wrong = tmp_path / "salah.txt"
    wrong.write_text("bukan-kuncinya\n")
    result = server.test_cli_runner().invoke(args=["field", "import", str(back), "--key-file", str(wrong)])
    assert result.exit_code != 0 and "Kunci bundel salah" in result.output
    server.config["BOTRAM_FIELD_KEY"] = ""
    try:
        result = server.test_cli_runner().invoke(args=["field", "export", str(event_id), "--output", str(stick)])
    finally:
        server.config["BOTRAM_FIELD_KEY"] = h.KEY
    assert result.exit_code != 0 and "BOTRAM_FIELD_KEY" in result.output
