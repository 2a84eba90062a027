"""botram.domain.events: the rules for events, desks, hours and the status lifecycle."""
from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from botram.domain import DomainError
from botram.domain import events as rules
from botram.domain.clock import to_wib, today_wib
from botram.extensions import db
from botram.models import AuditLog, Desk, Event, Region, Visit

from .conftest import count
from .factories import agency, make_desk, make_event, make_user, service


def _kecamatan(name="Cikarang Timur") -> Region:
    return db.session.scalar(sa.select(Region).where(Region.level == 3, Region.name == name))


def _desa(kecamatan: Region) -> Region:
    return db.session.scalar(sa.select(Region).where(Region.parent_code == kecamatan.code).order_by(Region.code))


def _input(**overrides) -> rules.EventInput:
    kec = _kecamatan()
    values = dict(title="BOTRAM Balai Desa", date=today_wib() + timedelta(days=3), venue="Balai Desa Jatireja",
                  kecamatan_code=kec.code, desa_code=_desa(kec).code, opens=time(8), closes=time(16))
    values.update(overrides)
    return rules.EventInput(**values)


def _desk_input(**overrides) -> rules.DeskInput:
    values = dict(number=1, label="Disdukcapil — KTP-el", agency_id=agency("DISDUKCAPIL").id,
                  service_ids=[service("KTP-REKAM").id, service("KIA").id], opens=time(8), closes=time(15))
    values.update(overrides)
    return rules.DeskInput(**values)


def test_kecamatan_and_desa_lists_come_from_kemendagri_codes(app):
    kecamatan = rules.kecamatan_list()
    assert len(kecamatan) == 23 and all(k.code.startswith("32.16.") for k in kecamatan)
    desa = rules.desa_list(kecamatan[0].code)
    assert desa and all(d.parent_code == kecamatan[0].code and d.level == 4 for d in desa)
    assert rules.desa_list(None) == [] and rules.desa_list("99.99.99") == []


def test_create_event_is_a_draft_stored_in_utc_and_audited(app):
    user = make_user("koordinator")
    event = rules.create_event(_input(title="  BOTRAM   Balai Desa  "), by_user_id=user.id)
    db.session.commit()
    assert event.status == "draft" and event.title == "BOTRAM Balai Desa"
    assert event.opens_at.utcoffset() == timedelta(0)
    assert to_wib(event.opens_at).time() == time(8) and to_wib(event.closes_at).time() == time(16)
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "event.create"))
    assert entry.user_id == user.id and entry.event_id == event.id


@pytest.mark.parametrize("overrides, field, message", [
    ({"title": ""}, "title", "Nama kegiatan wajib diisi."),
    ({"title": "ab"}, "title", "Nama kegiatan 3–160 karakter."),
    ({"title": "x" * 161}, "title", "Nama kegiatan 3–160 karakter."),
    ({"date": None}, "date", "Tanggal wajib diisi."),
    ({"venue": "  "}, "venue", "Tempat wajib diisi."),
    ({"venue": "y" * 201}, "venue", "Tempat 3–200 karakter."),
    ({"kecamatan_code": None}, "kecamatan_code", "Pilih kecamatan di Kabupaten Bekasi."),
    ({"kecamatan_code": "32.16"}, "kecamatan_code", "Pilih kecamatan di Kabupaten Bekasi."),
    ({"kecamatan_code": "32.75.01"}, "kecamatan_code", "Pilih kecamatan di Kabupaten Bekasi."),
    ({"desa_code": None}, "desa_code", "Pilih desa/kelurahan."),
    ({"desa_code": "32.16.99.9999"}, "desa_code", "Pilih desa/kelurahan."),
    ({"opens": None}, "opens", "Jam buka wajib diisi (JJ:MM)."),
    ({"closes": None}, "closes", "Jam tutup wajib diisi (JJ:MM)."),
    ({"opens": time(16), "closes": time(8)}, "closes", "Jam tutup harus setelah jam buka, pada hari yang sama."),
    ({"opens": time(9), "closes": time(9)}, "closes", "Jam tutup harus setelah jam buka, pada hari yang sama."),
])
def test_create_event_refuses_bad_input(app, overrides, field, message):
    with pytest.raises(DomainError) as exc:
        rules.create_event(_input(**overrides))
    assert exc.value.field == field and exc.value.message == message
    db.session.rollback()
    assert count(Event) == 0


