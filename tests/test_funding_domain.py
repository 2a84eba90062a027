"""The funding rules (botram/domain/funding/): amounts, the mix per event and per year, lifecycle, void,
budget lines, target, exports, letters; property tests that the totals always add up."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from botram.domain import Conflict, DomainError
from botram.domain import funding as rules
from botram.domain import letters
from botram.domain.clock import today_wib
from botram.domain.funding.export import export_rows, to_csv, to_xlsx
from botram.extensions import db
from botram.models import AuditLog, BudgetLine, Contribution, ContributionItem, FundingTarget, Sponsor

from .conftest import count
from .factories import give, make_budget_line, make_event, make_sponsor, make_user


# ---------------------------------------------------------------- amounts

@pytest.mark.parametrize("text, amount", [
    ("Rp 1.500.000", 1_500_000), ("1,5 jt", 1_500_000), ("1500000", 1_500_000), ("Rp1,5 juta", 1_500_000),
    ("250rb", 250_000), ("1.500.000,00", 1_500_000)])
def test_exact_amounts_are_parsed(text, amount):
    assert rules.parse_amount(text) == amount


@pytest.mark.parametrize("text, message", [
    ("", "wajib diisi"), ("   ", "wajib diisi"), ("-5000", "tidak boleh negatif"), ("−5000", "tidak boleh negatif"),
    ("2jtan", "bukan perkiraan"), ("50rb-an", "bukan perkiraan"), ("abc", "tidak dikenali"),
    ("25.000,50", "rupiah bulat"), ("0", "lebih dari Rp 0"), ("200 miliar", "tidak wajar"),
    ("1" * 41, "terlalu panjang")])
def test_bad_amounts_are_refused_with_a_message(text, message):
    with pytest.raises(DomainError) as exc:
        rules.parse_amount(text, field="value", label="Jumlah")
    assert message in exc.value.message and exc.value.field == "value"


# ---------------------------------------------------------------- the rule

def test_event_mix_follows_the_documented_rule(app):
    event = make_event()
    make_budget_line(event, planned="10.000.000", actual="12.000.000")   # actual wins
    make_budget_line(event, planned="3.000.000", category="sound")        # planned while no actual
    voided = make_budget_line(event, planned="99.000.000", category="other")
    rules.void_budget_line(voided, "Salah kegiatan")
    s = make_sponsor()
    give(s, event, value="4 jt")
    give(s, event, form="in_kind", value="2.000.000", claimed_text="3.000.000")
    give(s, event, value="1 jt", status="pledged")
    give(s, None, value="50 jt")                              # programme-wide: not the event's
    cancelled = give(s, event, value="7 jt", status="pledged")
    rules.cancel_pledge(cancelled, "Sponsor menarik janji")
    wrong = give(s, event, value="9 jt")
    rules.void_contribution(wrong, "Salah ketik jumlah")
    db.session.commit()

    mix = rules.funding_mix(event.id)
    assert (mix.total_cost, mix.sponsor_cash, mix.in_kind) == (15_000_000, 4_000_000, 2_000_000)
    assert mix.apbd_amount == 9_000_000 and mix.apbd_share == 0.6
    assert mix.pledged_cash == 1_000_000 and mix.surplus == 0


def test_share_is_none_without_cost_and_apbd_never_negative(app):
    event = make_event()
    assert rules.funding_mix(event.id).apbd_share is None
    make_budget_line(event, planned="1.000.000")
    give(make_sponsor(), event, value="3 jt")
    mix = rules.funding_mix(event.id)
    assert mix.apbd_amount == 0 and mix.surplus == 2_000_000 and mix.apbd_share == 0.0


def test_year_counts_programme_money_and_the_target(app):
    today = today_wib()
    event = make_event(day=today)
    other_year = make_event(title="BOTRAM Lama", day=date(today.year - 1, 6, 1), status="closed")
    make_budget_line(event, planned="20.000.000")
    make_budget_line(other_year, planned="5.000.000")
    s = make_sponsor()
    b = make_sponsor("Perumda Tirta Bhagasasi", "bumd", sector="Air minum")
    give(s, event, value="2 jt")
    give(b, None, value="6 jt")
    give(b, other_year, value="1 jt", received_on=date(today.year - 1, 6, 1))
    rules.set_target(today.year, "60")
    db.session.commit()
    year = rules.yearly_funding(today.year)
    assert (year.total_cost, year.sponsor_cash, year.apbd_amount) == (20_000_000, 8_000_000, 12_000_000)
    assert year.apbd_share == 0.6 and year.target_share == 0.6 and year.on_track is True
    assert year.by_kind == {"csr": 2_000_000, "bumd": 6_000_000}
    assert year.by_sector == {"Air minum": 6_000_000, "Manufaktur": 2_000_000}
    assert year.programme.sponsor_cash == 6_000_000
    assert rules.funding_mix(event.id).sponsor_cash == 2_000_000
    rules.set_target(today.year, "55")
    assert rules.yearly_funding(today.year).on_track is False


def test_api_payload_has_exactly_the_documented_keys(app):
    today = today_wib()
    event = make_event()
    make_budget_line(event, planned="10.000.000")
    give(make_sponsor(), event, value="2.500.000")
    payload = rules.funding_api_payload(today.year)
    assert set(payload) == {"year", "total_cost", "sponsor_cash", "in_kind", "apbd_amount", "apbd_share",
                            "target_share", "events"}
    assert payload["apbd_amount"] == 7_500_000 and payload["apbd_share"] == 0.75 and payload["target_share"] is None
    assert all(isinstance(payload[k], int) for k in ("total_cost", "sponsor_cash", "in_kind", "apbd_amount"))
    assert payload["events"] == [{"id": event.id, "title": event.title, "date": event.date.isoformat(),
                                  "total_cost": 10_000_000, "sponsor_cash": 2_500_000, "in_kind": 0,
                                  "apbd_amount": 7_500_000, "apbd_share": 0.75}]


def test_public_sponsors_are_received_live_and_consenting(app):
    event = make_event()
    yes = make_sponsor("PT Setuju", public_thanks=True)
    no = make_sponsor("PT Diam", public_thanks=False)
    pledger = make_sponsor("PT Janji", public_thanks=True)
    voided = make_sponsor("PT Salah", public_thanks=True)
    give(yes, event)
    give(no, event)
    give(pledger, event, status="pledged")
    rules.void_contribution(give(voided, event), "Salah sponsor")
    db.session.commit()
    assert rules.public_sponsors(event.id) == ["PT Setuju"]


# ---------------------------------------------------------------- records

def test_sponsor_validation(app):
    cases = [
        (dict(name=""), "name", "wajib diisi"),
        (dict(name="x" * 161), "name", "paling banyak"),
        (dict(kind="bank"), "kind", "jenis sponsor"),
        (dict(phone="12345"), "phone", "Nomor telepon tidak valid"),
        (dict(npwp="123"), "npwp", "NPWP tidak valid"),
        (dict(email="bukan-email"), "email", "email tidak valid"),
        (dict(notes="x" * 2001), "notes", "paling banyak"),
    ]
    for change, field, message in cases:
        data = rules.SponsorInput(name="PT Baru", kind="csr")
        for key, value in change.items():
            setattr(data, key, value)
        with pytest.raises(DomainError) as exc:
            rules.create_sponsor(data)
        assert exc.value.field == field and message in exc.value.message
    assert count(Sponsor) == 0
    good = rules.create_sponsor(rules.SponsorInput(name="PT Baru", kind="csr", phone="0812-3456-7890",
                                                   npwp="01.234.567.8-431.000"))
    assert good.phone == "+6281234567890" and good.npwp == "012345678431000"
    with pytest.raises(DomainError) as exc:
        rules.create_sponsor(rules.SponsorInput(name="pt baru", kind="bumd"))
    assert exc.value.status == 409


def test_contribution_rules_refuse_and_save_nothing(app):
    event = make_event()
    s = make_sponsor()
    future = today_wib() + timedelta(days=1)
    base = dict(sponsor_id=s.id, event_id=event.id, form="cash", value_text="1 jt", status="received",
                received_on=today_wib(), receipt_number="KW-1")
    cases = [
        (dict(sponsor_id=9999), "sponsor_id"), (dict(event_id=9999), "event_id"), (dict(form="emas"), "form"),
        (dict(value_text="2jtan"), "value"), (dict(value_text="-1"), "value"), (dict(received_on=future), "received_on"),
        (dict(received_on=None), "received_on"), (dict(receipt_number=""), "receipt_number"),
        (dict(receipt_number="KW<1>"), "receipt_number"), (dict(status="lunas"), "status"),
        (dict(pledged_on=future, status="pledged"), "pledged_on"),
        (dict(form="in_kind", category="goods", valuation_basis="Harga pasar", bast_number="",
              items=[rules.ItemInput("Tenda", 1)]), "bast_number"),
        (dict(form="in_kind", category="goods", valuation_basis="Harga pasar", bast_number="B1", items=[]), "items"),
        (dict(form="in_kind", category="goods", valuation_basis="Harga pasar", bast_number="B1",
              items=[rules.ItemInput("Tenda", 0)]), "items"),
        (dict(form="in_kind", category="", valuation_basis="x", bast_number="B1"), "category"),
        (dict(form="in_kind", category="goods", valuation_basis="", bast_number="B1",
              items=[rules.ItemInput("Tenda", 1)]), "valuation_basis"),
        (dict(form="in_kind", category="goods", valuation_basis="Harga", bast_number="B1", claimed_text="500rb",
              items=[rules.ItemInput("Tenda", 1)]), "value"),
        (dict(budget_line_id=1), "budget_line_id"),
    ]
    for change, field in cases:
        data = rules.ContributionInput(**{**base, **change})
        with pytest.raises(DomainError) as exc:
            rules.record_contribution(data)
        assert exc.value.field == field, (change, exc.value.message)
        db.session.rollback()
    assert count(Contribution) == 0 and count(ContributionItem) == 0
    assert count(AuditLog, AuditLog.entity == "contribution") == 0


def test_received_receipt_numbers_are_unique_among_live_entries(app):
    s = make_sponsor()
    first = give(s, receipt="KW/1")
    with pytest.raises(DomainError) as exc:
        give(s, receipt="kw/1")
    assert exc.value.status == 409
    db.session.rollback()
    rules.void_contribution(first, "Salah catat jumlah")
    give(s, receipt="KW/1")  # the number is free again once the wrong entry is voided
    assert count(Contribution) == 2


def test_lifecycle_receive_cancel_void_and_audit(app):
    user = make_user("keuangan")
    s = make_sponsor()
    event = make_event()
    pledge = give(s, event, form="in_kind", status="pledged", value="3 jt")
    with pytest.raises(DomainError) as exc:
        rules.mark_received(pledge, today_wib(), "KW-9", "", by_user_id=user.id)
    assert exc.value.field == "bast_number"
    with pytest.raises(DomainError):
        rules.mark_received(pledge, today_wib() + timedelta(days=1), "KW-9", "BAST-1")
    rules.mark_received(pledge, today_wib(), "KW-9", "BAST-1", by_user_id=user.id)
    db.session.commit()
    assert pledge.status == "received" and pledge.bast_number == "BAST-1"
    with pytest.raises(Conflict):
        rules.cancel_pledge(pledge, "Tidak jadi")
    for reason in ("", "   ", "abc", "x" * 301):
        with pytest.raises(DomainError) as exc:
            rules.void_contribution(pledge, reason)
        assert exc.value.field == "reason"
    assert pledge.voided_at is None
    rules.void_contribution(pledge, "Salah kegiatan", by_user_id=user.id)
    db.session.commit()
    with pytest.raises(Conflict):
        rules.void_contribution(pledge, "Lagi-lagi salah")
    with pytest.raises(Conflict):
        rules.mark_received(pledge, today_wib(), "KW-10")
    actions = [(a.action, a.user_id) for a in rules.history("contribution", pledge.id)]
    assert actions == [("funding.contribution.record", None), ("funding.contribution.receive", user.id),
                       ("funding.contribution.void", user.id)]
    assert count(Contribution) == 1  # never deleted


def test_budget_lines_update_void_and_cover(app):
    event = make_event()
    tents = make_budget_line(event, planned="10 jt")
    rules.update_budget_line(tents, rules.BudgetLineInput("tents", "Sewa tenda besar", "10 jt", "11.250.000"))
    db.session.commit()
    entry = rules.history("budget_line", tents.id)[-1]
    assert entry.action == "funding.budget.update"
    assert entry.detail["changes"]["actual"] == [None, 11_250_000]
    with pytest.raises(DomainError) as exc:
        rules.add_budget_line(event, rules.BudgetLineInput("tents", "Sewa", "", ""))
    assert exc.value.field == "description" or exc.value.field == "planned"
    other = make_event(title="BOTRAM Lain")
    s = make_sponsor()
    with pytest.raises(DomainError) as exc:
        give(s, other, form="in_kind", budget_line_id=tents.id)
    assert exc.value.field == "budget_line_id"
    db.session.rollback()
    give(s, event, form="in_kind", budget_line_id=tents.id)
    with pytest.raises(Conflict):
        rules.void_budget_line(tents, "Tidak dipakai")
    assert count(BudgetLine, BudgetLine.voided_at.is_not(None)) == 0


def test_target_is_basis_points(app):
    assert rules.parse_share_percent("60") == 6000
    assert rules.parse_share_percent("57,5%") == 5750
    for bad in ("", "abc", "101", "-1", "60.123"):
        with pytest.raises(DomainError):
            rules.parse_share_percent(bad)
    with pytest.raises(DomainError):
        rules.set_target(1999, "60")
    rules.set_target(2027, "60")
    rules.set_target(2027, "55")
    db.session.commit()
    assert db.session.get(FundingTarget, 2027).apbd_max_share_bp == 5500
    assert [a.detail for a in db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "funding.target.set"))] \
        == [{"old_bp": None, "new_bp": 6000}, {"old_bp": 6000, "new_bp": 5500}]


# ---------------------------------------------------------------- exports and letters

def test_exports_hold_one_row_per_contribution(app):
    event = make_event()
    s = make_sponsor()
    cash = give(s, event, value="1.500.000")
    goods = give(s, event, form="in_kind", value="2 jt", claimed_text="2,5 jt")
    rules.void_contribution(goods, "Salah nilai")
    db.session.commit()
    today = today_wib()
    rows = export_rows(date(today.year, 1, 1), today)
    assert [r[0] for r in rows] == [cash.id, goods.id]
    text = to_csv(rows).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0][2] == "Sponsor" and parsed[1][11] == "1500000" and parsed[2][10] == "Dibatalkan (salah catat)"
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(to_xlsx(rows, "uji")))
    sheet = book["Sumbangan"]
    assert sheet.max_row == 3 and sheet.cell(2, 12).value == 1_500_000 and sheet.cell(3, 13).value == 2_500_000
    # the voided goods book nothing: the column sums to what the funding summary counts
    assert sheet.cell(3, 12).value == 0 and parsed[2][11] == "0"
    assert sheet.cell(2, 12).number_format == '"Rp" #,##0' and sheet.cell(2, 2).number_format == "dd/mm/yyyy"
    assert sheet.cell(2, 2).value.date() == cash.book_date and sheet.cell(2, 1).value == cash.id
    assert sheet.cell(1, 3).value == "Sponsor" and sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:S3"
    with pytest.raises(DomainError) as exc:
        export_rows(today, today - timedelta(days=1))
    assert exc.value.field == "date_to"
    with pytest.raises(DomainError):
        export_rows(None, today)


def test_exports_never_write_formulas(app):
    s = make_sponsor("=HYPERLINK(\"http://evil.example\")")
    give(s, description="+62 sumbangan")
    today = today_wib()
    rows = export_rows(date(today.year, 1, 1), today)
    assert rows[0][2].startswith("'=") and rows[0][9].startswith("'+")
    from openpyxl import load_workbook

    cell = load_workbook(io.BytesIO(to_xlsx(rows, "uji")))["Sumbangan"].cell(2, 3)
    assert cell.data_type == "s" and cell.value.startswith("'=")


def test_letters_spell_the_amount_and_refuse_unreceived(app):
    s = make_sponsor()
    received = give(s, value="1.500.000")
    doc = letters.document(received, "receipt")
    assert doc.amount_words == "Satu juta lima ratus ribu rupiah"
    assert doc.number.startswith(f"{received.id:03d}/TT-BOTRAM/")
    pledge = give(s, status="pledged")
    with pytest.raises(Conflict):
        letters.document(pledge, "letter")


# ---------------------------------------------------------------- properties

@pytest.mark.db_independent
def test_mix_identity_holds_for_any_amounts():
    @given(st.integers(0, 10**12), st.integers(0, 10**12), st.integers(0, 10**12))
    def check(total, cash, in_kind):
        mix = rules.Mix(total_cost=total, sponsor_cash=cash, in_kind=in_kind)
        assert mix.total_cost + mix.surplus == mix.sponsor_cash + mix.in_kind + mix.apbd_amount
        assert mix.apbd_amount >= 0 and isinstance(mix.apbd_amount, int)
        if cash + in_kind <= total:
            assert total == cash + in_kind + mix.apbd_amount
        if total == 0:
            assert mix.apbd_share is None
        else:
            assert 0 <= mix.apbd_share <= 1
    check()


entries = st.lists(st.tuples(
    st.sampled_from(["cash", "in_kind"]), st.integers(1, 50_000_000),
    st.sampled_from(["received", "pledged", "cancelled", "voided"]), st.booleans()), max_size=8)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(costs=st.lists(st.tuples(st.integers(1, 50_000_000), st.none() | st.integers(0, 50_000_000)), max_size=5),
       given_entries=entries)
def test_totals_always_add_up_in_the_database(app, costs, given_entries):
    for model in (ContributionItem, Contribution, BudgetLine, AuditLog, Sponsor):
        db.session.execute(sa.delete(model))
    db.session.commit()
    from botram.models import Event

    event = db.session.scalar(sa.select(Event)) or make_event()
    s = make_sponsor()
    for planned, actual in costs:
        make_budget_line(event, planned=str(planned), actual="" if actual is None else str(actual))
    expected_cash = expected_kind = 0
    for index, (form, value, state, for_event) in enumerate(given_entries):
        c = give(s, event if for_event else None, form=form, value=str(value),
                 status="received" if state in ("received", "voided") else "pledged", receipt=f"KW-{index}")
        if state == "cancelled":
            rules.cancel_pledge(c, "Ditarik sponsor")
        elif state == "voided":
            rules.void_contribution(c, "Salah catat")
        elif state == "received" and for_event:
            if form == "cash":
                expected_cash += value
            else:
                expected_kind += value
    db.session.commit()
    total = sum(actual if actual is not None else planned for planned, actual in costs)
    mix = rules.funding_mix(event.id)
    assert (mix.total_cost, mix.sponsor_cash, mix.in_kind) == (total, expected_cash, expected_kind)
    assert mix.total_cost + mix.surplus == mix.sponsor_cash + mix.in_kind + mix.apbd_amount
    assert mix.apbd_amount == max(0, total - expected_cash - expected_kind)
    year = rules.yearly_funding(event.date.year)
    assert year.total_cost + year.surplus == year.sponsor_cash + year.in_kind + year.apbd_amount
    pledged = sum(v for f, v, st_, _e in given_entries if st_ == "pledged")
    assert year.pledged == pledged


def test_event_rows_reconcile_with_the_year_through_surpluses_and_programme_money(app):
    day = today_wib()
    a, b, c = (make_event(t, day=day) for t in ("BOTRAM A", "BOTRAM B", "BOTRAM C"))
    make_budget_line(a, planned="10.000.000")
    make_budget_line(b, planned="4.000.000")
    s = make_sponsor()
    give(s, a, value="Rp 3.000.000")
    give(s, b, value="Rp 6.000.000")           # 2 jt more than its cost
    give(s, c, value="Rp 1.000.000")           # no budget at all: all of it is surplus
    give(s, None, value="Rp 500.000")          # programme-wide
    year = rules.yearly_funding(day.year)
    mixes = {m.title: m for m in year.events}
    assert (mixes["BOTRAM B"].surplus, mixes["BOTRAM B"].apbd_amount, mixes["BOTRAM B"].apbd_share) == (2_000_000, 0, 0)
    assert mixes["BOTRAM C"].surplus == 1_000_000 and mixes["BOTRAM C"].apbd_share is None
    assert (year.events_apbd, year.events_surplus) == (7_000_000, 3_000_000)
    assert year.apbd_amount == 3_500_000 and year.surplus == 0
    assert year.events_apbd - year.events_surplus - year.programme.sponsors == year.apbd_amount - year.surplus
