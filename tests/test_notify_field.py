"""A field laptop's messages (docs/outbox.md, docs/field-sync.md): the outbox works on the laptop's SQLite, and
a check-in carries its messages, so what the laptop sent is never sent again by the server."""
from __future__ import annotations

import sqlalchemy as sa

from botram.domain import notify, outbox
from botram.domain import queue as q
from botram.domain.field import export_checkin, export_checkout, import_bundle, release_checkout
from botram.extensions import db
from botram.models import Outbox, OutboxStatus, Service
from botram.outbox_worker import install_senders

from . import field_sync_helpers as h
from .notify_gateway import Gateway


def _ktp() -> int:
    return db.session.scalar(sa.select(Service.id).where(Service.code == "KTP-REKAM"))


def test_messages_sent_on_the_laptop_travel_as_sent_and_the_server_never_repeats_them(tmp_path, worker_id):
    server = h.make_install(h.server_url(f"{worker_id}n", tmp_path / "s"), str(tmp_path / "s"))
    laptop = h.make_install(f"sqlite:///{tmp_path / 'laptop.sqlite'}", str(tmp_path / "l"))
    gateway = Gateway()
    try:
        for app in (server, laptop):
            app.config["BOTRAM_NOTIFY_URLS"] = gateway.url
        with h.on(server):
            server_event = h.prepare_event()
            bundle = export_checkout(server_event, device=h.DEVICE, key=h.KEY)
        with h.on(laptop):
            event_id = import_bundle(bundle, key=h.KEY).event_id
            install_senders(laptop)
            reception = h.user_id("resepsionis")
            for n in (1, 2):
                q.issue_visit(event_id, [_ktp()], phone=f"0812{n:08d}", notify=True, by_user_id=reception)
            desk_id, officer = h.desk_ids(event_id)[0]
            q.call_next(desk_id, by_user_id=officer)  # the first is called: "called" for 1, "near" for 2
            assert notify.queue_near(event_id) == 1
            while outbox.deliver_due():
                pass
            assert len(gateway.messages()) == 2
            keys = set(db.session.scalars(sa.select(Outbox.dedupe_key)))
            checkin = export_checkin(event_id, key=h.KEY)
        with h.on(server):
            report = import_bundle(checkin, key=h.KEY)
            assert report.counts.get("outbox") == 2
            rows = list(db.session.scalars(sa.select(Outbox)))
            assert {r.dedupe_key for r in rows} == keys and {r.status for r in rows} == {OutboxStatus.SENT}
            # The coordinator takes the event back and the day goes on at the server: no repeat.
            release_checkout(server_event, reason="laptop rusak", by_user_id=h.user_id("koordinator"))
            install_senders(server)
            assert notify.queue_near(server_event) == 0
            assert outbox.deliver_due() == 0
            again = import_bundle(checkin, key=h.KEY)  # the same bundle again changes nothing
            assert again.unchanged
        assert len(gateway.messages()) == 2
    finally:
        gateway.down()
        outbox.unregister_sender("message.")
        for app in (server, laptop):
            with app.app_context():
                db.engine.dispose()