def test_desa_must_belong_to_the_kecamatan(app):
    other = _desa(_kecamatan("Tambun Selatan"))
    with pytest.raises(DomainError) as exc:
        rules.create_event(_input(desa_code=other.code))
    assert exc.value.field == "desa_code" and "tidak berada di kecamatan" in exc.value.message
    kecamatan = _kecamatan()
    with pytest.raises(DomainError):  # a kecamatan given as desa
        rules.create_event(_input(desa_code=kecamatan.code))


def test_event_date_cannot_be_in_the_past_and_moves_only_as_draft(app):
    with pytest.raises(DomainError) as exc:
        rules.create_event(_input(date=today_wib() - timedelta(days=1)))
    assert exc.value.message == "Tanggal tidak boleh sebelum hari ini."
    event = make_event(status="open")
    with pytest.raises(DomainError) as exc:
        rules.update_event(event, _input(date=event.date + timedelta(days=1)))
    assert exc.value.field == "date"


def test_moving_a_draft_moves_its_desks_keeping_wall_clock_hours(app):
    event = make_event(status="draft")
    desk = make_desk(event)
    later = event.date + timedelta(days=7)
    rules.update_event(event, _input(date=later, opens=time(9), closes=time(17)))
    db.session.commit()
    assert to_wib(desk.opens_at).date() == later and to_wib(desk.opens_at).time() == time(8)
    assert to_wib(event.opens_at).time() == time(9)


def test_status_lifecycle(app):
    event = make_event(status="draft")
    with pytest.raises(DomainError) as exc:
        rules.change_status(event, "open")
    assert exc.value.message == "Tambahkan paling sedikit satu loket sebelum membuka kegiatan."
    with pytest.raises(DomainError):
        rules.change_status(event, "closed")  # draft -> closed is not a transition
    make_desk(event, state="closed")
    rules.change_status(event, "open")
    assert event.status == "open" and all(d.state == "open" for d in event.desks)
    rules.change_status(event, "draft")  # no visits yet: undo allowed
    assert event.status == "draft" and all(d.state == "closed" for d in event.desks)
    rules.change_status(event, "open")
    rules.change_status(event, "closed")
    assert all(d.state == "closed" for d in event.desks)
    for target in ("open", "draft", "closed", "bogus"):
        with pytest.raises(DomainError):
            rules.change_status(event, target)
    db.session.commit()
    assert count(AuditLog, AuditLog.action == "event.status") == 4


def test_open_event_with_visits_cannot_go_back_to_draft(app):
    event = make_event(status="open")
    make_desk(event)
    db.session.add(Visit(event_id=event.id, code="A-001", letter="A", seq=1, public_token="t" * 43))
    db.session.commit()
    with pytest.raises(DomainError) as exc:
        rules.change_status(event, "draft")
    assert "tidak dapat dikembalikan ke draf" in exc.value.message


def test_closed_event_refuses_every_edit(app):
    event = make_event(status="closed")
    desk = make_desk(event, state="closed")
    for call in (lambda: rules.update_event(event, _input(date=event.date)),
                 lambda: rules.set_running_text(event, "Halo"),
                 lambda: rules.add_desk(event, _desk_input(number=2)),
                 lambda: rules.update_desk(desk, _desk_input()),
                 lambda: rules.set_desk_hours(desk, time(8), time(18)),
                 lambda: rules.remove_desk(desk)):
        with pytest.raises(DomainError) as exc:
            call()
        assert exc.value.status == 409 and "sudah ditutup" in exc.value.message


def test_running_text_is_trimmed_limited_and_bumps_the_board(app):
    event = make_event()
    version = event.queue_version
    rules.set_running_text(event, "  Siapkan   KK dan KTP-el.  ")
    assert event.running_text == "Siapkan KK dan KTP-el." and event.queue_version == version + 1
    with pytest.raises(DomainError) as exc:
        rules.set_running_text(event, "x" * 501)
    assert exc.value.field == "running_text"
    rules.set_running_text(event, "")
    assert event.running_text == ""


def test_add_desk_with_services_of_its_agency(app):
    event = make_event(status="draft")
    desk = rules.add_desk(event, _desk_input())
    db.session.commit()
    assert desk.state == "closed" and [s.code for s in desk.services] == ["KIA", "KTP-REKAM"]
    assert to_wib(desk.closes_at).time() == time(15)
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "desk.create"))
    assert entry.detail["agency"] == "DISDUKCAPIL" and entry.event_id == event.id


def test_desk_added_to_an_open_event_opens_at_once(app):
    event = make_event(status="open")
    make_desk(event)
    assert rules.add_desk(event, _desk_input(number=2)).state == "open"


