"""A coordinator plans a BOTRAM day in the browser: event, two desks (htmx), open it, see it listed."""
import re
from datetime import timedelta

from playwright.sync_api import expect

from botram.domain.clock import today_wib

from .conftest import login, screenshot
from .refusals import expect_refusal


def test_coordinator_creates_an_event_with_two_desks(live_server, page):
    expect_refusal(page, 422, r"/events/new")  # the event form sent incomplete on purpose
    expect_refusal(page, 422, r"/events/\d+/desks/new")  # and the desk form
    login(page, live_server.url, "koordinator")
    page.get_by_role("navigation", name="Navigasi utama").get_by_role("link", name="Kegiatan").click()
    expect(page.get_by_role("heading", name="Kegiatan BOTRAM")).to_be_visible()
    expect(page.get_by_role("link", name="BOTRAM Pasar Bersih Jababeka")).to_be_visible()
    screenshot(page, "events-list-1366")

    page.get_by_role("link", name="Buat kegiatan").click()
    expect(page.get_by_role("heading", name="Buat kegiatan")).to_be_visible()
    expect(page.get_by_label("Desa/kelurahan")).to_be_disabled()
    screenshot(page, "events-form-empty-1366")

    # Submit empty: Indonesian messages next to the fields, nothing saved.
    page.get_by_label("Nama kegiatan").fill("")
    page.get_by_role("button", name="Simpan sebagai draf").click()
    expect(page.get_by_text("Nama kegiatan wajib diisi.")).to_be_visible()
    expect(page.get_by_text("Tanggal wajib diisi.")).to_be_visible()
    screenshot(page, "events-form-errors-1366")

    day = today_wib() + timedelta(days=10)
    page.get_by_label("Nama kegiatan").fill("BOTRAM Balai Desa Sukamahi")
    page.get_by_label("Tanggal").fill(day.isoformat())
    page.get_by_label("Tempat").fill("Balai Desa Sukamahi, Jl. Raya Sukamahi")
    page.get_by_label("Kecamatan").select_option(label="Cikarang Pusat")
    desa = page.get_by_label("Desa/kelurahan")
    expect(desa).to_be_enabled()  # swapped in by htmx
    expect(desa.locator("option", has_text="Sukamahi")).to_have_count(1)
    desa.select_option(label="Desa Sukamahi")
    page.get_by_label("Jam buka (WIB)").fill("08:00")
    page.get_by_label("Jam tutup (WIB)").fill("15:00")
    screenshot(page, "events-form-filled-1366")
    page.get_by_role("button", name="Simpan sebagai draf").click()

    expect(page.get_by_role("heading", name="BOTRAM Balai Desa Sukamahi")).to_be_visible()
    expect(page.get_by_text("Kegiatan dibuat sebagai draf")).to_be_visible()
    expect(page.get_by_role("button", name="Buka kegiatan")).to_be_disabled()
    detail_url = page.url

    # Desk 1: Disdukcapil, through htmx (the URL does not change, no full page load).
    page.get_by_role("link", name="Tambah loket").click()
    expect(page.get_by_role("heading", name="Loket baru")).to_be_visible()
    assert page.url == detail_url
    page.get_by_label("Nama loket").fill("Disdukcapil — KTP-el & KIA")
    page.get_by_label("Instansi").select_option(label="Dinas Kependudukan dan Pencatatan Sipil")
    expect(page.get_by_label("Perekaman KTP-el")).to_be_visible()  # services reloaded by htmx
    page.get_by_label("Perekaman KTP-el").check()
    page.get_by_label("Kartu Identitas Anak (KIA)").check()
    screenshot(page, "events-desk-form-1366")
    page.get_by_role("button", name="Tambah loket").click()
    expect(page.locator("#desks tbody tr")).to_have_count(1)
    expect(page.get_by_text("Loket 1 ditambahkan.")).to_be_visible()  # toast

    # Desk 2: Bapenda, first with a mistake (no service), then right.
    page.get_by_role("link", name="Tambah loket").click()
    expect(page.get_by_label("Nomor loket")).to_have_value("2")
    page.get_by_label("Nama loket").fill("Bapenda — PBB-P2")
    page.get_by_label("Instansi").select_option(label="Badan Pendapatan Daerah")
    expect(page.get_by_label("Informasi dan pembayaran PBB-P2")).to_be_visible()
    page.get_by_role("button", name="Tambah loket").click()
    expect(page.get_by_text("Pilih paling sedikit satu layanan.")).to_be_visible()
    screenshot(page, "events-desk-form-error-1366")
    page.get_by_label("Informasi dan pembayaran PBB-P2").check()
    page.get_by_label("Balik nama (mutasi) SPPT PBB-P2").check()
    page.get_by_role("button", name="Tambah loket").click()
    expect(page.locator("#desks tbody tr")).to_have_count(2)
    assert page.url == detail_url

    page.get_by_label("Teks berjalan di layar antrean").fill("Selamat datang di BOTRAM Sukamahi. Siapkan KK dan KTP-el.")
    page.get_by_role("button", name="Simpan teks").click()
    expect(page.locator(".ev-ticker")).to_contain_text("BOTRAM Sukamahi")
    screenshot(page, "events-detail-draft-1366")

    page.get_by_role("button", name="Buka kegiatan").click()
    expect(page.get_by_text("Kegiatan dibuka.")).to_be_visible()
    expect(page.locator(".ev-status .badge")).to_have_text("Dibuka")
    screenshot(page, "events-detail-open-1366")

    page.get_by_role("link", name="Kegiatan").first.click()
    expect(page.get_by_role("link", name="BOTRAM Balai Desa Sukamahi")).to_be_visible()
    row = page.locator("tr", has_text="BOTRAM Balai Desa Sukamahi")
    expect(row).to_contain_text("Dibuka")
    expect(row.locator("td.num")).to_have_text("2")

    # Filter by status through htmx: the URL follows, the drafts disappear.
    page.locator(".ev-segment", has_text="Ditutup").click()
    expect(page).to_have_url(re.compile(r"status=closed"))
    expect(page.get_by_role("link", name="BOTRAM Balai Desa Sukamahi")).to_have_count(0)
    expect(page.get_by_role("link", name="BOTRAM Lapangan Tambun")).to_be_visible()
    screenshot(page, "events-list-filtered-1366")


