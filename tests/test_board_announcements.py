"""What the board shows besides the queue reaches it: boards keep their state per (event, version) and only
look again when the version moves, so a change that forgets to bump the version leaves every projector
showing the old text. Each test computes the board first (so the old state is cached), makes one change
through the domain, and asserts the version moved and the new state shows the change."""
from __future__ import annotations

import dataclasses

import pytest

from botram.domain import catalog, funding
from botram.domain.board import board_state, current_version
from botram.extensions import db
from botram.models import Agency, Event, Service, Sponsor

from .factories import agency, give, make_desk, make_event, make_sponsor, make_user, service


@pytest.fixture
def hall(app):
    event = make_event()
    make_desk(event, 1, "DISDUKCAPIL", ["AKTA-MATI", "KK"])
    return event


def _board(event_id: int):
    db.session.expire_all()
    return board_state(db.session.get(Event, event_id))


def _changed(event_id: int, before_version: int, change) -> object:
    """Run `change`, commit, and return the board after it (asserting the version moved)."""
    change()
    db.session.commit()
    after = current_version(event_id)
    assert after is not None and after > before_version, "the change did not bump the event's version"
    return _board(event_id)


def _sponsor_input(sponsor: Sponsor, **changes) -> funding.SponsorInput:
    names = {f.name for f in dataclasses.fields(funding.SponsorInput)}
    return funding.SponsorInput(**{**{n: getattr(sponsor, n) for n in names}, **changes})


@pytest.fixture
def thanked(hall):
    sponsor = make_sponsor("PT Mitra Bekasi", public_thanks=True)
    contribution = give(sponsor, hall)
    state = _board(hall.id)
    assert state.sponsors == ["PT Mitra Bekasi"]
    return hall, sponsor, contribution, state.version


def test_voiding_a_contribution_takes_the_thanks_off_the_board(thanked):
    event, _sponsor, contribution, version = thanked
    user = make_user("keuangan")
    state = _changed(event.id, version, lambda: funding.void_contribution(
        db.session.get(type(contribution), contribution.id), "Salah catat nominal", by_user_id=user.id))
    assert state.sponsors == []


def test_renaming_a_sponsor_renames_it_on_the_board(thanked):
    event, sponsor, _c, version = thanked
    state = _changed(event.id, version, lambda: funding.update_sponsor(
        db.session.get(Sponsor, sponsor.id), _sponsor_input(sponsor, name="PT Mitra Bekasi Sejahtera")))
    assert state.sponsors == ["PT Mitra Bekasi Sejahtera"]


def test_a_sponsor_that_withdraws_its_thanks_leaves_the_board(thanked):
    event, sponsor, _c, version = thanked
    state = _changed(event.id, version, lambda: funding.update_sponsor(
        db.session.get(Sponsor, sponsor.id), _sponsor_input(sponsor, public_thanks=False)))
    assert state.sponsors == []


def test_renaming_an_agency_reaches_the_board(hall):
    state = _board(hall.id)
    owner = agency("DISDUKCAPIL")
    assert [d.agency for d in state.desks] == [owner.short_name]

    def rename():
        row = db.session.get(Agency, owner.id)
        catalog.update_agency(row, code=row.code, name=row.name, short_name="Capil Bekasi", color=row.color,
                              active=row.active)

    state = _changed(hall.id, state.version, rename)
    assert [d.agency for d in state.desks] == ["Capil Bekasi"]


def test_renaming_a_service_reaches_the_board(hall):
    state = _board(hall.id)
    kk = service("KK")
    old_name = kk.name
    assert old_name in [s.name for s in state.services]

    def rename():
        row = db.session.get(Service, kk.id)
        catalog.update_service(row, agency_id=row.agency_id, code=row.code, name="Kartu Keluarga (baru/ubah)",
                               ticket_letter=row.ticket_letter or "", target_minutes=row.target_minutes,
                               records_amount=row.records_amount, active=row.active,
                               description=row.description or "", guidance=row.guidance or "")

    state = _changed(hall.id, state.version, rename)
    names = [s.name for s in state.services]
    assert "Kartu Keluarga (baru/ubah)" in names and old_name not in names
