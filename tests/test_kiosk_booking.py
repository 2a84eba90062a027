"""A booking's QR scanned at the kiosk (the USB scanner types the code and Enter into the start screen's scan
field): checked in by the booking rule, printed like any kiosk ticket on a real TCP endpoint, one ticket for a
double scan, and a clear message for a booking that cannot be checked in here."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from botram.domain import outbox, printing
from botram.domain.clock import now
from botram.extensions import db
from botram.models import Booking, BookingWindow, KioskPress, PrintJob, Visit

from .booking_world import booking_to_check_in
from .conftest import count
from .escpos_stream import read
from .factories import make_desk, make_event
from .printer_endpoint import FakePrinter
from .test_kiosk import _attach_printer, hall  # noqa: F401 (the fixture)


def _scan(client, event, headers, code: str, press: str):
    """What the scanner does: the code and Enter into the scan form; then one pass of the outbox worker."""
    answer = client.post(f"/kiosk/{event.id}/booking", data={"press": press, "code": code}, headers=headers)
    outbox.deliver_due()
    return answer


def _scan_press(page_text: str) -> str:
    form = re.search(r'<form[^>]*data-kiosk-scan.*?</form>', page_text, re.S).group(0)
    return re.search(r'name="press" value="([^"]+)"', form).group(1)


def test_the_start_screen_has_a_focused_labelled_scan_field_with_its_own_press_key(client, hall):
    event, headers, _ = hall
    first, second = (client.get(f"/kiosk/{event.id}", headers=headers).text for _ in range(2))
    field = re.search(r'<input id="kiosk-scan-code"[^>]*>', first, re.S).group(0)
    assert "autofocus" in field and 'inputmode="none"' in field and 'name="code"' in field
    assert '<label for="kiosk-scan-code">' in first
    assert _scan_press(first) != _scan_press(second)  # each screen its own press


def test_a_scanned_booking_becomes_a_booked_visit_printed_once_even_when_scanned_twice(client, hall):
    event, headers, token = hall
    code = booking_to_check_in(event.id, 1)
    printer = FakePrinter()
    try:
        _attach_printer(token, printer.target)
        press = _scan_press(client.get(f"/kiosk/{event.id}", headers=headers).text)
        first = _scan(client, event, headers, code.lower(), press)  # a scanner's case does not matter
        again = _scan(client, event, headers, code, press)  # the QR read twice before the screen changed
        assert first.status_code == again.status_code == 303
        assert first.headers["Location"] == again.headers["Location"]
        assert count(Visit) == 1 and count(KioskPress) == 1 and count(PrintJob) == 1
        booking = db.session.scalar(sa.select(Booking).where(Booking.code == code))
        visit = db.session.get(Visit, booking.visit_id)
        assert booking.status == "checked_in" and visit.booked
        assert all(step.booked_from is not None for step in visit.steps)  # on time: its window counts
        jobs = printer.wait_for(2, timeout=1.5)
        assert len(jobs) == 1
        printed = read(jobs[0])
        assert printed.magnification(visit.code) >= 3 and printed.cuts == 1
        assert printed.qr == [f"http://localhost/status/{visit.public_token}"]
        ticket = client.get(first.headers["Location"], headers=headers)
        assert visit.code in ticket.text and "sudah dicetak" in ticket.text

        # The same QR on the next start screen (a new press): the booking is used, said in words, no ticket.
        later = _scan(client, event, headers, code, _scan_press(client.get(f"/kiosk/{event.id}",
                                                                            headers=headers).text))
        assert later.status_code == 409 and f"Pemesanan {code} sudah didaftarkan" in later.text
        assert count(Visit) == 1 and len(printer.wait_for(2, timeout=0.5)) == 1
    finally:
        printer.close()


def _cancelled(event_id: int) -> tuple[str, str, int]:
    code = booking_to_check_in(event_id, 2)
    db.session.scalar(sa.select(Booking).where(Booking.code == code)).status = "cancelled"
    db.session.commit()
    return code, f"Pemesanan {code} sudah dibatalkan", 409


def _expired(event_id: int) -> tuple[str, str, int]:
    code = booking_to_check_in(event_id, 3)
    window = db.session.get(BookingWindow, db.session.scalar(sa.select(Booking.window_id)
                                                              .where(Booking.code == code)))
    window.starts_at, window.ends_at = now() - timedelta(hours=4), now() - timedelta(hours=2)
    db.session.commit()
    return code, f"Jendela waktu pemesanan {code} sudah lewat", 409


def _other_event(event_id: int) -> tuple[str, str, int]:
    other = make_event(title="BOTRAM Desa Sukamaju", day=now().date() + timedelta(days=7))
    make_desk(other, 1, "BAPENDA", ["PAJAK-KONSUL"])
    code = booking_to_check_in(other.id, 4)
    return code, f"Pemesanan {code} untuk kegiatan lain: BOTRAM Desa Sukamaju", 409


def _unknown(event_id: int) -> tuple[str, str, int]:
    return "QWERTY", "Kode pemesanan QWERTY tidak dikenal", 404


def _unreadable(event_id: int) -> tuple[str, str, int]:
    return " -- ", "Kode pemesanan tidak terbaca", 422


@pytest.mark.parametrize("case", [_cancelled, _expired, _other_event, _unknown, _unreadable],
                         ids=["cancelled", "expired", "other-event", "unknown", "unreadable"])
def test_a_booking_that_cannot_be_checked_in_here_is_said_in_words_and_the_scanner_stays_ready(client, hall, case):
    event, headers, _ = hall
    code, message, status = case(event.id)
    press = _scan_press(client.get(f"/kiosk/{event.id}", headers=headers).text)
    answer = _scan(client, event, headers, code, press)
    assert answer.status_code == status
    assert message in answer.text and "Pemesanan tidak dapat didaftarkan" in answer.text
    assert 'id="kiosk-scan-code"' in answer.text and _scan_press(answer.text) != press
    assert count(Visit) == 0 and count(KioskPress) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)
                             .where(Booking.status == "checked_in")) == 0


def test_a_scan_needs_the_kiosk_and_its_screen(client, hall):
    event, headers, _ = hall
    code = booking_to_check_in(event.id, 5)
    assert client.post(f"/kiosk/{event.id}/booking", data={"press": "k" * 24, "code": code}).status_code != 303
    stale = _scan(client, event, headers, code, "bad key")
    assert stale.status_code == 422 and "Sesi layar kedaluwarsa" in stale.text and count(Visit) == 0



@pytest.mark.parametrize("presses, answered", [
    (["a" * 24, "b" * 24, "c" * 24], 1),  # three kiosks read the same QR at the same instant
    (["c" * 24] * 4, 4),  # one kiosk's read sent again and again at once: every answer is its ticket
], ids=["three-kiosks", "one-press-repeated"])
def test_scans_of_one_booking_at_once_make_one_ticket(app, hall, presses, answered):
    """One visit, one print job whatever arrives at once; a kiosk whose own press won never hears "already
    used", the other kiosks do."""
    import threading

    from botram.domain import DomainError, kiosk
    from botram.models import User

    event, _headers, token = hall
    code = booking_to_check_in(event.id, 6)
    printer = FakePrinter()
    try:
        printer_id = _attach_printer(token, printer.target)
        kiosk_user = db.session.scalar(sa.select(User.id).where(User.username == "kios-pintu"))
        gate = threading.Barrier(len(presses))
        made, refused, other = [], [], []
        lock = threading.Lock()

        def scan(press):
            with app.app_context():
                try:
                    gate.wait()
                    ticket = kiosk.check_in_booking(event.id, press, code, by_user_id=kiosk_user,
                                                    printer_id=printer_id)
                    with lock:
                        made.append((press, ticket.visit.id))
                except DomainError as exc:
                    with lock:
                        (refused if "sudah didaftarkan" in exc.message else other).append(exc.message)
                except Exception as exc:  # noqa: BLE001 - the test reports it
                    with lock:
                        other.append(repr(exc))
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=scan, args=(p,)) for p in presses]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert other == []
        assert len(made) == answered and len(refused) == len(presses) - answered
        assert len({visit for _p, visit in made}) == 1 and len({press for press, _v in made}) == 1
        db.session.rollback()
        assert count(Visit) == 1 and count(PrintJob) == 1 and count(KioskPress) == 1
        outbox.deliver_due()
        assert len(printer.wait_for(2, timeout=1.5)) == 1
    finally:
        printer.close()
