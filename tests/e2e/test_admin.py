"""Admin pages in a real browser: the catalogue, the inline requirement checklist, packages, tokens."""
from playwright.sync_api import expect

from .conftest import login, screenshot
from .refusals import expect_refusal


def test_admin_pages_look_finished(live_server, page):
    login(page, live_server.url, "admin")
    for path, name in [("/admin/users", "admin-users"), ("/admin/users/new", "admin-user-new"),
                       ("/admin/agencies", "admin-agencies"), ("/admin/agencies/new", "admin-agency-new"),
                       ("/admin/services", "admin-services"), ("/admin/packages", "admin-packages"),
                       ("/admin/packages/1", "admin-package-edit")]:
        page.goto(live_server.url + path)
        assert page.locator("h1").is_visible()
        screenshot(page, name + "-1366")


def test_services_filter_by_agency_through_htmx(live_server, page):
    login(page, live_server.url, "admin")
    page.goto(live_server.url + "/admin/services")
    page.get_by_label("Instansi").select_option(label="Bapenda")
    page.wait_for_url("**agency=*")
    page.get_by_text("Balik nama (mutasi) SPPT PBB-P2").wait_for()
    assert page.get_by_text("Akta kematian").count() == 0
    page.get_by_label("Cari nama atau kode layanan").fill("zzz-tidak-ada")
    page.get_by_text("Tidak ada layanan yang cocok.").wait_for()
    screenshot(page, "admin-services-empty-1366")


def test_requirement_checklist_is_edited_inline(live_server, page):
    expect_refusal(page, 422, r"/admin/services/\d+/requirements")  # "+ Tambah" with the fields empty
    login(page, live_server.url, "admin")
    page.goto(live_server.url + "/admin/services")
    page.get_by_role("link", name="Akta kematian").click()
    items = page.locator(".req-list > li")
    expect(items).to_have_count(5)  # waits for the page the click opens
    # Add: an empty submit shows the message in place, then a real one is appended.
    page.get_by_role("button", name="+ Tambah").click()
    page.get_by_text("Nama dokumen wajib diisi.").wait_for()
    page.get_by_label("Nama dokumen").fill("Surat kuasa, bila pelapor bukan keluarga")
    page.get_by_label("Tempat memperoleh").fill("Dibuat pelapor, bermeterai")
    page.get_by_role("button", name="+ Tambah").click()
    page.locator(".req-list > li", has_text="Surat kuasa").wait_for()
    expect(items).to_have_count(6)
    # Move it up, edit it, remove it (the confirm dialog is accepted).
    page.get_by_role("button", name="Naikkan: Surat kuasa, bila pelapor bukan keluarga").click()
    expect(items.nth(4)).to_contain_text("Surat kuasa")
    page.get_by_role("link", name="Ubah: Surat kuasa, bila pelapor bukan keluarga").click()
    editing = page.locator(".req-item.is-editing")
    editing.get_by_label("Nama dokumen").fill("Surat kuasa bermeterai")
    screenshot(page, "admin-service-edit-inline-1366")
    editing.get_by_role("button", name="Simpan").click()
    page.locator(".req-list > li", has_text="Surat kuasa bermeterai").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Hapus: Surat kuasa bermeterai").click()
    expect(items).to_have_count(5)
    screenshot(page, "admin-service-edit-1366")


def test_token_is_shown_once_and_revoked(live_server, page):
    login(page, live_server.url, "admin")
    page.goto(live_server.url + "/admin/users")
    page.get_by_role("row", name="petugas3").get_by_role("link", name="Token").click()
    page.get_by_label("Nama perangkat").fill("Tombol panggil loket 3")
    page.get_by_role("button", name="Buat token").click()
    raw = page.get_by_label("Token", exact=True).input_value()
    assert raw.startswith("btr_")
    screenshot(page, "admin-token-issued-1366")
    page.goto(page.url)
    assert raw not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cabut").click()
    page.get_by_text("dicabut").first.wait_for()
    screenshot(page, "admin-token-revoked-1366")


def test_new_service_form_shows_errors_and_suggests_the_letter(live_server, page):
    expect_refusal(page, 422, r"/admin/services/new")  # the form sent wrong on purpose
    login(page, live_server.url, "admin")
    page.goto(live_server.url + "/admin/services/new")
    page.get_by_role("button", name="Tambah layanan").click()
    expect(page.get_by_text("Pilih instansi.")).to_be_visible()
    expect(page.get_by_text("Nama layanan wajib diisi.")).to_be_visible()  # every empty field at once
    screenshot(page, "admin-service-new-error-1366")
    page.get_by_label("Instansi").select_option(label="Bapenda")
    expect(page.get_by_label("Huruf antrean")).to_have_value("B")
    page.get_by_label("Kode layanan").fill("BPHTB")
    page.get_by_label("Nama layanan").fill("Konsultasi BPHTB")
    page.get_by_label("Target waktu layanan (menit)").fill("300")
    page.get_by_role("button", name="Tambah layanan").click()
    expect(page.get_by_text("Target waktu layanan harus 1–240 menit.")).to_be_visible()
    page.get_by_label("Target waktu layanan (menit)").fill("15")
    page.get_by_role("button", name="Tambah layanan").click()
    expect(page.get_by_role("heading", name="Konsultasi BPHTB")).to_be_visible()
    expect(page.get_by_text("Belum ada persyaratan.")).to_be_visible()
    screenshot(page, "admin-service-created-1366")
