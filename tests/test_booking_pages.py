"""The citizens' booking pages as plain forms (no JavaScript): book from the schedule, see the code, change,
cancel; refusals in Indonesian next to their field."""
from __future__ import annotations

import re

import sqlalchemy as sa

from botram.extensions import db
from botram.models import Booking, BookingStatus

from .booking_world import booked_event, window_at
from .factories import service


def _form(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]


def test_book_from_the_schedule_then_change_and_cancel(app, client):
    event = booked_event({"KTP-REKAM": 3, "KK": 3})
    page = client.get(f"/jadwal/{event.id}").get_data(as_text=True)
    assert f'/jadwal/{event.id}/pesan' in page and "Pesan tempat" in page
    form = client.get(f"/jadwal/{event.id}/pesan")
    assert form.status_code == 200 and "tersisa 3 tempat" in form.get_data(as_text=True)
    w14, w10 = window_at(event, 14).id, window_at(event, 10).id
    ktp, kk = service("KTP-REKAM").id, service("KK").id
    done = client.post(f"/jadwal/{event.id}/pesan", data={"services": [ktp, kk], "window": w14,
                                                          "phone": "0812 3456 7890", "name": "", "nik": ""})
    assert done.status_code == 303 and done.headers["Location"].startswith("/pesan/")
    made = db.session.scalar(sa.select(Booking))
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert made.code in shown and "<svg" in shown and "tersisa 2 tempat" in shown
    assert made.phone not in shown  # nothing personal echoed back
    changed = client.post(f"/pesan/{made.token}/ubah", data={"services": [kk], "window": w10})
    assert changed.status_code == 303
    db.session.expire_all()
    assert made.window_id == w10 and [s.id for s in made.services] == [kk]
    cancelled = client.post(f"/pesan/{made.token}/batal")
    assert cancelled.status_code == 303
    db.session.expire_all()
    assert made.status == BookingStatus.CANCELLED
    assert "Dibatalkan" in client.get(f"/pesan/{made.token}").get_data(as_text=True)


