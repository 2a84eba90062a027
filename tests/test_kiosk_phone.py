"""The optional phone at the kiosk for "your turn is near" (issue 23 with issue 22's messages): taken only while
messages are on, normalised to +62, a number that cannot take a message refused in words on the number pad's
screen, never required; the message then goes to a real HTTP gateway on 127.0.0.1."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from botram.domain import DomainError, kiosk, notify, outbox
from botram.extensions import db
from botram.models import KioskPress, Visit

from .conftest import count
from .factories import make_desk, make_event, make_user, service
from .test_kiosk import hall  # noqa: F401 (the fixture)

PRESS = "p" * 24


@pytest.fixture
def tax_day(app):
    event = make_event(title="BOTRAM Pasar Cikarang")
    make_desk(event, 1, "BAPENDA", ["PAJAK-KONSUL"])
    return event.id, service("PAJAK-KONSUL").id, make_user("kiosk", "kios-1").id


def _take(day, phone, press=PRESS, locale="id"):
    event_id, tax, kiosk_user = day
    return kiosk.take_ticket(event_id, press, [tax], None, "none", by_user_id=kiosk_user, phone=phone,
                             locale=locale).visit


@pytest.mark.parametrize("typed", ["081234567890", "0812-3456-7890", "+6281234567890", "6281234567890"])
def test_a_mobile_number_typed_any_way_is_kept_as_plus_62(app, gateway, tax_day, typed):
    visit = _take(tax_day, typed, locale="en")
    assert (visit.phone, visit.notify, visit.locale) == ("+6281234567890", True, "en")


@pytest.mark.parametrize("typed, message", [
    ("0812", "Nomor HP tidak valid"),
    ("02188321234", "Pesan hanya bisa dikirim ke nomor HP"),  # a Jakarta landline
])
def test_a_number_that_cannot_take_a_message_is_refused_and_no_ticket_is_made(app, gateway, tax_day, typed, message):
    with pytest.raises(DomainError) as refused:
        _take(tax_day, typed)
    assert refused.value.field == "phone" and message in refused.value.message
    assert count(Visit) == 0 and count(KioskPress) == 0


def test_the_phone_is_never_required_and_is_dropped_while_messages_are_off(app, gateway, tax_day):
    skipped = _take(tax_day, None)
    assert (skipped.phone, skipped.notify) == (None, False)
    app.config["BOTRAM_NOTIFY_URLS"] = ""
    off = _take(tax_day, "081234567890", press="q" * 24)
    assert (off.phone, off.notify) == (None, False)  # nobody would write to it: not kept


def test_the_kiosk_citizen_gets_the_near_message_on_the_phone_typed(app, gateway, tax_day):
    code = _take(tax_day, "0812 3456 7890").code
    assert notify.queue_near(tax_day[0]) == 1
    notify.sender.install(app)
    outbox.deliver_due()
    message, = gateway.messages()
    assert message["to"] == "+6281234567890" and code in message["text"]


# ------------------------------------------------------------------------------------------------- the screens

def _priority_screen(client, event, headers):
    tax = service("PAJAK-KONSUL").id
    return tax, client.get(f"/kiosk/{event.id}/prioritas?layanan={tax}", headers=headers)


def test_while_messages_are_off_the_priority_answer_takes_the_ticket_and_there_is_no_phone_screen(client, hall):
    event, headers, _ = hall
    _tax, screen = _priority_screen(client, event, headers)
    assert f'action="/kiosk/{event.id}/tiket"' in screen.text and "/hp" not in screen.text
    assert client.get(f"/kiosk/{event.id}/hp?press={PRESS}", headers=headers).status_code == 404


def test_the_phone_screen_refuses_a_bad_number_keeping_the_press_and_takes_a_good_one(client, hall, gateway):
    event, headers, _ = hall
    tax, screen = _priority_screen(client, event, headers)
    assert f'action="/kiosk/{event.id}/hp"' in screen.text and 'method="get"' in screen.text
    press = re.search(r'name="press" value="([^"]+)"', screen.text).group(1)
    pad = client.get(f"/kiosk/{event.id}/hp", query_string={"press": press, "layanan": tax, "priority": "lansia"},
                     headers=headers)
    assert pad.status_code == 200 and 'data-kiosk-pad' in pad.text and "Lewati" in pad.text
    assert f'name="press" value="{press}"' in pad.text and 'name="priority" value="lansia"' in pad.text
    form = {"press": press, "layanan": tax, "priority": "lansia"}
    bad = client.post(f"/kiosk/{event.id}/tiket", data={**form, "phone": "0812"}, headers=headers)
    assert bad.status_code == 422 and "Nomor HP tidak valid" in bad.text
    assert f'name="press" value="{press}"' in bad.text and 'value="0812"' in bad.text and count(Visit) == 0
    good = client.post(f"/kiosk/{event.id}/tiket", data={**form, "phone": "0812 3456 7890"}, headers=headers)
    assert good.status_code == 303
    visit = db.session.scalar(sa.select(Visit))
    assert (visit.phone, visit.notify, visit.priority) == ("+6281234567890", True, "lansia")
    assert "+6281234567890" not in client.get(good.headers["Location"], headers=headers).text


def test_skip_takes_the_ticket_without_the_number_typed(client, hall, gateway):
    event, headers, _ = hall
    tax = service("PAJAK-KONSUL").id
    answer = client.post(f"/kiosk/{event.id}/tiket", data={"press": PRESS, "layanan": tax, "priority": "none",
                                                           "phone": "0812", "skip": "1"}, headers=headers)
    assert answer.status_code == 303
    visit = db.session.scalar(sa.select(Visit))
    assert (visit.phone, visit.notify) == (None, False)
