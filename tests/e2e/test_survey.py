"""A citizen answers the SKM survey on a 390-px phone from their ticket, and the coordinator sees the IKM
of the event report change."""
import json
import subprocess
import sys

from playwright.sync_api import expect

from .axe import describe, violations
from .conftest import login, screenshot
from .refusals import expect_refusal

SERVE_ONE = """
import json, sqlalchemy as sa
from botram import create_app
from botram.domain import queue
from botram.extensions import db
from botram.models import Desk, Event, Service, User
app = create_app()
with app.app_context():
    event = db.session.scalar(sa.select(Event).where(Event.title == "BOTRAM Pasar Bersih Jababeka"))
    desk = db.session.scalar(sa.select(Desk).where(Desk.event_id == event.id, Desk.number == 1))
    kk = db.session.scalar(sa.select(Service).where(Service.code == "KTP-REKAM"))
    reception = db.session.scalar(sa.select(User.id).where(User.username == "resepsionis"))
    officer = db.session.scalar(sa.select(User.id).where(User.username == "petugas1"))
    visit = queue.issue_visit(event.id, [kk.id], by_user_id=reception).visit
    step = queue.call_next(desk.id, by_user_id=officer)
    queue.finish(step.id, outcome="done", by_user_id=officer)
    print(json.dumps({"event": event.id, "token": visit.public_token, "code": visit.code}))
"""


def _served_visit(live_server) -> dict:
    env = live_server.databases.env(live_server.database_url)
    result = subprocess.run([sys.executable, "-c", SERVE_ONE], env=env, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_citizen_answers_on_a_phone_and_the_ikm_changes(live_server, page, new_page):
    served = _served_visit(live_server)
    report_url = f"{live_server.url}/reports/events/{served['event']}"

    login(page, live_server.url, "koordinator")
    page.goto(report_url)
    expect(page.get_by_text("Belum ada responden")).to_be_visible()
    expect(page.get_by_test_id("ikm")).to_have_text("–")

    phone = new_page(390, 844)
    phone.goto(f"{live_server.url}/survey/{served['token']}")
    expect(phone.get_by_role("heading", name="Bagaimana pelayanan hari ini?")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    answers = {"persyaratan": "Sesuai", "prosedur": "Mudah", "waktu": "Kurang cepat", "biaya": "Gratis",
               "produk": "Sesuai", "kompetensi": "Kompeten", "perilaku": "Sopan dan ramah", "sarana": "Baik"}
    for key, text in answers.items():
        phone.locator(f"#unsur-{key}").get_by_text(text, exact=True).click()
    # The ninth question forgotten: the page says which one, nothing is saved.
    phone.get_by_role("button", name="Kirim jawaban").click()
    expect(phone.get_by_text("Pertanyaan “Penanganan pengaduan” belum dijawab.")).to_be_visible()
    expect(phone.locator("#unsur-waktu input[value='2']")).to_be_checked()  # answers kept
    screenshot(phone, "survey-phone-error-390")
    phone.locator("#unsur-pengaduan").get_by_text("Ada tetapi tidak berfungsi", exact=True).click()
    phone.get_by_label("Saran atau keluhan").fill("Antrean KTP-el cepat, tempat duduk kurang.")
    phone.get_by_label("Ke desa mana BOTRAM sebaiknya datang berikutnya?").select_option(label="Desa Sukamahi")
    phone.get_by_role("button", name="Kirim jawaban").click()
    expect(phone.get_by_role("heading", name="Terima kasih!")).to_be_visible()
    screenshot(phone, "survey-phone-thanks-390")

    # Scores: 3,3,2,4,3,3,3,3,2 -> NRR sum 26 -> IKM 26/9 x 25 = 72.22 (C, Kurang Baik).
    page.reload()
    expect(page.get_by_test_id("ikm")).to_have_text("72,22")
    expect(page.get_by_text("Mutu C · Kurang Baik")).to_be_visible()
    expect(page.get_by_text("1 responden dari sampel minimal 1")).to_be_visible()
    expect(page.get_by_text("Desa Sukamahi")).to_be_visible()
    screenshot(page, "report-event-1366")

    # Once per visit: the phone shows that the survey was already answered.
    phone.goto(f"{live_server.url}/survey/{served['token']}")
    expect(phone.get_by_text("sudah diisi")).to_be_visible()


def test_kiosk_tablet_at_the_exit(live_server, new_page):
    served = _served_visit(live_server)
    tablet = new_page(1024, 768)
    expect_refusal(tablet, 404, r"/survey/kiosk/\d+")  # a ticket code that does not exist
    expect_refusal(tablet, 409, r"/survey/kiosk/\d+")  # a ticket that already answered
    login(tablet, live_server.url, "resepsionis")
    tablet.goto(f"{live_server.url}/survey/kiosk/{served['event']}")
    tablet.get_by_label("Nomor tiket Anda").fill("Z-404")
    tablet.get_by_role("button", name="Mulai survei").click()
    expect(tablet.get_by_text("Nomor tiket tidak ditemukan di kegiatan ini.")).to_be_visible()
    tablet.get_by_label("Nomor tiket Anda").fill(served["code"].lower())
    tablet.get_by_role("button", name="Mulai survei").click()
    expect(tablet.get_by_role("heading", name=f"Tiket {served['code']}")).to_be_visible()
    for card in tablet.locator(".unsur-card").all():
        card.locator(".answer-4 .answer-text").click()
    tablet.get_by_role("button", name="Kirim jawaban").click()
    expect(tablet.get_by_text("Terima kasih! Jawaban Anda sudah tersimpan.")).to_be_visible()
    expect(tablet.get_by_label("Nomor tiket Anda")).to_have_value("")
    screenshot(tablet, "survey-kiosk-1024")
    tablet.get_by_label("Nomor tiket Anda").fill(served["code"])
    tablet.get_by_role("button", name="Mulai survei").click()
    expect(tablet.get_by_text("Survei untuk tiket ini sudah diisi. Terima kasih!")).to_be_visible()


def test_a_nik_and_a_phone_typed_into_a_comment_never_reach_the_event_report(live_server, page, new_page):
    served = _served_visit(live_server)
    phone = new_page(390, 844)
    phone.goto(f"{live_server.url}/survey/{served['token']}")
    for card in phone.locator(".unsur-card").all():
        card.locator(".answer-3 .answer-text").click()
    phone.get_by_label("Saran atau keluhan").fill(
        "Terima kasih. NIK saya 3216014512900003, kalau ada kekurangan hubungi 0812-3456-7890.")
    phone.get_by_role("button", name="Kirim jawaban").click()
    expect(phone.get_by_role("heading", name="Terima kasih!")).to_be_visible()

    login(page, live_server.url, "koordinator")
    page.goto(f"{live_server.url}/reports/events/{served['event']}")
    comment = page.locator("ul.comments li").first
    expect(comment).to_contain_text("Terima kasih. NIK saya [dihapus], kalau ada kekurangan hubungi [dihapus].")
    content = page.content()
    assert "3216014512900003" not in content and "3456-7890" not in content
    found = violations(page)
    assert not found, describe(found)
    screenshot(page, "report-event-comment-masked-1366")
