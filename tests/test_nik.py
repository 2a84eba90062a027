"""NIK checks with lokal-id: malformed refused with a clear message, outside the regency or odd dates warn."""
from datetime import date

import pytest

from botram.domain import DomainError
from botram.domain.nik import check_nik, mask_nik

pytestmark = pytest.mark.db_independent  # the SQLite pass runs these (tests/conftest.py)

TODAY = date(2026, 11, 28)


def test_valid_bekasi_nik_has_no_warnings():
    result = check_nik("3216014501900001", today=TODAY)
    assert result.nik == "3216014501900001"
    assert result.warnings == []


def test_spaces_and_dots_are_stripped():
    assert check_nik(" 3216.01.450190.0001 ", today=TODAY).nik == "3216014501900001"
    assert check_nik("3216 0145 0190 0001", today=TODAY).nik == "3216014501900001"


@pytest.mark.parametrize("raw, fragment", [
    ("12345", "16 digit"),
    ("32160145019000011", "16 digit"),
    ("3216O14501900001", "16 digit"),
    ("3216019913900001", "Tanggal lahir di NIK tidak valid"),
    ("3216010002900001", "Tanggal lahir di NIK tidak valid"),
    ("9916014501900001", "provinsi"),
    ("3200004501900001", "tidak boleh 00"),
    ("3216014501900000", "0000"),
    ("", "NIK kosong"),
])
def test_malformed_nik_is_refused_with_a_clear_message(raw, fragment):
    with pytest.raises(DomainError) as exc:
        check_nik(raw, today=TODAY)
    assert exc.value.field == "nik"
    assert fragment in exc.value.message
    assert exc.value.status == 422


def test_nik_outside_the_regency_only_warns():
    result = check_nik("3171014501900001", today=TODAY)
    assert result.nik == "3171014501900001"
    assert len(result.warnings) == 1
    assert "di luar Kabupaten Bekasi" in result.warnings[0]
    assert "Jakarta Pusat" in result.warnings[0]


def test_nik_with_a_birth_date_in_the_future_only_warns():
    # 2026-12-05 is after "today" (2026-11-28): a real date, but odd.
    result = check_nik("3216010512260001", today=TODAY)
    assert any("masa depan" in w for w in result.warnings)


def test_nik_with_unknown_district_code_warns():
    result = check_nik("3216994501900001", today=TODAY)
    assert any("Kemendagri" in w for w in result.warnings)


def test_women_have_day_plus_40_and_are_valid():
    assert check_nik("3216017112800002", today=TODAY).warnings == []


def test_mask_nik():
    assert mask_nik("3216014501900001") == "3216********0001"
    assert mask_nik(None) == ""
    assert mask_nik("") == ""
    assert mask_nik("1234") == "****"
