"""Funding in a real browser: keuangan records a sponsor, a cash and an in-kind contribution to the demo event,
voids a wrong one, the event's APBD share follows, and the XLSX export holds those rows."""
import io
import re

from openpyxl import load_workbook
from playwright.sync_api import expect

from .conftest import login, screenshot
from .refusals import expect_refusal

SPONSOR = "PT Sumber Rejeki Cikarang"


def rupiah(text: str) -> int:
    return int(re.sub(r"[^0-9]", "", text))


def figures(page) -> dict:
    return {key: rupiah(page.get_by_test_id(key).inner_text())
            for key in ("total-cost", "cash", "in-kind", "apbd")} | {
        "share": page.get_by_test_id("event-share").inner_text()}


def record(page, base: str, sponsor_id: str, event_id: str, **fields):
    page.goto(f"{base}/funding/contributions/new?sponsor_id={sponsor_id}&event_id={event_id}")
    if fields.get("in_kind"):
        page.get_by_label("Barang/jasa", exact=True).check()
        page.get_by_label("Jenis barang/jasa").select_option(label="Percetakan")
        page.get_by_label("Nilai menurut sponsor (Rp)").fill("Rp 3.000.000")
        page.get_by_label("Dasar penilaian").fill("Harga cetak dari tiga percetakan di Cikarang")
        page.get_by_label("Nomor BAST").fill("BAST/E2E/001")
        page.get_by_label("Menutup pos anggaran").select_option(label="Percetakan: Spanduk, formulir, dan tiket antrean")
        page.get_by_label("Barang/jasa baris 1").fill("Spanduk 1 x 5 m")
        page.get_by_label("Jumlah baris 1").fill("6")
        page.get_by_label("Satuan baris 1").fill("lembar")
    page.get_by_label("Jumlah / nilai taksiran (Rp)").fill(fields["value"])
    page.get_by_label("Nomor tanda terima / kuitansi").fill(fields["receipt"])
    if fields.get("shot"):
        screenshot(page, fields["shot"])
    page.get_by_role("button", name="Simpan sumbangan").click()
    expect(page.get_by_test_id("status")).to_have_text("Diterima")
    return page.url.rsplit("/", 1)[-1]