@pytest.mark.parametrize("overrides, field, fragment", [
    ({"number": None}, "number", "Nomor loket wajib diisi."),
    ({"number": 0}, "number", "Nomor loket 1–99."),
    ({"number": 100}, "number", "Nomor loket 1–99."),
    ({"label": ""}, "label", "Nama loket wajib diisi."),
    ({"label": "x"}, "label", "Nama loket 2–80 karakter."),
    ({"label": "x" * 81}, "label", "Nama loket 2–80 karakter."),
    ({"agency_id": None}, "agency_id", "Pilih instansi."),
    ({"agency_id": 9999}, "agency_id", "Pilih instansi."),
    ({"service_ids": []}, "service_ids", "Pilih paling sedikit satu layanan."),
    ({"service_ids": [9999]}, "service_ids", "Layanan tidak dikenal."),
    ({"opens": time(15), "closes": time(8)}, "closes", "Jam tutup harus setelah jam buka"),
    ({"closes": None}, "closes", "Jam tutup wajib diisi"),
])
def test_add_desk_refuses_bad_input(app, overrides, field, fragment):
    event = make_event(status="draft")
    with pytest.raises(DomainError) as exc:
        rules.add_desk(event, _desk_input(**overrides))
    assert exc.value.field == field and fragment in exc.value.message
    db.session.rollback()
    assert count(Desk) == 0


def test_desk_rules_on_agency_services_and_numbers(app):
    event = make_event(status="draft")
    with pytest.raises(DomainError) as exc:
        rules.add_desk(event, _desk_input(service_ids=[service("PBB-BAYAR").id]))
    assert "bukan layanan Disdukcapil" in exc.value.message
    inactive = service("KIA")
    inactive.active = False
    db.session.commit()  # set up as the admin would, in its own write: the domain refuses rows changed outside one
    with pytest.raises(DomainError) as exc:
        rules.add_desk(event, _desk_input())
    assert "tidak aktif" in exc.value.message
    inactive.active = True
    db.session.commit()  # set up as the admin would, in its own write: the domain refuses rows changed outside one
    closed_agency = agency("DINKES")
    closed_agency.active = False
    db.session.commit()  # set up as the admin would, in its own write: the domain refuses rows changed outside one
    with pytest.raises(DomainError) as exc:
        rules.add_desk(event, _desk_input(agency_id=closed_agency.id, service_ids=[service("CEK-KESEHATAN").id]))
    assert exc.value.message == "Instansi ini tidak aktif."
    closed_agency.active = True
    db.session.commit()  # set up as the admin would, in its own write: the domain refuses rows changed outside one
    rules.add_desk(event, _desk_input())
    with pytest.raises(DomainError) as exc:
        rules.add_desk(event, _desk_input())
    assert exc.value.message == "Loket 1 sudah ada di kegiatan ini." and exc.value.status == 409
    other = make_event(title="Lain", status="draft")
    assert rules.add_desk(other, _desk_input()).number == 1  # unique per event only


def test_update_desk_keeps_its_number_and_audits_changes(app):
    event = make_event(status="draft")
    desk = rules.add_desk(event, _desk_input())
    rules.update_desk(desk, _desk_input(label="Loket KTP", service_ids=[service("KTP-CETAK").id]))
    db.session.commit()
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "desk.update"))
    assert entry.detail["changes"]["services"] == [["KIA", "KTP-REKAM"], ["KTP-CETAK"]]
    assert rules.next_desk_number(event) == 2


def test_desk_hours_extended_on_the_day_are_audited(app):
    event = make_event(status="open")
    desk = make_desk(event)
    rules.set_desk_hours(desk, time(8), time(18, 30))
    db.session.commit()
    assert to_wib(desk.closes_at).time() == time(18, 30)
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "desk.hours"))
    assert entry.detail == {"number": 1, "old_opens": "08:00", "old_closes": "16:00", "opens": "08:00",
                            "closes": "18:30", "extended": True}
    with pytest.raises(DomainError) as exc:
        rules.set_desk_hours(desk, time(8), time(7))
    assert exc.value.field == "closes"


def test_remove_desk_rules(app):
    event = make_event(status="open")
    first = make_desk(event, 1)
    with pytest.raises(DomainError) as exc:
        rules.remove_desk(first)
    assert "paling sedikit satu loket" in exc.value.message
    second = make_desk(event, 2)
    rules.remove_desk(second)
    db.session.commit()
    assert [d.number for d in event.desks] == [1]


def test_parse_ids(app):
    assert rules.parse_ids(["3", 4, "3"], "f", "salah") == [3, 4]
    for bad in (["x"], ["-1"], [None], ["1" * 12]):
        with pytest.raises(DomainError):
            rules.parse_ids(bad, "f", "salah")
