"""The one rupiah parser (botram/domain/money.py), the funding forms that show every mistake at once, and the
date window of contributions."""
from __future__ import annotations

import re
from datetime import date, timedelta

import lokal
import pytest
from hypothesis import given
from hypothesis import strategies as st

from botram.domain import DomainError
from botram.domain import funding as rules
from botram.domain.clock import today_wib
from botram.domain.money import MAX_RUPIAH, parse_rupiah
from botram.extensions import db
from botram.models import Contribution, Sponsor

from .conftest import count
from .factories import make_event, make_user
from .hypothesis_profiles import fuzz_settings


@pytest.mark.db_independent
@pytest.mark.parametrize("text, amount", [
    ("Rp 1.500.000", 1_500_000), ("Rp. 1.500.000", 1_500_000), ("IDR 1.500.000", 1_500_000),
    ("1500000", 1_500_000), ("1.500.000,00", 1_500_000), ("1.500.000,-", 1_500_000), ("1.500", 1_500),
    ("1,5 jt", 1_500_000), ("1.5 juta", 1_500_000), ("Rp1,5 juta", 1_500_000), ("250rb", 250_000),
    ("250 ribu", 250_000), ("10k", 10_000), ("2 M", 2_000_000_000), ("2,25 miliar", 2_250_000_000),
    ("1 jt 500 rb", 1_500_000), ("1jt500rb", 1_500_000), ("  rp 75.000  ", 75_000),
    ("100 miliar", MAX_RUPIAH)])
def test_accepted_forms(text, amount):
    assert parse_rupiah(text) == amount


@pytest.mark.db_independent
@pytest.mark.parametrize("text, message", [
    ("", "wajib diisi"), (" \t ", "wajib diisi"),
    ("1" * 41, "terlalu panjang"),
    ("-5000", "tidak boleh negatif"), ("−5000", "tidak boleh negatif"), ("Rp -5.000", "tidak boleh negatif"),
    ("٣٢١٦", "angka 0–9"), ("１２３", "angka 0–9"), ("²", "angka 0–9"),
    ("2jtan", "bukan perkiraan"), ("50rb-an", "bukan perkiraan"), ("sekitar 1 juta", "bukan perkiraan"),
    ("±1 jt", "bukan perkiraan"),
    ("25.000,50", "rupiah bulat"), ("1,5", "rupiah bulat"),
    ("1,500,000", "ribuan dengan titik"), ("1,500", "ribuan dengan titik"),
    # lokal-id reads these as 501 and as three million: refused here
    ("1 500 000", "tidak dikenali"), ("1-2 jt", "tidak dikenali"), ("500 rb 1 jt", "tidak dikenali"),
    ("dua juta", "tidak dikenali"), ("abc", "tidak dikenali"), ("1.50.000", "tidak dikenali"),
    ("1e9", "tidak dikenali"), ("<script>", "tidak dikenali"),
    ("0", "lebih dari Rp 0"),
    ("100.000.000.001", "tidak wajar"), ("200 miliar", "tidak wajar"), ("1" * 20, "tidak wajar"),
    ("9" * 40, "tidak wajar"), ("2 T", "tidak wajar"),
])
def test_refused_forms_name_the_field_in_indonesian(text, message):
    with pytest.raises(DomainError) as refused:
        parse_rupiah(text, field="value", label="Jumlah uang")
    assert message in refused.value.message and refused.value.field == "value"
    assert refused.value.message.startswith("Jumlah uang")


@pytest.mark.db_independent
def test_optional_and_zero():
    assert parse_rupiah("", required=False) is None
    assert parse_rupiah("0", allow_zero=True) == 0


@pytest.mark.db_independent
@given(amount=st.integers(min_value=1, max_value=MAX_RUPIAH))
@fuzz_settings()
def test_every_amount_written_with_dots_reads_back(amount):
    dotted = f"{amount:,}".replace(",", ".")
    assert parse_rupiah(f"Rp {dotted}") == amount == parse_rupiah(str(amount))


@pytest.mark.db_independent
@given(text=st.from_regex(r"(Rp ?)?[1-9][0-9]{0,3}([.,][0-9]{1,3})? ?(rb|ribu|jt|juta|M|miliar)( [1-9][0-9]{0,2} ?(rb|ribu))?",
                          fullmatch=True))
