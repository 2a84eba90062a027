"""botram.domain.guidance: what the surat panduan says, built from the step, its checklist and the packages."""
import pytest
import sqlalchemy as sa

from botram.domain import queue
from botram.domain.guidance import DEATH_OTHER_FOLLOW_UPS, build_guidance
from botram.extensions import db
from botram.models import LifeEventPackage

from .factories import make_desk, make_event, make_user, service

NIK = "3216014501900001"


@pytest.fixture
def setup(app):
    officer = make_user("petugas", "petugas1", "DISDUKCAPIL")
    event = make_event("BOTRAM Uji Panduan")
    desk = make_desk(event, 1, "DISDUKCAPIL", ["AKTA-MATI", "KK", "AKTA-LAHIR"])
    make_desk(event, 2, "DINSOS", ["DTKS"])
    return {"officer": officer, "event": event, "desk": desk}


def served(setup, codes, *, presented=None, outcome="incomplete", **visit_fields):
    """Issue a visit, call it at the desk and finish its first step."""
    ids = [service(c).id for c in codes]
    visit = queue.issue_visit(setup["event"].id, ids, by_user_id=setup["officer"].id, **visit_fields).visit
    step = queue.call_next(setup["desk"].id, by_user_id=setup["officer"].id)
    assert step.visit_id == visit.id
    queue.finish(step.id, outcome=outcome, by_user_id=setup["officer"].id,
                 requirements_presented=presented(step) if presented else [])
    db.session.expire_all()
    return step


def test_missing_requirements_with_where_to_get_and_the_deadline(setup):
    step = served(setup, ["AKTA-MATI"], presented=lambda s: [r.id for r in s.service.requirements[1:3]])
    sheet = build_guidance(step)
    reqs = step.service.requirements
    assert [r.text for r in sheet.missing] == [reqs[0].text, reqs[3].text, reqs[4].text]
    assert sheet.missing[0].where_to_get.startswith("Rumah sakit")
    assert [r.id for r in sheet.presented] == [reqs[1].id, reqs[2].id]
    assert not sheet.complete
    assert "30 hari" in sheet.deadline
    assert sheet.outcome == "incomplete" and sheet.visit_code == step.visit.code


def test_optional_requirements_are_listed_apart(setup):
    step = served(setup, ["KK"], presented=lambda s: [r.id for r in s.service.requirements])
    assert build_guidance(step).complete
    event = setup["event"]
    make_desk(event, 3, "DISDUKCAPIL", ["KTP-REKAM"])
    visit = queue.issue_visit(event.id, [service("KTP-REKAM").id], by_user_id=setup["officer"].id).visit
    desk3 = db.session.scalar(sa.select(type(setup["desk"])).where(type(setup["desk"]).number == 3,
                                                                   type(setup["desk"]).event_id == event.id))
    step = queue.call_next(desk3.id, by_user_id=setup["officer"].id)
    assert step.visit_id == visit.id
    sheet = build_guidance(step, presented_ids=[])
    assert [r.text for r in sheet.missing] == ["Kartu Keluarga (KK) asli"]
    assert [r.optional for r in sheet.optional_missing] == [True]


def test_presented_ids_override_for_a_step_still_at_the_desk(setup):
    ids = [service("AKTA-LAHIR").id]
    queue.issue_visit(setup["event"].id, ids, by_user_id=setup["officer"].id)
    step = queue.call_next(setup["desk"].id, by_user_id=setup["officer"].id)
    first = step.service.requirements[0].id
    assert first not in [r.id for r in build_guidance(step, [first]).missing]
    assert first in [r.id for r in build_guidance(step).missing]  # nothing recorded yet


def test_personal_data_is_minimal(setup):
    step = served(setup, ["AKTA-MATI"], nik=NIK, name="Siti Aminah", phone="081234567890")
    sheet = build_guidance(step)
    assert sheet.visitor_name == "Siti Aminah"
    assert sheet.nik_masked == "3216********0001"
    assert NIK not in repr(sheet) and "081234567890" not in repr(sheet)
    anonymous = served(setup, ["KK"])
    sheet = build_guidance(anonymous)
    assert sheet.visitor_name is None and sheet.nik_masked == ""


def test_death_package_lists_every_follow_up_across_agencies(setup):
    step = served(setup, ["AKTA-MATI", "DTKS"])
    sheet = build_guidance(step)
    assert sheet.is_death_package and sheet.package_name == "Kematian anggota keluarga"
    states = {p.service_code: p.state for p in sheet.package_steps}
    assert list(states) == ["AKTA-MATI", "KK", "DTKS", "PBB-MUTASI"]
    assert states == {"AKTA-MATI": "this", "KK": "offered_here", "DTKS": "in_queue", "PBB-MUTASI": "elsewhere"}
    pbb = next(p for p in sheet.package_steps if p.service_code == "PBB-MUTASI")
    assert pbb.agency_name == "Badan Pendapatan Daerah" and "Badan Pendapatan Daerah" in pbb.state_text
    assert any("SPOP" in r.text for r in pbb.requirements)
    titles = " ".join(f.title for f in sheet.other_follow_ups)
    assert "BPJS Ketenagakerjaan" in titles and "BPJS Kesehatan" in titles and "pensiun" in titles
    assert sheet.other_follow_ups == DEATH_OTHER_FOLLOW_UPS


def test_death_package_states_follow_the_visit(setup):
    ids = [service(c).id for c in ("KK", "AKTA-MATI")]
    visit = queue.issue_visit(setup["event"].id, ids, by_user_id=setup["officer"].id).visit
    officer = setup["officer"].id
    first = queue.call_next(setup["desk"].id, by_user_id=officer)
    queue.finish(first.id, outcome="done", by_user_id=officer)
    second = queue.call_next(setup["desk"].id, by_user_id=officer)
    assert second.visit_id == visit.id and second.service.code == "AKTA-MATI"
    db.session.expire_all()
    states = {p.service_code: p.state for p in build_guidance(second).package_steps}
    assert states["KK"] == "done" and states["AKTA-MATI"] == "this"


def test_no_package_without_the_death_certificate(setup):
    step = served(setup, ["KK"])
    sheet = build_guidance(step)
    assert not sheet.is_death_package and sheet.package_steps == [] and sheet.other_follow_ups == ()


def test_inactive_death_package_is_ignored(setup):
    package = db.session.scalar(sa.select(LifeEventPackage).where(LifeEventPackage.code == "KEMATIAN"))
    package.active = False
    db.session.commit()
    step = served(setup, ["AKTA-MATI"])
    assert not build_guidance(step).is_death_package
