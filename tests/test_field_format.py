"""The field bundle's own format (docs/field-sync.md, "How the format changes"): the manifest names the schema
revision and an install at another one refuses the bundle saying which side to upgrade; check-ins are ordered
by the laptop's count, never its clock; every header field is checked for type and length ("damaged", never a
500); the passphrase's cost; a running text that arrives in a bundle passes the board's guard."""
from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from botram.domain import field as field_sync
from botram.domain import queue
from botram.domain.clock import now as real_now
from botram.domain.field import envelope
from botram.extensions import db
from botram.models import Desk, Event, Step, User

from .conftest import fingerprint
from .factories import make_desk, make_event, make_user
from .laptop import Laptop

KEY = "kunci-lapangan-uji"


@pytest.fixture
def server(app):
    app.config["BOTRAM_FIELD_KEY"] = KEY
    make_user("koordinator")
    event = make_event()
    make_desk(event, 1)
    db.session.commit()
    return event.id


@pytest.fixture
def laptop(tmp_path, tmp_path_factory):
    laptop = Laptop(tmp_path / "laptop", tmp_path_factory.getbasetemp(), KEY)
    yield laptop
    laptop.close()


def lend(event_id: int, laptop: Laptop) -> None:
    laptop.take(field_sync.export_checkout(event_id, device="laptop-uji", key=KEY))


def on_laptop(laptop: Laptop, work) -> None:
    with laptop.context():
        work()


def refusal(data: bytes) -> str:
    before = fingerprint()
    with pytest.raises(field_sync.BundleError) as refused:
        field_sync.import_bundle(data, key=KEY)
    db.session.rollback()
    assert fingerprint() == before
    return str(refused.value)


# ------------------------------------------------------------------------------------------- schema revision


def _laptop_at(laptop: Laptop, revision: str) -> None:
    def set_revision():
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
        db.session.commit()
    on_laptop(laptop, set_revision)


def test_a_check_in_from_a_laptop_one_migration_behind_is_refused_saying_which_side_to_upgrade(server, laptop):
    lend(server, laptop)
    laptop.serve(1)
    from alembic.script import ScriptDirectory
    from flask import current_app

    script = ScriptDirectory(current_app.extensions["migrate"].directory)
    head = script.get_revision(script.get_current_head())
    _laptop_at(laptop, head.down_revision)
    message = refusal(laptop.checkin())
    assert "lebih lama" in message and "laptop lapangan" in message and head.down_revision in message


def test_a_bundle_from_a_newer_release_is_refused_here(server, laptop):
    lend(server, laptop)
    laptop.serve(1)
    _laptop_at(laptop, "f00dfeedc0de")
    message = refusal(laptop.checkin())
    assert "lebih baru" in message and "perbarui BOTRAM di sini" in message


def test_the_manifest_names_the_schema_revision(server, laptop):
    lend(server, laptop)
    manifest, _ = field_sync._unpack(envelope.open_sealed(laptop.checkin(), KEY))
    assert manifest["schema"] == db.session.scalar(sa.text("SELECT version_num FROM alembic_version"))
    assert manifest["format"] == envelope.FORMAT == 4 and manifest["sequence"] == 1
    # format 4: both kinds carry the event's bookings
    assert {"booking_plan", "booking_window", "booking_quota", "booking"} <= set(manifest["counts"])


# ------------------------------------------------------------------------------------------------- sequence


def test_a_lower_numbered_check_in_changes_nothing_even_when_its_clock_is_later(server, laptop, monkeypatch):
    lend(server, laptop)

    def call_one():
        desk = db.session.scalar(sa.select(Desk))
        officer = db.session.scalar(sa.select(User.id).order_by(User.id))
        queue.set_desk_state(desk.id, "open", by_user_id=officer)
        queue.issue_visit(laptop.event_id, [desk.services[0].id], by_user_id=officer)
        queue.call_next(desk.id, by_user_id=officer)
    on_laptop(laptop, call_one)
    # The laptop's clock runs a day ahead while it writes the first bundle: a clock can be wrong, a count cannot.
    monkeypatch.setattr(field_sync, "now", lambda: real_now() + timedelta(days=1))
    first = laptop.checkin()
    monkeypatch.undo()

    def finish_it():
        step = db.session.scalar(sa.select(Step))
        queue.finish(step.id, outcome="done", by_user_id=db.session.scalar(sa.select(User.id).order_by(User.id)))
    on_laptop(laptop, finish_it)
    second = laptop.checkin()

    assert field_sync.import_bundle(second, key=KEY).unchanged is False
    assert db.session.scalar(sa.select(Step.status)) == "done"
    before = fingerprint()
    assert field_sync.import_bundle(first, key=KEY).unchanged is True
    db.session.rollback()
    assert db.session.scalar(sa.select(Step.status)) == "done"
    assert fingerprint() == before