def test_desk_hours_are_extended_on_the_day(live_server, page):
    login(page, live_server.url, "koordinator")
    page.get_by_role("link", name="BOTRAM Pasar Bersih Jababeka").first.click()
    page.get_by_role("link", name="Ubah jam loket 3").click()
    page.get_by_label("Tutup (WIB)").fill("18:00")
    screenshot(page, "events-desk-hours-1366")
    page.get_by_role("button", name="Simpan jam").click()
    row = page.locator("#desks tbody tr", has_text="Bapenda")
    expect(row).to_contain_text("08.00–18.00")
    expect(row).to_contain_text("diperpanjang")
    expect(page.get_by_text("Jam loket 3 kini 08.00–18.00 WIB.")).to_be_visible()


def test_finance_reads_events_and_reception_is_refused(live_server, new_page):
    page = new_page(1366, 768)
    login(page, live_server.url, "keuangan")
    page.goto(live_server.url + "/events/")
    expect(page.get_by_role("link", name="Buat kegiatan")).to_have_count(0)
    page.get_by_role("link", name="BOTRAM Pasar Bersih Jababeka").click()
    expect(page.get_by_role("button", name="Tutup kegiatan")).to_have_count(0)
    screenshot(page, "events-detail-keuangan-1366")
    other = new_page(1366, 768)
    expect_refusal(other, 403, r"/events/")
    login(other, live_server.url, "resepsionis")
    response = other.goto(live_server.url + "/events/")
    assert response.status == 403


def test_event_pages_on_a_phone_and_a_large_screen(live_server, new_page):
    for width, height in ((390, 844), (1920, 1080)):
        page = new_page(width, height)
        login(page, live_server.url, "koordinator")
        page.goto(live_server.url + "/events/")
        screenshot(page, f"events-list-{width}")
        page.get_by_role("link", name="BOTRAM Pasar Bersih Jababeka").click()
        expect(page.locator("#desks tbody tr")).to_have_count(5)
        screenshot(page, f"events-detail-{width}")
