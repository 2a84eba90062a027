"""The self-service kiosk through HTTP: who may open it, one press one ticket, what stays at reception, the
ticket printed on a real TCP endpoint (decoded from its ESC/POS), a dead printer and the reprint."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from botram.domain import outbox, printing
from botram.extensions import db
from botram.models import KioskPress, LifeEventPackage, Printer, PrintJob, Service, Step, Visit
from botram.security import KIOSK_COOKIE

from .conftest import count
from .escpos_stream import read
from .factories import bearer_for, make_desk, make_event, service
from .printer_endpoint import FakePrinter, closed_port

PRESS = "k" * 24


@pytest.fixture
def hall(app):
    """An open event whose desks offer self-service tax and health services, Disdukcapil services that need
    documents, and the death package (Disdukcapil, Dinsos, Bapenda)."""
    event = make_event()
    make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM", "KK", "AKTA-MATI"])
    make_desk(event, 2, "BAPENDA", ["PAJAK-KONSUL", "PBB-MUTASI"])
    make_desk(event, 3, "DINSOS", ["DTKS", "BANSOS-KONSUL"])
    make_desk(event, 4, "DINKES", ["CEK-KESEHATAN"])
    headers, token = bearer_for("kios-pintu", "kiosk")
    printing.install_sender()  # what every outbox worker registers (tests start no worker: docs/outbox.md)
    yield Hall(event.id, event.title), headers, token.id
    outbox.unregister_sender("print.")


class Hall:
    def __init__(self, id: int, title: str):
        self.id, self.title = id, title


def _attach_printer(token_id: int, target: str) -> int:
    printer = printing.create_printer(printing.PrinterInput(name="Kios pintu", connection="network",
                                                            target=target, token_id=token_id), by_user_id=None)
    db.session.commit()
    return printer.id


def _press(client, event, headers, press=PRESS, **form):
    """One press, then one pass of the outbox worker (it sends the print after the commit)."""
    answer = client.post(f"/kiosk/{event.id}/tiket", data={"press": press, **form}, headers=headers)
    outbox.deliver_due()
    return answer


def test_a_kiosk_token_opens_the_kiosk_and_other_roles_tokens_do_not(client, hall):
    event, headers, _ = hall
    page = client.get(f"/kiosk/{event.id}", headers=headers)
    assert page.status_code == 200
    assert "Ambil nomor antrean" in page.text and "Konsultasi pajak daerah" in page.text
    for role in ("resepsionis", "petugas", "keuangan"):
        other, _ = bearer_for(f"{role}-x", role)
        assert client.get(f"/kiosk/{event.id}", headers=other).status_code in (302, 303, 401, 403), role
        assert client.get(f"/kiosk/{event.id}", headers=other).status_code != 200
    # the kiosk role opens no staff page
    assert client.get("/reception/", headers=headers).status_code != 200


def test_enrolment_keeps_the_token_in_a_cookie_for_kiosk_pages_only(client, hall):
    event, headers, _ = hall
    raw = headers["Authorization"].split()[1]
    wrong, _ = bearer_for("loket-x", "petugas")
    refused = client.post("/kiosk/masuk", data={"token": wrong["Authorization"].split()[1], "event": event.id})
    assert refused.status_code == 422 and "bukan token kios" in refused.text
    done = client.post("/kiosk/masuk", data={"token": raw, "event": event.id})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/kiosk/{event.id}")
    cookie = done.headers["Set-Cookie"]
    assert f"{KIOSK_COOKIE}=" in cookie and "Path=/kiosk/" in cookie and "HttpOnly" in cookie
    assert client.get(f"/kiosk/{event.id}").status_code == 200  # the cookie alone signs the kiosk in


def test_a_lansia_takes_one_ticket_for_two_services_and_a_second_press_answers_the_same(client, hall):
    event, headers, _ = hall
    tax, health = service("PAJAK-KONSUL").id, service("CEK-KESEHATAN").id
    screen = client.get(f"/kiosk/{event.id}/prioritas?layanan={tax}&layanan={health}", headers=headers)
    assert screen.status_code == 200 and "Lansia" in screen.text
    press = re.search(r'name="press" value="([^"]+)"', screen.text).group(1)
    first = _press(client, event, headers, press, layanan=[tax, health], priority="lansia")
    again = _press(client, event, headers, press, layanan=[tax, health], priority="lansia")
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    visit = db.session.scalar(sa.select(Visit))
    assert count(Visit) == 1 and visit.priority == "lansia"
    assert [s.service_id for s in sorted(visit.steps, key=lambda s: s.position)] == [tax, health]
    ticket = client.get(first.headers["Location"], headers=headers)
    assert visit.code in ticket.text and "Konsultasi pajak daerah" in ticket.text
    # no printer attached to this kiosk: the page asks the browser to print
    assert "data-browser-print" in ticket.text


def test_services_that_need_documents_stay_at_reception(client, hall):
    event, headers, _ = hall
    page = client.get(f"/kiosk/{event.id}", headers=headers)
    assert "silakan ke resepsionis" in page.text and "Perekaman KTP-el" in page.text
    assert f'name="layanan" value="{service("KTP-REKAM").id}"' not in page.text  # listed, not selectable
    refused = _press(client, event, headers, layanan=[service("KTP-REKAM").id], priority="none")
    assert refused.status_code == 422 and "Silakan ke resepsionis" in refused.text
    assert count(Visit) == 0


def test_a_family_takes_the_death_package(client, hall):
    event, headers, _ = hall
    package = db.session.scalar(sa.select(LifeEventPackage).where(LifeEventPackage.code == "KEMATIAN"))
    answer = _press(client, event, headers, paket=package.id, priority="none")
    assert answer.status_code == 303
    visit = db.session.scalar(sa.select(Visit))
    codes = [db.session.get(Service, s.service_id).code for s in sorted(visit.steps, key=lambda s: s.position)]
    assert codes == ["AKTA-MATI", "KK", "DTKS", "PBB-MUTASI"]


def test_the_ticket_prints_on_a_network_printer_as_escpos(client, hall):
    event, headers, token = hall
    printer = FakePrinter()
    try:
        _attach_printer(token, printer.target)
        tax, health = service("PAJAK-KONSUL").id, service("CEK-KESEHATAN").id
        answer = _press(client, event, headers, layanan=[tax, health], priority="lansia")
        jobs = printer.wait_for(1)
        assert len(jobs) == 1
        visit = db.session.scalar(sa.select(Visit))
        printed = read(jobs[0])
        assert printed.magnification(visit.code) >= 3, printed.lines  # the code large
        assert printed.qr == [f"http://localhost/status/{visit.public_token}"]
        text = printed.text()
        assert text.index("1. Konsultasi pajak daerah") < text.index("2. Pemeriksaan kesehatan dasar")
        assert "Prioritas: Lansia" in text and "WIB" in text and event.title in text
        assert printed.cuts == 1
        assert "sudah dicetak" in client.get(answer.headers["Location"], headers=headers).text
        # the same press again prints nothing more
        _press(client, event, headers, layanan=[tax, health], priority="lansia")
        assert len(printer.wait_for(2, timeout=0.5)) == 1
    finally:
        printer.close()


def test_a_dead_printer_says_so_and_a_later_reprint_prints_once(client, hall):
    event, headers, token = hall
    port = closed_port()
    kiosk_printer = _attach_printer(token, f"127.0.0.1:{port}")
    answer = _press(client, event, headers, layanan=[service("PAJAK-KONSUL").id], priority="none")
    assert count(Visit) == 1  # the ticket is issued whatever the printer does
    page = client.get(answer.headers["Location"], headers=headers)
    assert "Printer tidak menjawab" in page.text and "Cetak ulang" in page.text
    assert db.session.scalar(sa.select(PrintJob.status)) == "failed"
    assert "Printer tiket bermasalah" in client.get(f"/kiosk/{event.id}", headers=headers).text
    printer = FakePrinter(port)  # switched on again
    try:
        key = re.search(r'name="reprint" value="([^"]+)"', page.text).group(1)
        url = answer.headers["Location"] + "/cetak-ulang"
        for _ in range(2):  # a double tap
            assert client.post(url, data={"reprint": key}, headers=headers).status_code == 303
            outbox.deliver_due()
        assert len(printer.wait_for(2, timeout=1.5)) == 1
        assert db.session.get(Printer, kiosk_printer).last_error is None
        assert "sudah dicetak" in client.get(answer.headers["Location"], headers=headers).text
    finally:
        printer.close()


def test_out_of_paper_is_said_in_words(client, hall):
    event, headers, token = hall
    printer = FakePrinter()
    printer.paper = False
    try:
        _attach_printer(token, printer.target)
        answer = _press(client, event, headers, layanan=[service("PAJAK-KONSUL").id], priority="none")
        assert "Kertas printer habis" in client.get(answer.headers["Location"], headers=headers).text
        assert printer.wait_for(1, timeout=0.5) == []
    finally:
        printer.close()


def test_the_kiosk_speaks_english_second_and_the_idle_reset_returns_to_indonesian(client, hall):
    event, headers, _ = hall
    client.post("/lang/en", data={"next": f"/kiosk/{event.id}"})
    page = client.get(f"/kiosk/{event.id}", headers=headers)
    assert "Take a queue number" in page.text and "Bahasa Indonesia" in page.text
    # the hidden form kiosk.js submits after 30 s untouched: back to Indonesian, at the start
    assert f'action="/lang/id"' in page.text and f'name="next" value="/kiosk/{event.id}"' in page.text
