"""The running text goes up on the public projector: a NIK-like or phone-like number is refused with a clear
message on the form, and nothing is saved (botram.domain.events.set_running_text)."""
from __future__ import annotations

import pytest

from botram.domain import DomainError
from botram.domain import events as rules
from botram.extensions import db
from botram.models import AuditLog, Event

from .conftest import count
from .factories import make_event, make_user

MESSAGE = "hapus nomor yang mirip NIK atau nomor telepon"


@pytest.mark.parametrize("text", [
    "Kehilangan dompet, NIK 3216014507890001, hubungi panitia",
    "NIK: 32.16.01.450789.0001 ditemukan",
    "Info: 0812-3456-7890 (Bu Ani)",
    "WA 0812 3456 7890",
    "Telp +62 812.3456.7890",
    "Nomor 628123456789",
    "Kode 3216012345670001",
    "Rekening 123456789",
])
def test_personal_numbers_are_refused_on_the_form_and_nothing_is_saved(client, auth, text):
    make_user("koordinator")
    event = make_event()
    rules.set_running_text(event, "Siapkan KK dan KTP-el.")
    db.session.commit()
    audits = count(AuditLog)
    auth.login("koordinator")
    response = client.post(f"/events/{event.id}/running-text", data={"running_text": text})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert MESSAGE in body and text.split()[0] in body  # the message beside the field, the text kept in the box
    assert db.session.get(Event, event.id).running_text == "Siapkan KK dan KTP-el."
    assert count(AuditLog) == audits + 1  # only the sign-in


@pytest.mark.parametrize("text", [
    "Selamat datang di BOTRAM Kecamatan Cikarang Timur! Loket 3 buka sampai 17.00 WIB.",
    "Jadwal 08.00-16.00 WIB, 28.11.2026 dan 29.11.2026. Kuota 150 orang.",
    "Sumbangan CSR Rp 1.500.000.000 untuk 23 kecamatan",
])
def test_ordinary_announcements_pass(app, text):
    event = make_event()
    rules.set_running_text(event, text)
    db.session.commit()
    assert db.session.get(Event, event.id).running_text == text


def test_the_rule_is_in_the_domain_with_the_field_name(app):
    event = make_event()
    with pytest.raises(DomainError) as caught:
        rules.set_running_text(event, "hubungi 081234567890")
    assert caught.value.field == "running_text" and MESSAGE in caught.value.message
