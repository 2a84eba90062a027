"""Tests written to kill the mutants `make mutate` found alive in botram/domain/funding/ (docs/mutation-testing.md).

Each pins an exact figure or boundary of the funding rule that the broader tests of test_funding_domain.py
only touched on the way: a mutant that still adds up in those (a `max(0, …)` dropped, a `<=` turned `<`,
a rounding to 3 places) changes a number here."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from botram.domain import DomainError
from botram.domain.funding import shared
from botram.domain.funding.summary import Mix, YearFunding, share

pytestmark = pytest.mark.db_independent  # the SQLite pass runs these (tests/conftest.py)


def contribution(value: int, *, form: str = "cash", status: str = "received", voided: bool = False):
    return SimpleNamespace(value=value, form=form, status=status, voided_at="2026-01-01" if voided else None,
                           voided=voided)


def test_share_is_none_without_a_total_and_rounded_to_four_places():
    assert share(1, 0) is None and share(0, -5) is None
    assert share(1, 3) == 0.3333
    assert share(2, 3) == 0.6667
    assert share(3, 3) == 1.0
    assert share(1, 1) == 1.0  # a total of one is a total


def test_mix_counts_received_live_contributions_and_shows_pledges_apart():
    mix = Mix(total_cost=1_000)
    for c in (contribution(100), contribution(200), contribution(150, form="in_kind"),
              contribution(50, form="in_kind"), contribution(20, status="pledged"), contribution(30, status="pledged"),
              contribution(30, form="in_kind", status="pledged"), contribution(40, form="in_kind", status="pledged"),
              contribution(999, voided=True),
              contribution(999, form="in_kind", voided=True), contribution(11, status="cancelled"),
              contribution(13, form="in_kind", status="cancelled")):
        mix.add(c)
    assert (mix.sponsor_cash, mix.in_kind, mix.pledged_cash, mix.pledged_in_kind) == (300, 200, 50, 70)
    assert (mix.sponsors, mix.pledged) == (500, 120)
    assert (mix.apbd_amount, mix.surplus) == (500, 0)
    assert (mix.apbd_share, mix.sponsor_share) == (0.5, 0.5)


def test_mix_when_sponsors_give_more_than_the_cost():
    mix = Mix(total_cost=300, sponsor_cash=400, in_kind=100)
    assert mix.sponsors == 500
    assert mix.apbd_amount == 0  # never negative
    assert mix.surplus == 200
    assert (mix.apbd_share, mix.sponsor_share) == (0.0, 1.0)


def test_mix_shares_round_to_four_places_and_are_none_without_cost():
    mix = Mix(total_cost=3, sponsor_cash=1)
    assert (mix.apbd_share, mix.sponsor_share) == (0.6667, 0.3333)
    assert Mix(total_cost=1, sponsor_cash=0).sponsor_share == 0.0
    for cost in (0, -1):
        free = Mix(total_cost=cost, sponsor_cash=10)
        assert free.apbd_share is None and free.sponsor_share is None
        assert free.within(5_000) is None


def test_within_is_at_or_under_the_target_in_basis_points():
    mix = Mix(total_cost=10_000, sponsor_cash=6_000)  # APBD 4,000 = 40 %
    assert mix.within(4_000) is True  # exactly at the target
    assert mix.within(3_999) is False
    assert mix.within(4_001) is True
    assert mix.within(None) is None
    assert Mix(total_cost=1, sponsor_cash=0).within(10_000) is True
    assert Mix(total_cost=1, sponsor_cash=0).within(9_999) is False


def test_year_figures_sum_the_events_each_on_its_own():
    events = [Mix(total_cost=100, sponsor_cash=30), Mix(total_cost=50, sponsor_cash=80), Mix(total_cost=10)]
    year = YearFunding(events=events, target_bp=2_500)
    assert year.events_apbd == 70 + 0 + 10
    assert year.events_surplus == 30
    assert year.target_share == 0.25
    assert YearFunding(target_bp=3_333).target_share == 0.3333
    assert YearFunding(target_bp=9_999).target_share == 0.9999
    assert YearFunding().target_share is None
    year.total_cost, year.sponsor_cash = 100, 75
    assert year.on_track is True  # APBD 25 % against a 25 % target
    year.sponsor_cash = 74
    assert year.on_track is False


def test_status_key_shows_voided_over_the_lifecycle():
    assert shared.status_key(SimpleNamespace(voided=True, status="received")) == "voided"
    assert shared.status_key(SimpleNamespace(voided=False, status="pledged")) == "pledged"


@pytest.mark.parametrize("value, expected", [("  Dinas   Kesehatan \n", "Dinas Kesehatan"), ("abc", "abc"),
                                             ("x" * 15, "x" * 15)])
def test_clean_text_squeezes_spaces_and_accepts_the_limits(value, expected):
    assert shared.clean_text(value, "name", "Nama", 15, lo=3) == expected


@pytest.mark.parametrize("value, field", [("", "nama"), (None, "nama"), ("   ", "nama"), ("ab", "nama"),
                                          ("abcdef", "nama")])
def test_clean_text_refuses_empty_short_and_long_naming_the_field(value, field):
    with pytest.raises(DomainError) as info:
        shared.clean_text(value, "nama", "Nama", 5, lo=3)
    assert info.value.field == field


def test_clean_text_takes_one_character_unless_told_otherwise():
    assert shared.clean_text(" a ", "nama", "Nama", 5) == "a"


def test_clean_text_optional_empty_is_an_empty_string():
    assert shared.clean_text("  ", "nama", "Nama", 5, required=False) == ""
    assert shared.clean_text(None, "nama", "Nama", 5, required=False) == ""


def test_clean_doc_number_keeps_a_good_number_and_refuses_a_bad_one_naming_the_field():
    assert shared.clean_doc_number(" 12/BPKAD/2026 ", "doc", "Nomor", required=True) == "12/BPKAD/2026"
    assert shared.clean_doc_number("", "doc", "Nomor", required=False) == ""
    for bad in ("-12", "12;DROP", "/a"):
        with pytest.raises(DomainError) as info:
            shared.clean_doc_number(bad, "doc", "Nomor kuitansi", required=True)
        assert info.value.field == "doc"
    with pytest.raises(DomainError) as info:
        shared.clean_doc_number("A" * (shared.NUMBER_MAX + 1), "doc", "Nomor kuitansi", required=True)
    assert "Nomor kuitansi" in str(info.value.message)
    with pytest.raises(DomainError) as info:
        shared.clean_doc_number("", "doc", "Nomor", required=True)
    assert info.value.field == "doc"
    with pytest.raises(DomainError):
        shared.clean_doc_number("A" * (shared.NUMBER_MAX + 1), "doc", "Nomor", required=True)
    assert shared.clean_doc_number("A" * shared.NUMBER_MAX, "doc", "Nomor", required=True) == "A" * shared.NUMBER_MAX


def test_a_reason_needs_five_characters_and_names_its_field():
    assert shared.clean_reason("salah") == "salah"
    with pytest.raises(DomainError) as info:
        shared.clean_reason("sala")
    assert info.value.field == "reason"
    with pytest.raises(DomainError):
        shared.clean_reason("x" * (shared.REASON_MAX + 1))
    assert shared.clean_reason("x" * shared.REASON_MAX) == "x" * shared.REASON_MAX


def test_parse_amount_passes_its_options_through():
    assert shared.parse_amount("Rp 1.500.000") == 1_500_000
    assert shared.parse_amount("", required=False) is None
    assert shared.parse_amount("0", allow_zero=True) == 0
    with pytest.raises(DomainError) as info:
        shared.parse_amount("0", field="value")
    assert info.value.field == "value"
    with pytest.raises(DomainError) as info:
        shared.parse_amount("", field="value")
    assert info.value.field == "value" and "Jumlah" in str(info.value.message)
    with pytest.raises(DomainError) as info:
        shared.parse_amount("", field="value", label="Nilai sumbangan")
    assert "Nilai sumbangan" in str(info.value.message)