def test_a_check_in_from_another_laptop_than_the_one_holding_the_event_is_refused(server, laptop, tmp_path,
                                                                                   tmp_path_factory):
    lend(server, laptop)
    laptop.serve(1)
    field_sync.release_checkout(server, reason="laptop hilang")
    other = Laptop(tmp_path / "other", tmp_path_factory.getbasetemp(), KEY)
    try:
        other.take(field_sync.export_checkout(server, device="laptop-pengganti", key=KEY))
        message = refusal(laptop.checkin())
        assert "tidak sedang dipinjamkan" in message
    finally:
        other.close()


# --------------------------------------------------------------------------------------------------- header


def _reseal_header(data: bytes, change) -> bytes:
    """The bundle with its readable header changed (the body then no longer matches, but the header is read and
    checked first)."""
    start = len(envelope.MAGIC)
    end = data.index(b"\n", start)
    header = json.loads(data[start:end])
    change(header)
    return envelope.MAGIC + json.dumps(header).encode() + data[end:]


def _b64(n: int) -> str:
    return base64.b64encode(b"x" * n).decode()


HEADER_CHANGES = {
    "nonce of 3 bytes": lambda h: h.update(nonce=_b64(3)),
    "salt of 4 bytes": lambda h: h["kdf"].update(salt=_b64(4)),
    "key check of 31 bytes": lambda h: h.update(key_check=_b64(31)),
    "format 0": lambda h: h.update(format=0),
    "format true": lambda h: h.update(format=True),
    "format as text": lambda h: h.update(format="2"),
    "cost as text": lambda h: h["kdf"].update(n=str(h["kdf"]["n"])),
    "cost true": lambda h: h["kdf"].update(r=True),
    "length a fraction": lambda h: h.update(length=h["length"] + 0.5),
    "kdf a list": lambda h: h.update(kdf=[1, 2]),
    "nonce a number": lambda h: h.update(nonce=12),
}


@pytest.mark.parametrize("change", HEADER_CHANGES.values(), ids=HEADER_CHANGES.keys())
def test_a_header_field_of_the_wrong_type_or_length_is_damaged(server, change):
    data = field_sync.export_checkout(server, device="laptop-uji", key=KEY)
    with pytest.raises(field_sync.BundleError) as refused:
        envelope.open_sealed(_reseal_header(data, change), KEY)
    assert "rusak" in str(refused.value)


def test_a_bundle_of_the_previous_format_says_to_upgrade_the_side_that_made_it(server):
    data = field_sync.export_checkout(server, device="laptop-uji", key=KEY)
    with pytest.raises(field_sync.BundleError) as refused:
        envelope.open_sealed(_reseal_header(data, lambda h: h.update(format=1)), KEY)
    assert "versi lama" in str(refused.value)


def test_the_passphrase_costs_what_owasp_asks(server):
    data = field_sync.export_checkout(server, device="laptop-uji", key=KEY)
    header = json.loads(data[len(envelope.MAGIC):data.index(b"\n", len(envelope.MAGIC))])
    assert header["kdf"]["n"] >= 2**17 and header["kdf"]["r"] == 8
    assert envelope.open_sealed(data, KEY)


# ----------------------------------------------------------------------------------------------- running text


def test_a_running_text_with_a_phone_number_arrives_blanked(server, laptop):
    lend(server, laptop)

    def write_past_the_form():
        db.session.execute(sa.update(Event).values(running_text="Info: hubungi 0812-3456-7890 untuk antrean"))
        db.session.commit()
    on_laptop(laptop, write_past_the_form)
    laptop.serve(1)
    field_sync.import_bundle(laptop.checkin(), key=KEY)
    text = db.session.scalar(sa.select(Event.running_text).where(Event.id == server))
    assert "3456" not in text and "7890" not in text