def test_refusals_are_in_indonesian_next_to_the_field(app, client):
    event = booked_event({"KTP-REKAM": 1, "KK": 0})
    refused = client.post(f"/jadwal/{event.id}/pesan", data={"window": window_at(event, 14).id, "phone": "123"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="services-error"' in page and "Pilih minimal satu layanan" in page
    assert 'id="phone-error"' in page and "Nomor HP tidak valid" in page
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0
    assert client.get("/pesan/tidak-ada").status_code == 404


def test_a_citizen_books_a_life_event_package(app, client):
    """The package chip: offered when every service of the package is open to booking at the event; the booking
    holds the package and its services."""
    from botram.models import LifeEventPackage

    event = booked_event({"KTP-REKAM": 3, "KTP-CETAK": 3}, codes=("KTP-REKAM", "KTP-CETAK", "KK"))
    first_id = db.session.scalar(sa.select(LifeEventPackage.id).where(LifeEventPackage.code == "KTP-BARU"))
    other = db.session.scalar(sa.select(LifeEventPackage.id).where(LifeEventPackage.code == "KEMATIAN"))
    page = client.get(f"/jadwal/{event.id}/pesan").get_data(as_text=True)
    assert f'name="package" value="{first_id}"' in page and "Genap 17 tahun" in page
    assert f'name="package" value="{other}"' not in page  # its services are not booked here
    w14 = window_at(event, 14).id
    done = client.post(f"/jadwal/{event.id}/pesan", data={"package": str(first_id), "window": w14,
                                                          "phone": "0812 3456 7890"})
    assert done.status_code == 303
    made = db.session.scalar(sa.select(Booking))
    assert made.package_id == first_id
    assert sorted(s.code for s in made.services) == ["KTP-CETAK", "KTP-REKAM"]
    for value, message in ((str(other), "tidak dapat dipesan pada jendela ini"), ("9" * 40, "Paket layanan tidak dikenal")):
        refused = client.post(f"/jadwal/{event.id}/pesan", data={"package": value, "window": w14,
                                                                 "phone": "0812 3456 7891"})
        body = refused.get_data(as_text=True)
        assert refused.status_code == 422 and message in body, body[:3000]
    assert 'id="package-error"' in body
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 1


def test_reception_checks_a_booking_in_by_code_and_the_desk_marks_it(app, client, auth):
    from botram.domain import booking, events
    from botram.models import Visit
    from .factories import make_user

    event = booked_event({"KTP-REKAM": 3, "KK": 3})
    w14 = window_at(event, 14).id
    made = booking.book(event.id, booking.BookingInput(window_id=w14, service_ids=[service("KK").id],
                                                       phone="081234567890"))
    db.session.commit()
    events.change_status(event, "open")
    db.session.commit()
    make_user("resepsionis")
    auth.login("resepsionis")
    wrong = client.post(f"/reception/{event.id}/check-in", data={"code": "ZZZZZZ"})
    assert wrong.status_code == 404 and 'id="booking-code-error"' in wrong.get_data(as_text=True)
    done = client.post(f"/reception/{event.id}/check-in", data={"code": made.code.lower()})
    assert done.status_code == 303
    visit = db.session.scalar(sa.select(Visit))
    assert visit.booked and f"visit={visit.id}" in done.headers["Location"]
    assert 'id="booking-code" name="code" autocomplete="off" maxlength="40" value="" placeholder="Pindai QR, kode, atau nomor HP" autofocus' in " ".join(client.get(done.headers["Location"]).get_data(as_text=True).split())
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert visit.code in page and "Pemesanan daring" in page
    again = client.post(f"/reception/{event.id}/check-in", data={"code": made.code})
    assert again.status_code == 409


def test_the_coordinator_opens_booking_and_sees_it_against_quotas(app, client, auth):
    from datetime import timedelta

    from botram.domain import events
    from botram.domain.clock import today_wib
    from botram.models import EventStatus
    from .factories import make_desk, make_event, make_user

    event = make_event(day=today_wib() + timedelta(days=2), status=EventStatus.DRAFT)
    make_desk(event, 1, "DISDUKCAPIL", ["KK", "KTP-REKAM"], state="closed")
    make_user("koordinator")
    auth.login("koordinator")
    assert client.post(f"/events/{event.id}/announce", data={"announced": "1"}).status_code == 303
    page = client.get(f"/events/{event.id}/booking").get_data(as_text=True)
    assert "windows-3-starts" in page
    data = {"closes_on": (event.date - timedelta(days=1)).isoformat(), "closes_time": "20:00", "grace_minutes": "15"}
    for i, (a, b) in enumerate([("08:00", "10:00"), ("14:00", "16:00")]):
        data |= {f"windows-{i}-starts": a, f"windows-{i}-ends": b, f"windows-{i}-quotas-0": "3",
                 f"windows-{i}-quotas-1": "2"}
    saved = client.post(f"/events/{event.id}/booking", data=data)
    assert saved.status_code == 303, saved.get_data(as_text=True)[:3000]
    assert len(window_at(event, 14).quotas) == 2
    over = client.post(f"/events/{event.id}/booking", data={**data, "windows-0-quotas-0": "99"})
    assert over.status_code == 422 and "paling banyak" in over.get_data(as_text=True)


def test_the_event_report_shows_booked_vs_walk_in(app, client, auth):
    from botram.domain import booking, events, queue
    from .factories import make_user

    event = booked_event({"KTP-REKAM": 3, "KK": 3})
    made = booking.book(event.id, booking.BookingInput(window_id=window_at(event, 14).id,
                                                       service_ids=[service("KK").id], phone="081234567890"))
    booking.book(event.id, booking.BookingInput(window_id=window_at(event, 14).id,
                                                service_ids=[service("KK").id], phone="081298765432"))
    db.session.commit()
    events.change_status(event, "open")
    reception = make_user("resepsionis")
    booking.check_in(made.id, by_user_id=reception.id)
    queue.issue_visit(event.id, [service("KK").id], by_user_id=reception.id)
    db.session.commit()
    from botram.domain.booking.report import booked_vs_walk_in
    from datetime import timedelta
    later = window_at(event, 14).ends_at + timedelta(minutes=20)
    rows = booked_vs_walk_in(event.id, at=later)
    assert [(r.service, r.booked_visits, r.walk_in_visits, r.no_shows) for r in rows] == [
        ("Perubahan Kartu Keluarga", 1, 1, 1)]
    make_user("koordinator")
    auth.login("koordinator")
    page = client.get(f"/reports/events/{event.id}").get_data(as_text=True)
    assert "Pemesanan daring dan datang langsung" in page
    import io
    import zipfile
    book = zipfile.ZipFile(io.BytesIO(client.get(f"/reports/events/{event.id}.xlsx").data))
    assert "Pesan vs langsung" in book.read("xl/workbook.xml").decode()
