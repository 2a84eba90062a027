"""The kiosks at a venue with no internet (issue 23, docs/field-sync.md "The kiosks at the venue"): a kiosk's
account, its device token (the hash) and its printer travel with the checkout; on the laptop the same token
opens /kiosk/<event>, a press prints on the venue's printer (a real TCP endpoint) through the laptop's outbox;
the check-in brings the tickets back and, of the tokens and printers, only what the laptop revoked.

The server runs on PostgreSQL when BOTRAM_TEST_DATABASE_URL is PostgreSQL, else on a second SQLite file."""
from __future__ import annotations

import re

import sqlalchemy as sa

from botram.domain import outbox, printing
from botram.domain.field import export_checkin, export_checkout, import_bundle
from botram.domain.tokens import issue_token, revoke_token, token_user
from botram.domain.users import create_user
from botram.extensions import db
from botram.models import ApiToken, Printer, PrintJob, PrintStatus, Service, Step, User, Visit
from botram.outbox_worker import install_senders

from . import field_sync_helpers as h
from .conftest import CsrfClient
from .escpos_stream import read
from .printer_endpoint import FakePrinter

REGENCY_ADDRESS = "10.20.30.40:9100"  # where the printer sits at the regency office; the venue's LAN differs


def _devices() -> dict[str, list[tuple]]:
    """Every column of every token and printer, by UUID: what a check-in must leave alone."""
    out = {}
    for model in (ApiToken, Printer):
        columns = list(model.__table__.c)
        out[model.__tablename__] = {row.uuid: tuple(row) for row in db.session.execute(
            sa.select(*columns).order_by(model.__table__.c.uuid))}
    return out


def _token(name: str) -> ApiToken:
    return db.session.scalar(sa.select(ApiToken).where(ApiToken.name == name))