@fuzz_settings()
def test_whatever_is_accepted_agrees_with_lokal_id(text):
    """Where both read an amount, they read the same one: the shorthand means what Indonesians mean by it."""
    try:
        ours = parse_rupiah(text)
    except DomainError:
        return
    theirs = lokal.parse_rupiah(text)
    assert theirs is not None and not theirs.approximate and round(theirs.amount) == ours, (text, ours, theirs)


@pytest.mark.db_independent
@given(text=st.text(max_size=45))
@fuzz_settings()
def test_any_text_is_an_amount_or_a_message(text):
    try:
        amount = parse_rupiah(text)
    except DomainError as refused:
        assert refused.field == "amount" and refused.message
    else:
        assert isinstance(amount, int) and 0 < amount <= MAX_RUPIAH


# ------------------------------------- every mistake at once (DomainError.errors, botram/domain/__init__.py)

FIELD_ERROR = re.compile(r'<div class="field-error" id="([^"]+)-error"[^>]*>([^<]*)</div>')


def test_the_sponsor_form_shows_every_mistake_in_one_submit(client, auth, app):
    make_user("keuangan")
    auth.login("keuangan")
    response = client.post("/funding/sponsors/new", data={
        "name": "X", "kind": "", "phone": "12", "email": "bukan-email", "npwp": "123", "notes": "ok"})
    assert response.status_code == 422
    errors = dict(FIELD_ERROR.findall(response.get_data(as_text=True)))
    assert {"name", "kind", "phone", "email", "npwp"} <= set(errors), errors
    assert count(Sponsor) == 0


def test_the_contribution_form_shows_every_mistake_in_one_submit(client, auth, app):
    make_user("keuangan")
    event = make_event()
    auth.login("keuangan")
    response = client.post("/funding/contributions/new", data={
        "sponsor_id": "", "event_id": str(event.id), "form": "cash", "status": "received", "value": "2 jutaan",
        "pledged_on": "1990-01-02", "received_on": "1990-01-03", "receipt_number": "#?"})
    assert response.status_code == 422
    errors = dict(FIELD_ERROR.findall(response.get_data(as_text=True)))
    assert {"sponsor_id", "value", "pledged_on", "received_on", "receipt_number"} <= set(errors), errors
    assert "bukan perkiraan" in errors["value"]
    assert count(Contribution) == 0


# ---------------------------------------------------------------- the date window

def _sponsor() -> Sponsor:
    sponsor = rules.create_sponsor(rules.SponsorInput(name="PT Maju Bersama", kind="csr"))
    db.session.commit()
    return sponsor


@pytest.mark.parametrize("field, day", [("received_on", date(1990, 5, 1)), ("pledged_on", date(1990, 5, 1))])
def test_a_contribution_dated_decades_before_its_event_is_refused(app, field, day):
    event = make_event()
    sponsor = _sponsor()
    dates = {"pledged_on": day, "received_on": today_wib()} if field == "pledged_on" else \
        {"pledged_on": day, "received_on": day}
    with pytest.raises(DomainError) as refused:
        rules.record_contribution(rules.ContributionInput(
            sponsor_id=sponsor.id, event_id=event.id, form="cash", value_text="1 jt", status="received",
            receipt_number="KW-1", **dates))
    fields = dict(refused.value.errors)
    assert field in fields and f"1 Januari {event.date.year - 1}" in fields[field], fields
    db.session.rollback()
    assert count(Contribution) == 0


def test_the_window_is_the_budget_year_and_the_year_before(app):
    today = today_wib()
    event = make_event(day=date(today.year - 1, 6, 1))  # last year's event
    sponsor = _sponsor()
    start, end = rules.date_window(event)
    assert (start, end) == (date(today.year - 2, 1, 1), date(today.year - 1, 12, 31))
    early = rules.record_contribution(rules.ContributionInput(
        sponsor_id=sponsor.id, event_id=event.id, form="cash", value_text="1 jt", status="received",
        pledged_on=start, received_on=start, receipt_number="KW-2"))
    db.session.commit()
    assert early.received_on == start
    pledge = rules.record_contribution(rules.ContributionInput(
        sponsor_id=sponsor.id, event_id=event.id, form="cash", value_text="1 jt", status="pledged",
        pledged_on=end))
    db.session.commit()
    # received this year for last year's event: outside its budget year
    with pytest.raises(DomainError) as refused:
        rules.mark_received(pledge, today, "KW-3")
    assert refused.value.field == "received_on" and f"31 Desember {end.year}" in refused.value.message
    db.session.rollback()
    assert rules.date_window(None) == (date(today.year - 1, 1, 1), date(today.year, 12, 31))
