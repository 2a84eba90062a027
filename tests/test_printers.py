"""Printers on the admin page (create, refuse a bad address, the test page on a real TCP endpoint) and silent
printing at reception: this computer's printer, the ticket printed after its commit, a reprint once."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from botram.domain import outbox, printing
from botram.extensions import db
from botram.models import Printer, PrintJob, Visit

from .conftest import count
from .escpos_stream import read
from .factories import make_desk, make_event, make_user, service
from .printer_endpoint import FakePrinter


@pytest.fixture
def fake_printer(app):
    printer = FakePrinter()
    printing.install_sender()
    yield printer
    outbox.unregister_sender("print.")
    printer.close()


def test_admin_adds_a_printer_refuses_a_bad_address_and_prints_a_test_page(client, auth, fake_printer):
    make_user("admin")
    auth.login("admin")
    bad = client.post("/admin/printers", data={"name": "Meja 1", "connection": "network", "target": "printer:abc",
                                                "paper_mm": "80"})
    assert bad.status_code == 422 and "host:port" in bad.text and count(Printer) == 0
    done = client.post("/admin/printers", data={"name": "Meja 1", "connection": "network",
                                                 "target": fake_printer.target, "paper_mm": "58",
                                                 "station": "Resepsionis 1"})
    assert done.status_code == 303
    printer = db.session.scalar(sa.select(Printer))
    assert (printer.paper_mm, printer.station) == (58, "Resepsionis 1")
    assert client.post(f"/admin/printers/{printer.id}/test").status_code == 303
    job, = fake_printer.wait_for(1)
    printed = read(job)
    assert "Halaman uji" in printed.text() and "Kertas 58 mm" in printed.text() and printed.cuts == 1
    page = client.get("/admin/printers")
    assert "Siap" in page.text, page.text[page.text.find("<tbody>"):page.text.find("</tbody>")]


def test_reception_prints_on_its_computers_printer_and_reprints_once(client, auth, fake_printer):
    make_user("resepsionis")
    event = make_event()
    make_desk(event, 1, "DISDUKCAPIL", ["KTP-REKAM", "KK"])
    printer = printing.create_printer(printing.PrinterInput(name="Meja 1", connection="network",
                                                            target=fake_printer.target, station="Resepsionis 1"))
    db.session.commit()
    event_id, printer_id = event.id, printer.id
    auth.login("resepsionis")
    page = client.get(f"/reception/{event_id}")
    assert "Printer komputer ini" in page.text
    assert client.post("/reception/printer", data={"printer": printer_id, "event": event_id}).status_code == 303
    issued = client.post(f"/reception/{event_id}", data={"services": [service("KTP-REKAM").id], "priority": "none"})
    assert issued.status_code == 303
    outbox.deliver_due()
    job, = fake_printer.wait_for(1)
    visit_id, code, token = db.session.execute(sa.select(Visit.id, Visit.code, Visit.public_token)).one()
    printed = read(job)
    assert printed.magnification(code) >= 3 and printed.qr == [f"http://localhost/status/{token}"]
    shown = client.get(issued.headers["Location"])
    assert "Tiket dicetak di Meja 1" in shown.text
    key = re.search(r'name="reprint" value="([^"]+)"', shown.text).group(1)
    for _ in range(2):  # a double click
        assert client.post(f"/reception/visits/{visit_id}/print", data={"reprint": key}).status_code == 303
        outbox.deliver_due()
    assert len(fake_printer.wait_for(3, timeout=1)) == 2
    assert count(PrintJob) == 2