def test_finance_officer_records_voids_and_exports(live_server, page):
    base = live_server.url
    # the forms sent wrong on purpose: a sponsor, a bad amount, a void without a reason
    expect_refusal(page, 422, r"/funding/sponsors/new")
    expect_refusal(page, 422, r"/funding/contributions/new")
    expect_refusal(page, 422, r"/funding/contributions/\d+/void")
    login(page, base, "keuangan")
    page.goto(base + "/funding/")
    expect(page.get_by_test_id("year-share")).to_contain_text("%")
    screenshot(page, "funding-overview-1366")
    page.get_by_role("link", name="BOTRAM Pasar Bersih Jababeka").click()
    event_id = page.url.rsplit("/", 1)[-1]
    before = figures(page)

    # a sponsor
    page.goto(base + "/funding/sponsors/new")
    page.get_by_role("button", name="Simpan sponsor").click()
    expect(page.get_by_text("Nama sponsor wajib diisi.")).to_be_visible()
    page.get_by_label("Nama sponsor").fill(SPONSOR)
    page.get_by_label("Jenis sponsor").select_option(label="Perusahaan (CSR)")
    page.get_by_label("Sektor usaha").fill("Percetakan dan kemasan")
    page.get_by_label("Telepon").fill("0813 8888 1234")
    page.get_by_label("Boleh disebut sebagai sponsor di layar antrean").check()
    page.get_by_role("button", name="Simpan sponsor").click()
    expect(page.locator("h1")).to_have_text(SPONSOR)
    sponsor_id = page.url.rsplit("/", 1)[-1]

    # cash, then a bad amount that is refused, then in kind, then a wrong entry
    record(page, base, sponsor_id, event_id, value="Rp 5.000.000", receipt="KW/E2E/001", shot="funding-form-cash-1366")
    page.goto(f"{base}/funding/contributions/new?sponsor_id={sponsor_id}&event_id={event_id}")
    page.get_by_label("Jumlah / nilai taksiran (Rp)").fill("2jtan")
    page.get_by_label("Nomor tanda terima / kuitansi").fill("KW/E2E/009")
    page.get_by_role("button", name="Simpan sumbangan").click()
    expect(page.get_by_text("harus pasti, bukan perkiraan")).to_be_visible()
    record(page, base, sponsor_id, event_id, in_kind=True, value="2,5 jt", receipt="KW/E2E/002",
           shot="funding-form-in-kind-1366")
    expect(page.get_by_text("Spanduk 1 x 5 m")).to_be_visible()
    wrong = record(page, base, sponsor_id, event_id, value="50 jt", receipt="KW/E2E/003")

    # void the wrong one through the dialog: first without a reason
    page.get_by_role("link", name="Batalkan catatan").click()
    dialog = page.locator("#void-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Batalkan catatan").click()
    expect(page.locator("#void-dialog").get_by_text("Alasan wajib diisi.")).to_be_visible()
    screenshot(page, "funding-void-dialog-1366")
    page.locator("#void-dialog").get_by_label("Alasan").fill("Salah ketik: seharusnya Rp 5.000.000, sudah dicatat")
    page.locator("#void-dialog").get_by_role("button", name="Batalkan catatan").click()
    expect(page.get_by_test_id("status")).to_have_text("Dibatalkan (salah catat)")
    expect(page.get_by_text("Petugas Keuangan").first).to_be_visible()
    screenshot(page, "funding-contribution-voided-1366")

    # the event's APBD share follows: +5 jt cash, +2,5 jt in kind, the voided 50 jt not counted
    page.goto(f"{base}/funding/events/{event_id}")
    after = figures(page)
    assert after["cash"] - before["cash"] == 5_000_000
    assert after["in-kind"] - before["in-kind"] == 2_500_000
    assert after["total-cost"] == before["total-cost"]
    assert before["apbd"] - after["apbd"] == 7_500_000
    expected = f"{after['apbd'] / after['total-cost'] * 100:.1f}".replace(".", ",") + "%"
    assert after["share"] == expected and after["share"] != before["share"]
    screenshot(page, "funding-event-budget-1366")

    # the receipt prints with terbilang
    cash_id = str(int(wrong) - 2)
    page.goto(f"{base}/funding/contributions/{cash_id}/receipt")
    expect(page.get_by_text("Lima juta rupiah")).to_be_visible()
    screenshot(page, "funding-receipt-a4")

    # the XLSX export holds those rows
    page.goto(base + "/funding/")
    page.get_by_label("Format").select_option("xlsx")
    with page.expect_download() as info:
        page.get_by_role("button", name="Unduh").click()
    data = open(info.value.path(), "rb").read()
    sheet = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r)) for r in sheet.iter_rows(min_row=2, values_only=True) if r[2] == SPONSOR]
    assert sorted((r["Bentuk"], r["Status"], r["Nilai dibukukan (Rp)"]) for r in rows) == [
        ("Barang/jasa", "Diterima", 2_500_000), ("Uang tunai", "Dibatalkan (salah catat)", 0),
        ("Uang tunai", "Diterima", 5_000_000)]
    assert all(r["Jenis sponsor"] == "Perusahaan (CSR)" and r["Kegiatan"] == "BOTRAM Pasar Bersih Jababeka"
               for r in rows)


def test_coordinator_reads_and_sets_the_target(live_server, new_page):
    page = new_page(1366, 768)
    base = live_server.url
    login(page, base, "koordinator")
    page.goto(base + "/funding/")
    expect(page.get_by_role("link", name="Catat sumbangan")).to_have_count(0)
    page.get_by_text("Tetapkan target porsi APBD").click()
    page.get_by_label("Porsi APBD paling tinggi (%)").fill("30")
    page.get_by_role("button", name="Simpan target").click()
    expect(page.get_by_text("Melebihi target: APBD paling tinggi 30%")).to_be_visible()
    # the year selector swaps the overview through htmx
    next_year = str(int(page.get_by_label("Tahun anggaran").input_value()) + 1)
    page.get_by_label("Tahun anggaran").select_option(next_year)
    page.wait_for_url(re.compile(rf".*year={next_year}"))
    expect(page.get_by_text(f"Belum ada kegiatan pada tahun {next_year}.")).to_be_visible()
    screenshot(page, "funding-overview-previous-year-1366")
    phone = new_page(390, 844)
    login(phone, base, "koordinator")
    phone.goto(base + "/funding/")
    screenshot(phone, "funding-overview-390")
