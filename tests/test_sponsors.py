"""The funding pages (/funding): roles, forms, bad input, htmx fragments, exports and printable documents."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from botram.domain import funding as rules
from botram.domain.clock import today_wib
from botram.extensions import db
from botram.models import AuditLog, BudgetLine, Contribution, FundingTarget, Sponsor

from .conftest import count
from .factories import make_event, make_user

ROLES = ["admin", "koordinator", "keuangan", "resepsionis", "petugas"]


@pytest.fixture
def users(app):
    return {role: make_user(role) for role in ROLES}


@pytest.fixture
def world(app, users):
    """One event with a budget line, a sponsor, a received cash contribution and a pledge."""
    event = make_event()
    line = rules.add_budget_line(event, rules.BudgetLineInput("tents", "Sewa tenda", "10 jt", ""))
    sponsor = rules.create_sponsor(rules.SponsorInput(name="Perumda Tirta Bhagasasi", kind="bumd",
                                                      sector="Air minum", public_thanks=True))
    db.session.flush()
    received = rules.record_contribution(rules.ContributionInput(
        sponsor_id=sponsor.id, event_id=event.id, form="cash", value_text="4 jt", status="received",
        received_on=today_wib(), receipt_number="KW-001"))
    pledge = rules.record_contribution(rules.ContributionInput(
        sponsor_id=sponsor.id, event_id=event.id, form="cash", value_text="1 jt", status="pledged"))
    db.session.commit()
    return dict(event=event, line=line, sponsor=sponsor, received=received, pledge=pledge)


def routes(w):
    """(method, url, data, allowed roles)"""
    readers = {"admin", "koordinator", "keuangan"}
    writers = {"admin", "keuangan"}
    c, p, s, e, line = w["received"].id, w["pledge"].id, w["sponsor"].id, w["event"].id, w["line"].id
    today = today_wib()
    return [
        ("GET", "/funding/", None, readers),
        ("GET", "/funding/sponsors", None, readers),
        ("GET", f"/funding/sponsors/{s}", None, readers),
        ("GET", "/funding/sponsors/new", None, writers),
        ("GET", f"/funding/sponsors/{s}/edit", None, writers),
        ("GET", "/funding/contributions", None, readers),
        ("GET", f"/funding/contributions/{c}", None, readers),
        ("GET", "/funding/contributions/new", None, writers),
        ("GET", f"/funding/contributions/line-options?event_id={e}", None, writers),
        ("GET", f"/funding/contributions/{c}/void", None, writers),
        ("GET", f"/funding/contributions/{c}/receipt", None, readers),
        ("GET", f"/funding/contributions/{c}/letter", None, readers),
        ("GET", f"/funding/events/{e}", None, readers),
        ("GET", f"/funding/lines/{line}/edit", None, writers),
        ("GET", f"/funding/export?date_from={today.year}-01-01&date_to={today}&format=csv", None, readers),
        ("POST", "/funding/target", {"year": today.year, "percent": "60"}, {"admin", "koordinator"}),
        ("POST", "/funding/sponsors/new", {"name": "PT Baru Sekali", "kind": "csr"}, writers),
        ("POST", f"/funding/sponsors/{s}/edit", {"name": "Perumda Tirta Bhagasasi", "kind": "bumd"}, writers),
        ("POST", "/funding/contributions/new", {"sponsor_id": s, "form": "cash", "value": "1 jt", "status": "pledged"},
         writers),
        ("POST", f"/funding/contributions/{p}/receive", {"received_on": today.isoformat(), "receipt_number": "KW-X"},
         writers),
        ("POST", f"/funding/contributions/{p}/cancel", {"cancel_reason": "Sponsor menarik janji"}, writers),
        ("POST", f"/funding/contributions/{c}/void", {"reason": "Salah ketik jumlah"}, writers),
        ("POST", f"/funding/events/{e}/lines", {"category": "sound", "description": "Sound", "planned": "1 jt"},
         writers),
        ("POST", f"/funding/lines/{line}/edit", {"category": "tents", "description": "Sewa tenda", "planned": "9 jt"},
         writers),
        ("POST", f"/funding/lines/{line}/void", {"reason": "Tidak dipakai"}, writers),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_route_checks_the_role(client, auth, world, role):
    auth.login(role)
    for method, url, data, allowed in routes(world):
        before = count(AuditLog)
        response = client.open(url, method=method, data=data)
        if role in allowed:
            # allowed: the page, a redirect after a write, or a rule's refusal (409) — never 403 or 500
            assert response.status_code in (200, 303, 409), (role, method, url, response.status_code)
        else:
            assert response.status_code == 403, (role, method, url)
            assert count(AuditLog) == before
        db.session.rollback()


def test_anonymous_is_sent_to_login_everywhere(client, world, htmx_headers):
    for method, url, data, _allowed in routes(world):
        before = count(AuditLog)
        response = client.open(url, method=method, data=data)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
        assert count(AuditLog) == before
    htmx = client.get("/funding/", headers=htmx_headers)
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")


def test_view_functions_declare_their_roles(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("sponsors."):
            assert getattr(app.view_functions[rule.endpoint], "allowed_roles", None), rule.rule


def test_overview_shows_share_target_table_and_charts(client, auth, world):
    rules.set_target(today_wib().year, "60")
    db.session.commit()
    auth.login("koordinator")
    page = client.get("/funding/").get_data(as_text=True)
    assert "60,0%" in page  # 6 jt of 10 jt carried by APBD
    assert "Rp 10.000.000" in page and "Rp 4.000.000" in page and "Rp 6.000.000" in page
    assert "Sesuai target: APBD paling tinggi 60%" in page
    assert "<svg" in page and "Tetapkan target porsi APBD" in page
    assert "Catat sumbangan" not in page  # the coordinator reads


def test_finance_sees_write_buttons_but_not_the_target_form(client, auth, world):
    auth.login("keuangan")
    page = client.get("/funding/").get_data(as_text=True)
    assert "Tetapkan target porsi APBD" not in page and "Catat sumbangan" in page


def test_year_selector_answers_htmx_with_the_fragment(client, auth, world, htmx_headers):
    auth.login("keuangan")
    response = client.get(f"/funding/?year={today_wib().year - 1}", headers=htmx_headers)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith("<div id=\"funding-overview\"") and "<html" not in body
    bad = client.get("/funding/?year=20x6")
    assert bad.status_code == 422 and "Tahun tidak valid" in bad.get_data(as_text=True)


def test_target_form_bad_input(client, auth, world):
    auth.login("koordinator")
    for data, message in [({"year": "2027", "percent": ""}, "wajib diisi"),
                          ({"year": "2027", "percent": "120"}, "antara 0 dan 100"),
                          ({"year": "2027", "percent": "enam puluh"}, "persen 0–100"),
                          ({"year": "abc", "percent": "60"}, "Tahun harus berupa angka"),
                          ({"year": "1800", "percent": "60"}, "Tahun tidak valid")]:
        response = client.post("/funding/target", data=data)
        assert response.status_code == 422 and message in response.get_data(as_text=True), data
    assert count(FundingTarget) == 0
    ok = client.post("/funding/target", data={"year": "2027", "percent": "57,5"})
    assert ok.status_code == 303 and ok.headers["Location"] == "/funding/?year=2027"
    assert db.session.get(FundingTarget, 2027).apbd_max_share_bp == 5750
    assert client.post("/funding/target", data={"year": "2027", "percent": "50"}, no_csrf=True).status_code == 400


@pytest.mark.parametrize("data, message", [
    ({"name": "", "kind": "csr"}, "Nama sponsor wajib diisi."),
    ({"name": "x" * 161, "kind": "csr"}, "paling banyak 160 karakter"),
    ({"name": "PT Baru", "kind": ""}, "Pilih jenis sponsor."),
    ({"name": "PT Baru", "kind": "bank"}, "Pilih jenis sponsor."),
    ({"name": "PT Baru", "kind": "csr", "phone": "12345"}, "Nomor telepon tidak valid"),
    ({"name": "PT Baru", "kind": "csr", "npwp": "12.345"}, "NPWP tidak valid"),
    ({"name": "PT Baru", "kind": "csr", "email": "humas@"}, "Alamat email tidak valid"),
    ({"name": "perumda tirta bhagasasi", "kind": "bumd"}, "sudah terdaftar"),
])
def test_sponsor_form_bad_input_saves_nothing(client, auth, world, data, message):
    auth.login("keuangan")
    before = count(Sponsor)
    response = client.post("/funding/sponsors/new", data=data)
    assert response.status_code in (409, 422)
    assert message in response.get_data(as_text=True)
    assert count(Sponsor) == before


def test_sponsor_create_edit_and_search(client, auth, world, htmx_headers):
    auth.login("keuangan")
    response = client.post("/funding/sponsors/new", data={
        "name": "Forum CSR Kabupaten Bekasi", "kind": "csr", "sector": "Forum perusahaan", "phone": "0812 3456 7890",
        "npwp": "01.234.567.8-431.000", "email": "Sekretariat@ForumCSR.example", "public_thanks": "y"})
    assert response.status_code == 303
    sponsor = db.session.scalar(sa.select(Sponsor).where(Sponsor.name == "Forum CSR Kabupaten Bekasi"))
    assert response.headers["Location"] == f"/funding/sponsors/{sponsor.id}"
    assert sponsor.phone == "+6281234567890" and sponsor.email == "sekretariat@forumcsr.example" and sponsor.public_thanks
    edit = client.post(f"/funding/sponsors/{sponsor.id}/edit", data={"name": "Forum CSR Kabupaten Bekasi",
                                                                       "kind": "csr", "sector": "Forum CSR"})
    assert edit.status_code == 303 and sponsor.sector == "Forum CSR" and sponsor.public_thanks is False
    entry = rules.history("sponsor", sponsor.id)[-1]
    assert entry.action == "funding.sponsor.update" and "sector" in entry.detail["fields"]
    assert "0812" not in str(entry.detail)
    found = client.get("/funding/sponsors?q=forum", headers=htmx_headers).get_data(as_text=True)
    assert "Forum CSR Kabupaten Bekasi" in found and "Tirta" not in found and "<html" not in found
    assert client.get("/funding/sponsors?kind=bank").status_code == 422
    assert client.get("/funding/sponsors/9999").status_code == 404


def contribution_data(world, **change):
    data = {"sponsor_id": world["sponsor"].id, "event_id": world["event"].id, "form": "cash", "value": "Rp 2.500.000",
            "status": "received", "received_on": today_wib().isoformat(), "receipt_number": "KW-100",
            "pledged_on": today_wib().isoformat()}
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("change, message", [
    ({"value": ""}, "Jumlah uang wajib diisi."),
    ({"value": "-500000"}, "tidak boleh negatif"),
    ({"value": "2jtan"}, "bukan perkiraan"),
    ({"value": "dua kambing"}, "tidak dikenali"),
    ({"value": "999 miliar"}, "tidak wajar"),
    ({"value": "1.500,50"}, "rupiah bulat"),
    ({"received_on": (today_wib() + timedelta(days=1)).isoformat()}, "tidak boleh di masa depan"),
    ({"received_on": "kemarin"}, "Tanggal tidak valid"),
    ({"receipt_number": ""}, "Nomor tanda terima wajib diisi."),
    ({"receipt_number": "KW-001"}, "sudah dipakai"),
    ({"sponsor_id": ""}, "Pilih sponsor yang terdaftar."),
    ({"sponsor_id": "9999"}, "Pilih sponsor yang terdaftar."),
    ({"sponsor_id": "abc"}, "Pilih sponsor yang terdaftar."),
    ({"event_id": "9999"}, "Kegiatan tidak ditemukan."),
    ({"form": "emas"}, "Pilih bentuk sumbangan"),
    ({"description": "x" * 301}, "paling banyak 300 karakter"),
    ({"form": "in_kind", "category": "goods", "valuation_basis": "Harga pasar", "items-0-name": "Tenda",
      "items-0-quantity": "4"}, "Nomor BAST"),
    ({"form": "in_kind", "category": "goods", "valuation_basis": "Harga pasar", "bast_number": "BAST/1"},
     "paling sedikit satu barang"),
    ({"form": "in_kind", "category": "goods", "valuation_basis": "Harga pasar", "bast_number": "BAST/1",
      "items-0-name": "Tenda", "items-0-quantity": "empat"}, "Jumlah barang harus berupa angka bulat."),
    ({"form": "in_kind", "category": "goods", "valuation_basis": "Harga pasar", "bast_number": "BAST/1",
      "claimed_value": "1 jt", "items-0-name": "Tenda", "items-0-quantity": "4"}, "tidak boleh melebihi"),
])
def test_contribution_form_bad_input_saves_nothing(client, auth, world, change, message):
    auth.login("keuangan")
    before = (count(Contribution), count(AuditLog))
    response = client.post("/funding/contributions/new", data=contribution_data(world, **change))
    body = response.get_data(as_text=True)
    assert response.status_code in (409, 422), body[:200]
    assert message in body
    assert (count(Contribution), count(AuditLog)) == before


def test_cash_and_in_kind_contributions_change_the_share(client, auth, world):
    auth.login("keuangan")
    event, line = world["event"], world["line"]
    assert rules.funding_mix(event.id).apbd_share == 0.6
    cash = client.post("/funding/contributions/new", data=contribution_data(world, value="1,5 jt"))
    assert cash.status_code == 303
    goods = client.post("/funding/contributions/new", data=contribution_data(
        world, form="in_kind", value="2.000.000", claimed_value="Rp 2.500.000", category="goods",
        valuation_basis="Harga sewa pasar", bast_number="BAST/CSR/1", receipt_number="KW-101",
        budget_line_id=str(line.id), **{"items-0-name": "Tenda 6x12", "items-0-quantity": "2", "items-0-unit": "unit",
                                        "items-1-name": "Kursi", "items-1-quantity": "50"}))
    assert goods.status_code == 303
    created = db.session.scalar(sa.select(Contribution).where(Contribution.receipt_number == "KW-101"))
    assert [(i.name, i.quantity, i.unit) for i in created.items] == [("Tenda 6x12", 2, "unit"), ("Kursi", 50, "")]
    assert created.budget_line_id == line.id and created.claimed_value == 2_500_000 and created.value == 2_000_000
    mix = rules.funding_mix(event.id)
    assert (mix.sponsor_cash, mix.in_kind, mix.apbd_amount) == (5_500_000, 2_000_000, 2_500_000)
    detail = client.get(goods.headers["Location"]).get_data(as_text=True)
    assert "BAST/CSR/1" in detail and "Sumbangan dicatat" in detail


def test_receive_cancel_and_void_through_the_pages(client, auth, world):
    auth.login("keuangan")
    pledge, received = world["pledge"], world["received"]
    future = (today_wib() + timedelta(days=2)).isoformat()
    bad = client.post(f"/funding/contributions/{pledge.id}/receive", data={"received_on": future, "receipt_number": "KW-2"})
    assert bad.status_code == 422 and "tidak boleh di masa depan" in bad.get_data(as_text=True)
    assert "open" in bad.get_data(as_text=True).split('id="receive-dialog"')[1][:80]
    assert pledge.status == "pledged"
    ok = client.post(f"/funding/contributions/{pledge.id}/receive",
                     data={"received_on": today_wib().isoformat(), "receipt_number": "KW-2"})
    assert ok.status_code == 303 and pledge.status == "received"
    again = client.post(f"/funding/contributions/{pledge.id}/cancel", data={"cancel_reason": "Sponsor menarik janji"})
    assert again.status_code == 409 and "Hanya janji" in again.get_data(as_text=True)
    for reason, message in [("", "Alasan wajib diisi."), ("abc", "minimal 5 karakter"), ("x" * 301, "paling banyak")]:
        response = client.post(f"/funding/contributions/{received.id}/void", data={"reason": reason})
        assert response.status_code == 422 and message in response.get_data(as_text=True)
        assert received.voided_at is None
    voided = client.post(f"/funding/contributions/{received.id}/void", data={"reason": "Salah ketik jumlah"})
    assert voided.status_code == 303
    assert received.voided_at is not None and received.voided_by_id is not None
    page = client.get(f"/funding/contributions/{received.id}").get_data(as_text=True)
    assert "dibatalkan karena salah catat" in page and "Salah ketik jumlah" in page and "Pengguna keuangan" in page
    twice = client.post(f"/funding/contributions/{received.id}/void", data={"reason": "Salah ketik jumlah"})
    assert twice.status_code == 409
    assert client.post("/funding/contributions/9999/void", data={"reason": "Salah ketik"}).status_code == 404
    assert client.post(f"/funding/contributions/{received.id}/void", data={"reason": "Salah"},
                       no_csrf=True).status_code == 400
    assert count(Contribution) == 2  # nothing deleted


def test_contribution_list_filters_and_htmx(client, auth, world, htmx_headers):
    auth.login("koordinator")
    rules.void_contribution(world["received"], "Salah catat")
    db.session.commit()
    voided = client.get("/funding/contributions?status=voided", headers=htmx_headers)
    body = voided.get_data(as_text=True)
    assert voided.status_code == 200 and body.lstrip().startswith('<div id="contribution-list"')
    assert f"#{world['received'].id}" in body and f"#{world['pledge'].id}" not in body
    pledged = client.get("/funding/contributions?status=pledged&kind=bumd&form=cash").get_data(as_text=True)
    assert f"#{world['pledge'].id}" in pledged and f"#{world['received'].id}" not in pledged
    program = client.get("/funding/contributions?event_id=program").get_data(as_text=True)
    assert "Belum ada sumbangan" in program
    for query in ("status=lunas", "kind=bank", "year=20x5", "event_id=abc"):
        assert client.get(f"/funding/contributions?{query}").status_code == 422, query


def test_line_options_follow_the_event(client, auth, world):
    auth.login("keuangan")
    body = client.get(f"/funding/contributions/line-options?event_id={world['event'].id}").get_data(as_text=True)
    assert "Tenda: Sewa tenda" in body
    assert "Tenda" not in client.get("/funding/contributions/line-options?event_id=x").get_data(as_text=True)


def test_budget_lines_add_edit_void_with_htmx(client, auth, world, htmx_headers):
    auth.login("keuangan")
    event = world["event"]
    url = f"/funding/events/{event.id}/lines"
    for data, message in [({"category": "", "description": "Sound", "planned": "1 jt"}, "Pilih kategori biaya."),
                          ({"category": "sound", "description": "", "planned": "1 jt"}, "Uraian wajib diisi."),
                          ({"category": "sound", "description": "Sound", "planned": "1jtan"}, "bukan perkiraan"),
                          ({"category": "sound", "description": "Sound", "planned": "-1"}, "tidak boleh negatif"),
                          ({"category": "sound", "description": "Sound", "planned": "1 jt", "actual": "abc"},
                           "tidak dikenali")]:
        response = client.post(url, data=data, headers=htmx_headers)
        assert response.status_code == 422 and message in response.get_data(as_text=True), data
    assert count(BudgetLine) == 1
    added = client.post(url, data={"category": "sound", "description": "Pengeras suara", "planned": "Rp 2.000.000"},
                        headers=htmx_headers)
    assert added.status_code == 200 and "botram:toast" in added.headers["HX-Trigger"]
    assert added.get_data(as_text=True).lstrip().startswith('<div id="budget"')
    assert rules.funding_mix(event.id).total_cost == 12_000_000
    line = world["line"]
    edited = client.post(f"/funding/lines/{line.id}/edit", data={
        "category": "tents", "description": "Sewa tenda", "planned": "10 jt", "actual": "8 jt"})
    assert edited.status_code == 303 and line.actual == 8_000_000
    assert rules.funding_mix(event.id).total_cost == 10_000_000
    no_reason = client.post(f"/funding/lines/{line.id}/void", data={"reason": ""}, headers=htmx_headers)
    assert no_reason.status_code == 422 and "Alasan wajib diisi." in no_reason.get_data(as_text=True)
    client.post(f"/funding/lines/{line.id}/void", data={"reason": "Tenda disediakan sponsor"})
    assert line.voided_at is not None and rules.funding_mix(event.id).total_cost == 2_000_000
    assert client.post(f"/funding/lines/{line.id}/edit", data={
        "category": "tents", "description": "Sewa tenda", "planned": "1 jt"}).status_code == 409
    assert client.get("/funding/events/9999").status_code == 404


def test_receipt_and_letter_are_a4_with_terbilang(client, auth, world):
    auth.login("keuangan")
    c = world["received"]
    receipt = client.get(f"/funding/contributions/{c.id}/receipt").get_data(as_text=True)
    assert "PEMERINTAH KABUPATEN BEKASI" in receipt and "TANDA TERIMA SUMBANGAN" in receipt
    assert "Empat juta rupiah" in receipt and "Rp 4.000.000" in receipt and "KW-001" in receipt
    letter = client.get(f"/funding/contributions/{c.id}/letter").get_data(as_text=True)
    assert "Ucapan Terima Kasih" in letter and "Empat juta rupiah" in letter
    assert today_wib().strftime("%Y") in letter and "NIP." in letter
    refused = client.get(f"/funding/contributions/{world['pledge'].id}/receipt")
    assert refused.status_code == 303


def test_exports_csv_and_xlsx(client, auth, world):
    auth.login("koordinator")
    today = today_wib()
    csv_response = client.get(f"/funding/export?date_from={today.year}-01-01&date_to={today}&format=csv")
    assert csv_response.status_code == 200 and csv_response.mimetype == "text/csv"
    text = csv_response.data.decode("utf-8-sig")
    assert text.count("\n") == 3 and "Perumda Tirta Bhagasasi" in text and "BUMD" in text
    xlsx = client.get(f"/funding/export?date_from={today.year}-01-01&date_to={today}&format=xlsx")
    assert xlsx.headers["Content-Disposition"].endswith('.xlsx"')
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert sorted(r[11] for r in rows) == [1_000_000, 4_000_000]
    for query, message in [(f"date_from={today}&date_to={today - timedelta(days=1)}", "tidak boleh sebelum"),
                           ("date_from=&date_to=", "wajib diisi"), ("date_from=kemarin&date_to=2026-01-01", "tidak valid"),
                           (f"date_from=2000-01-01&date_to={today}", "paling lama 5 tahun"),
                           (f"date_from={today}&date_to={today}&format=pdf", "Not a valid choice")]:
        response = client.get(f"/funding/export?{query}")
        assert response.status_code == 422, query
        assert message in response.get_data(as_text=True) or query.endswith("pdf"), query


def test_demo_seed_is_idempotent_and_fills_funding(runner, app):
    runner.invoke(args=["seed-demo", "--password", "demo-sandi-123"])
    first = (count(Sponsor), count(Contribution), count(BudgetLine))
    runner.invoke(args=["seed-demo", "--password", "demo-sandi-123"])
    assert (count(Sponsor), count(Contribution), count(BudgetLine)) == first
    kinds = set(db.session.scalars(sa.select(Sponsor.kind)))
    assert {"csr", "bumd", "community", "individual", "other"} <= kinds
    assert db.session.get(FundingTarget, today_wib().year).apbd_max_share_bp == 6000
    year = rules.yearly_funding(today_wib().year)
    assert year.total_cost > 0 and year.sponsor_cash > 0 and year.in_kind > 0 and year.pledged > 0


@pytest.mark.parametrize("action, data", [("receive", {"received_on": ""}), ("cancel", {"cancel_reason": ""}),
                                          ("void", {"reason": ""})])
def test_a_dialog_sent_for_a_record_another_tab_changed_is_refused_for_its_state(client, auth, action, data):
    """The dialog's action no longer applies (another tab received or voided the record): it is refused for the
    record's state (409, above the record) whatever its fields held; their messages would stand in a dialog
    that is not drawn (the form fuzz met a 422 with nothing on the page)."""
    from .worlds import build_fuzz_world, pledge

    world = build_fuzz_world()
    contribution_id = pledge(world)
    contribution = db.session.get(Contribution, contribution_id)
    rules.mark_received(contribution, today_wib(), "K-1", None, by_user_id=None)
    if action == "void":
        rules.void_contribution(contribution, "salah catat, dobel", by_user_id=None)
    db.session.commit()
    before = db.session.get(Contribution, contribution_id).status
    auth.login("admin")
    answer = client.post(f"/funding/contributions/{contribution_id}/{action}", data=data)
    assert answer.status_code == 409
    assert re.search(r'<div class="alert error" role="alert">[^<]+</div>', answer.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Contribution, contribution_id).status == before