def test_a_kiosk_travels_with_its_token_and_printer_prints_at_the_venue_and_its_tickets_come_back(
        tmp_path, worker_id):
    server = h.make_install(h.server_url(f"{worker_id}k", tmp_path / "s"), str(tmp_path / "s"))
    laptop = h.make_install(f"sqlite:///{tmp_path / 'laptop.sqlite'}", str(tmp_path / "l"))
    laptop.test_client_class = CsrfClient
    venue_printer = FakePrinter()
    try:
        with h.on(server):
            server_event = h.prepare_event()
            admin = h.user_id("admin")
            door = create_user("kios-pintu", "Kios pintu masuk", "rahasia-kios-123", "kiosk")
            side = create_user("kios-samping", "Kios samping", "rahasia-kios-456", "kiosk")
            door_token, raw = issue_token(door, "kios pintu masuk", by_user_id=admin)
            issue_token(side, "kios samping", by_user_id=admin)
            issue_token(side, "kios samping cadangan", by_user_id=admin)
            issue_token(db.session.get(User, h.user_id("petugas3")), "tombol loket 3", by_user_id=admin)
            printing.create_printer(printing.PrinterInput(name="Printer kios pintu", connection="network",
                                                          target=REGENCY_ADDRESS, token_id=door_token.id),
                                    by_user_id=admin)
            door_hash = door_token.token_hash
            before = _devices()
            bundle = export_checkout(server_event, device=h.DEVICE, key=h.KEY)

        with h.on(laptop):
            event_id = import_bundle(bundle, key=h.KEY).event_id
            # the kiosks' tokens travel (hashes only), an officer's call-button token does not
            assert {t.name for t in db.session.scalars(sa.select(ApiToken))} == {
                "kios pintu masuk", "kios samping", "kios samping cadangan"}
            assert _token("kios pintu masuk").token_hash == door_hash
            assert token_user(raw)[0].username == "kios-pintu"  # the same raw token signs the kiosk in here
            printer = db.session.scalar(sa.select(Printer))
            assert (printer.name, printer.target, printer.token_id) == (
                "Printer kios pintu", REGENCY_ADDRESS, _token("kios pintu masuk").id)
            # the laptop's admin points the printer at its address on the venue's LAN
            printing.update_printer(printer.id, printing.PrinterInput(
                name=printer.name, connection="network", target=venue_printer.target, paper_mm=printer.paper_mm,
                token_id=printer.token_id), by_user_id=h.user_id("admin"))
            install_senders(laptop)
            pbb = db.session.scalar(sa.select(Service.id).where(Service.code == "PBB-BAYAR"))

        # the kiosk's browser, now pointed at the laptop: the same token, the laptop's event
        kiosk = laptop.test_client()
        enrolled = kiosk.post("/kiosk/masuk", data={"token": raw, "event": event_id})
        assert enrolled.status_code == 303 and enrolled.headers["Location"].endswith(f"/kiosk/{event_id}")
        assert kiosk.get(f"/kiosk/{event_id}").status_code == 200
        screen = kiosk.get(f"/kiosk/{event_id}/prioritas?layanan={pbb}")
        press = re.search(r'name="press" value="([^"]+)"', screen.text).group(1)
        taken = kiosk.post(f"/kiosk/{event_id}/tiket", data={"press": press, "layanan": [pbb],
                                                             "priority": "lansia"})
        assert taken.status_code == 303, taken.text

        with h.on(laptop):
            while outbox.deliver_due():
                pass
            visit = db.session.scalar(sa.select(Visit).where(Visit.event_id == event_id))
            code, public_token, visit_uuid = visit.code, visit.public_token, visit.uuid
            assert db.session.get(User, visit.created_by_id).username == "kios-pintu"
            assert db.session.scalar(sa.select(PrintJob.status)) == PrintStatus.SENT
        jobs = venue_printer.wait_for(1)
        assert len(jobs) == 1
        printed = read(jobs[0])
        assert code in printed.text() and printed.cuts >= 1
        assert any(public_token in qr for qr in printed.qr)

        # at the regency a spare token is revoked and the paper changed; a kiosk is lost at the venue
        with h.on(server):
            revoke_token(_token("kios samping cadangan"), by_user_id=admin)
            db.session.execute(sa.update(Printer).values(paper_mm=58))
            db.session.commit()
            before = _devices()
            again = export_checkout(server_event, device=h.DEVICE, key=h.KEY)
        with h.on(laptop):
            revoke_token(_token("kios samping"), by_user_id=h.user_id("admin"))
            lost_at = _token("kios samping").revoked_at
            made_here, _ = issue_token(db.session.get(User, token_user(raw)[0].id), "kios darurat",
                                       by_user_id=h.user_id("admin"))
            made_here = made_here.uuid
            import_bundle(again, key=h.KEY)  # a repeated checkout to the laptop that holds the event
            assert _token("kios samping cadangan").revoked_at is not None  # the server's revocation arrived
            assert _token("kios samping").revoked_at == lost_at  # and the laptop's is not turned back
            printer = db.session.scalar(sa.select(Printer))
            assert (printer.target, printer.paper_mm) == (venue_printer.target, 58)  # the venue's address stays
            checkin = export_checkin(event_id, key=h.KEY)

        with h.on(server):
            report = import_bundle(checkin, key=h.KEY)
            assert report.updated.get("api_token") == 1
            back = db.session.scalar(sa.select(Visit).where(Visit.uuid == visit_uuid))
            assert back is not None and back.code == code and back.event_id == server_event
            assert db.session.get(User, back.created_by_id).username == "kios-pintu"
            assert [s.service.code for s in db.session.scalars(sa.select(Step).where(Step.visit_id == back.id))] \
                == ["PBB-BAYAR"]
            after = _devices()
            # the kiosk lost at the venue is locked out at the regency too ...
            lost = _token("kios samping")
            assert lost.revoked_at == lost_at
            assert token_user(raw)[0].username == "kios-pintu"
            # ... and nothing else about tokens or printers changed: not the printer's regency address, not its
            # last answer, no token made on the laptop
            after["api_token"].pop(lost.uuid)
            before["api_token"].pop(lost.uuid)
            assert after == before
            assert _token("kios darurat") is None and made_here not in after["api_token"]
            assert db.session.scalar(sa.select(Printer.target)) == REGENCY_ADDRESS
            assert import_bundle(checkin, key=h.KEY).unchanged
    finally:
        venue_printer.close()
        outbox.unregister_sender("print.")
        outbox.unregister_sender("message.")
        for app in (server, laptop):
            with app.app_context():
                db.engine.dispose()
