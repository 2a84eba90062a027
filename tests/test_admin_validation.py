"""Bad input on every admin form: a clear Indonesian message next to the field, status 422 (409 for a clash with
what exists), nothing saved."""
import pytest
import sqlalchemy as sa

from botram.extensions import db
from botram.models import Agency, ApiToken, AuditLog, LifeEventPackage, Requirement, Service, User

from .conftest import count
from .factories import agency, make_desk, make_event, make_user, service


@pytest.fixture
def admin(client, auth, app):
    user = make_user("admin")
    auth.login("admin")
    return user


def _assert_refused(response, message, status=None):
    """422 for a broken rule, 409 for a clash with what exists (a code or name already used, a record still in
    use): the domain says which (blueprints/form_action.py)."""
    if status is None:
        status = 409 if "sudah dipakai" in message else 422
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[-2000:]
    assert message in body, body[-4000:]
    return body


def _nothing_written(before):
    assert count(AuditLog) == before


# --- users ------------------------------------------------------------------------------------------------------

GOOD_USER = {"username": "siti", "name": "Siti", "role": "resepsionis", "agency_id": "", "password": "sandi-siti-1",
             "active": "y"}


@pytest.mark.parametrize("change, message", [
    ({"username": ""}, "Nama pengguna 2–40 karakter"),
    ({"username": "s" * 41}, "Nama pengguna 2–40 karakter"),
    ({"username": "siti nurhaliza"}, "Nama pengguna 2–40 karakter"),
    ({"username": "admin"}, "Nama pengguna sudah dipakai."),
    ({"name": ""}, "Nama lengkap wajib diisi"),
    ({"name": "x" * 121}, "paling banyak 120 karakter"),
    ({"role": ""}, "Peran tidak dikenal."),
    ({"role": "raja"}, "Peran tidak dikenal."),
    ({"role": "petugas", "agency_id": ""}, "Petugas loket harus terikat pada satu instansi."),
    ({"role": "petugas", "agency_id": "abc"}, "Petugas loket harus terikat pada satu instansi."),
    ({"role": "petugas", "agency_id": "99999"}, "Petugas loket harus terikat pada satu instansi."),
    ({"password": ""}, "Kata sandi minimal 8 karakter."),
    ({"password": "12345678"}, "Kata sandi harus memuat huruf dan angka"),
])
def test_new_user_bad_input(client, admin, change, message):
    before_users, before_audit = count(User), count(AuditLog)
    body = _assert_refused(client.post("/admin/users/new", data={**GOOD_USER, **change}), message)
    assert 'class="field-error"' in body or 'class="alert error"' in body
    assert count(User) == before_users
    _nothing_written(before_audit)


def test_new_user_form_is_refilled_after_an_error(client, admin):
    body = _assert_refused(client.post("/admin/users/new", data={**GOOD_USER, "password": "pendek"}),
                           "minimal 8 karakter")
    assert 'value="Siti"' in body and 'value="sandi-siti-1"' not in body


def test_user_cannot_be_bound_to_an_inactive_agency(client, admin):
    inactive = Agency(code="LAMA", name="Dinas Lama", short_name="Lama", color="#000000", active=False)
    db.session.add(inactive)
    db.session.commit()
    _assert_refused(client.post("/admin/users/new", data={**GOOD_USER, "role": "petugas",
                                                          "agency_id": str(inactive.id)}),
                    "Instansi ini nonaktif")
    assert count(User, User.username == "siti") == 0


def test_edit_user_bad_input_and_unknown_id(client, admin):
    user = make_user("keuangan", username="ani", name="Ani")
    before = count(AuditLog)
    _assert_refused(client.post(f"/admin/users/{user.id}", data={"name": "", "role": "keuangan", "active": "y"}),
                    "Nama lengkap wajib diisi")
    _assert_refused(client.post(f"/admin/users/{user.id}", data={"name": "Ani", "role": "keuangan", "active": "y",
                                                                "password": "abc"}), "minimal 8 karakter")
    db.session.refresh(user)
    assert user.name == "Ani" and user.check_password("rahasia-123")
    _nothing_written(before)
    assert client.get("/admin/users/99999").status_code == 404
    assert client.post("/admin/users/99999", data={"name": "x"}).status_code == 404
    assert client.get("/admin/users/abc").status_code == 404


def test_admin_cannot_lock_themselves_out(client, admin):
    _assert_refused(client.post(f"/admin/users/{admin.id}", data={"name": "Admin", "role": "admin"}),
                    "tidak dapat menonaktifkan atau mengubah peran akun sendiri")
    _assert_refused(client.post(f"/admin/users/{admin.id}", data={"name": "Admin", "role": "koordinator",
                                                                 "active": "y"}),
                    "tidak dapat menonaktifkan atau mengubah peran akun sendiri")
    db.session.refresh(admin)
    assert admin.active and admin.role == "admin"


def test_last_active_admin_stays(app):
    from botram.domain import DomainError
    from botram.domain.users import update_user

    only = make_user("admin", username="satu")
    with pytest.raises(DomainError, match="paling sedikit satu administrator aktif"):
        update_user(only, name="Satu", role="admin", agency_id=None, active=False, by_user_id=None)
    db.session.rollback()
    make_user("admin", username="dua")
    update_user(only, name="Satu", role="koordinator", agency_id=None, active=True, by_user_id=None)
    assert only.role == "koordinator"


# --- tokens ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, message", [("", "Nama token wajib diisi"), ("  ", "Nama token wajib diisi"),
                                           ("x" * 81, "paling banyak 80 karakter")])
def test_token_bad_name(client, admin, name, message):
    user = make_user("petugas", username="p3")
    before = count(AuditLog)
    _assert_refused(client.post(f"/admin/users/{user.id}/tokens", data={"name": name}), message)
    assert count(ApiToken) == 0
    _nothing_written(before)


def test_token_for_inactive_user_unknown_user_and_foreign_token(client, admin):
    user = make_user("petugas", username="p3")
    other = make_user("petugas", username="p4")
    client.post(f"/admin/users/{other.id}/tokens", data={"name": "Kios"})
    foreign = db.session.scalar(sa.select(ApiToken))
    user.active = False
    db.session.commit()
    _assert_refused(client.post(f"/admin/users/{user.id}/tokens", data={"name": "Tombol"}),
                    "Pengguna nonaktif tidak dapat diberi token.")
    assert count(ApiToken) == 1
    assert client.post("/admin/users/99999/tokens", data={"name": "x"}).status_code == 404
    assert client.post(f"/admin/users/{user.id}/tokens/{foreign.id}/revoke").status_code == 404
    assert client.post(f"/admin/users/{other.id}/tokens/99999/revoke").status_code == 404
    db.session.refresh(foreign)
    assert foreign.revoked_at is None


# --- agencies -------------------------------------------------------------------------------------------------

GOOD_AGENCY = {"code": "DISNAKER", "name": "Dinas Tenaga Kerja", "short_name": "Disnaker", "color": "#CC79A7"}


@pytest.mark.parametrize("change, message", [
    ({"code": ""}, "Kode wajib diisi."),
    ({"code": "DINAS TENAGA"}, "Kode 2–20 karakter"),
    ({"code": "D" * 21}, "Kode 2–20 karakter"),
    ({"code": "bapenda"}, "Kode BAPENDA sudah dipakai instansi lain."),
    ({"name": ""}, "Nama instansi wajib diisi."),
    ({"name": "x" * 161}, "Nama instansi paling banyak 160 karakter."),
    ({"short_name": ""}, "Nama singkat wajib diisi."),
    ({"short_name": "x" * 41}, "Nama singkat paling banyak 40 karakter."),
    ({"color": "merah"}, "Warna harus berformat #RRGGBB"),
    ({"color": "#12345"}, "Warna harus berformat #RRGGBB"),
])
def test_new_agency_bad_input(client, admin, change, message):
    before_agencies, before_audit = count(Agency), count(AuditLog)
    _assert_refused(client.post("/admin/agencies/new", data={**GOOD_AGENCY, **change}), message)
    assert count(Agency) == before_agencies
    _nothing_written(before_audit)


def test_agency_with_active_services_or_officers_cannot_be_deactivated(client, admin):
    bapenda = agency("BAPENDA")
    make_user("petugas", username="p3", agency_code="BAPENDA")
    data = {"code": "BAPENDA", "name": bapenda.name, "short_name": "Bapenda", "color": bapenda.color}
    body = _assert_refused(client.post(f"/admin/agencies/{bapenda.id}", data=data), "3 layanan aktif", 409)
    assert "1 petugas loket aktif" in body
    db.session.refresh(bapenda)
    assert bapenda.active
    assert "Belum dapat dinonaktifkan" in client.get(f"/admin/agencies/{bapenda.id}").get_data(as_text=True)


def test_edit_agency_duplicate_code_and_unknown_id(client, admin):
    dinsos = agency("DINSOS")
    _assert_refused(client.post(f"/admin/agencies/{dinsos.id}", data={**GOOD_AGENCY, "code": "DINKES",
                                                                     "active": "y"}),
                    "Kode DINKES sudah dipakai instansi lain.")
    db.session.refresh(dinsos)
    assert dinsos.code == "DINSOS"
    assert client.get("/admin/agencies/99999").status_code == 404
    assert client.post("/admin/agencies/99999", data=GOOD_AGENCY).status_code == 404


# --- services -------------------------------------------------------------------------------------------------

def _service_data(**overrides):
    data = {"agency_id": str(agency("DISDUKCAPIL").id), "code": "PINDAH", "name": "Surat pindah",
            "ticket_letter": "A", "target_minutes": "15", "description": "", "guidance": "", "active": "y"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("change, message", [
    ({"agency_id": ""}, "Pilih instansi."),
    ({"agency_id": "abc"}, "Pilih instansi."),
    ({"agency_id": "99999"}, "Instansi tidak dikenal."),
    ({"code": ""}, "Kode wajib diisi."),
    ({"code": "akta mati"}, "Kode 2–20 karakter"),
    ({"code": "AKTA-MATI"}, "Kode AKTA-MATI sudah dipakai layanan lain."),
    ({"name": ""}, "Nama layanan wajib diisi."),
    ({"name": "x" * 161}, "Nama layanan paling banyak 160 karakter."),
    ({"ticket_letter": ""}, "Huruf antrean harus satu huruf A–Z."),
    ({"ticket_letter": "7"}, "Huruf antrean harus satu huruf A–Z."),
    ({"ticket_letter": "AB"}, "Huruf antrean harus satu huruf A–Z."),
    ({"ticket_letter": "B"}, "Huruf B sudah dipakai layanan Bapenda."),
    ({"target_minutes": ""}, "Target waktu layanan harus berupa angka 1–240 menit."),
    ({"target_minutes": "sepuluh"}, "Target waktu layanan harus berupa angka 1–240 menit."),
    ({"target_minutes": "2.5"}, "Target waktu layanan harus berupa angka 1–240 menit."),
    ({"target_minutes": "0"}, "Target waktu layanan harus 1–240 menit."),
    ({"target_minutes": "241"}, "Target waktu layanan harus 1–240 menit."),
    ({"guidance": "x" * 2001}, "Panduan untuk warga paling banyak 2000 karakter."),
])
def test_new_service_bad_input(client, admin, change, message):
    before_services, before_audit = count(Service), count(AuditLog)
    _assert_refused(client.post("/admin/services/new", data=_service_data(**change)), message)
    assert count(Service) == before_services
    _nothing_written(before_audit)


def test_service_for_inactive_agency_is_refused(client, admin):
    old = Agency(code="LAMA", name="Dinas Lama", short_name="Lama", color="#000000", active=False)
    db.session.add(old)
    db.session.commit()
    _assert_refused(client.post("/admin/services/new", data=_service_data(agency_id=str(old.id), ticket_letter="L")),
                    "Instansi ini nonaktif")
    assert count(Service, Service.code == "PINDAH") == 0


def test_service_on_an_open_desk_cannot_be_deactivated(client, admin):
    event = make_event()
    make_desk(event, service_codes=["AKTA-MATI"])
    death = service("AKTA-MATI")
    data = _service_data(code="AKTA-MATI", name=death.name, target_minutes="12")
    data.pop("active")
    _assert_refused(client.post(f"/admin/services/{death.id}", data=data),
                    "Layanan sedang dibuka di 1 loket kegiatan yang berlangsung.", 409)
    db.session.refresh(death)
    assert death.active
    page = client.get(f"/admin/services/{death.id}").get_data(as_text=True)
    assert "sedang dibuka di 1 loket" in page


def test_edit_service_bad_input_keeps_the_row(client, admin):
    kia = service("KIA")
    _assert_refused(client.post(f"/admin/services/{kia.id}", data=_service_data(code="KIA", target_minutes="999")),
                    "Target waktu layanan harus 1–240 menit.")
    db.session.refresh(kia)
    assert kia.target_minutes == 6 and kia.name == "Kartu Identitas Anak (KIA)"
    assert client.get("/admin/services/99999").status_code == 404
    assert client.post("/admin/services/99999", data=_service_data()).status_code == 404


def test_inactive_service_can_be_reactivated(client, admin):
    kia = service("KIA")
    data = _service_data(code="KIA", name=kia.name, target_minutes="6")
    data.pop("active")
    assert client.post(f"/admin/services/{kia.id}", data=data).status_code == 303
    db.session.refresh(kia)
    assert kia.active is False
    assert client.post(f"/admin/services/{kia.id}", data=_service_data(code="KIA", name=kia.name,
                                                                       target_minutes="6")).status_code == 303
    db.session.refresh(kia)
    assert kia.active is True


# --- requirement checklist --------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, message", [
    ({"text": ""}, "Nama dokumen wajib diisi."),
    ({"text": "   "}, "Nama dokumen wajib diisi."),
    ({"text": "x" * 256}, "Nama dokumen paling banyak 255 karakter."),
    ({"text": "KTP", "where_to_get": "y" * 256}, "Tempat memperoleh paling banyak 255 karakter."),
])
def test_add_requirement_bad_input_htmx_and_plain(client, admin, htmx_headers, data, message):
    death = service("AKTA-MATI")
    before = count(Requirement)
    body = _assert_refused(client.post(f"/admin/services/{death.id}/requirements", data=data,
                                       headers=htmx_headers), message)
    assert "<html" not in body and 'id="requirements"' in body
    body = _assert_refused(client.post(f"/admin/services/{death.id}/requirements", data=data), message)
    assert "<html" in body
    assert count(Requirement) == before


def test_edit_requirement_bad_input(client, admin, htmx_headers):
    death = service("AKTA-MATI")
    first = death.requirements[0]
    original = first.text
    body = _assert_refused(client.post(f"/admin/services/{death.id}/requirements/{first.id}",
                                       data={"edit-text": ""}, headers=htmx_headers), "Nama dokumen wajib diisi.")
    assert 'name="edit-text"' in body
    db.session.refresh(first)
    assert first.text == original


def test_requirement_unknown_ids_and_bad_direction(client, admin, htmx_headers):
    death, kia = service("AKTA-MATI"), service("KIA")
    foreign = kia.requirements[0]
    base = f"/admin/services/{death.id}/requirements"
    assert client.post(f"{base}/{foreign.id}", data={"edit-text": "x"}).status_code == 404
    assert client.post(f"{base}/{foreign.id}/delete").status_code == 404
    assert client.post(f"{base}/99999/move", data={"direction": "up"}).status_code == 404
    assert client.post("/admin/services/99999/requirements", data={"text": "x"}).status_code == 404
    first = death.requirements[0]
    assert client.post(f"{base}/{first.id}/move", data={"direction": "sideways"}).status_code == 400
    assert client.post(f"{base}/{first.id}/move", data={}).status_code == 400
    assert client.get(f"{base}?edit=abc", headers=htmx_headers).status_code == 200
    assert count(Requirement, Requirement.service_id == kia.id) == 3


# --- packages -------------------------------------------------------------------------------------------------

def _package_data(*codes, **overrides):
    data = {"code": "BAYI", "name": "Bayi baru lahir", "description": "",
            "services": [str(service(c).id) for c in codes or ("AKTA-LAHIR", "KIA")]}
    data.update(overrides)
    return data


@pytest.mark.parametrize("overrides, message", [
    ({"code": ""}, "Kode wajib diisi."),
    ({"code": "bayi baru"}, "Kode 2–20 karakter"),
    ({"code": "kematian"}, "Kode KEMATIAN sudah dipakai paket lain."),
    ({"name": ""}, "Nama paket wajib diisi."),
    ({"name": "x" * 161}, "Nama paket paling banyak 160 karakter."),
    ({"services": []}, "Pilih paling sedikit 2 layanan untuk satu paket."),
    ({"services": ["abc", "def"]}, "Layanan tidak dikenal."),
    ({"services": ["99999", "1"]}, "Layanan tidak dikenal."),
])
def test_new_package_bad_input(client, admin, overrides, message):
    before_packages, before_audit = count(LifeEventPackage), count(AuditLog)
    _assert_refused(client.post("/admin/packages/new", data=_package_data(**overrides)), message)
    assert count(LifeEventPackage) == before_packages
    _nothing_written(before_audit)


def test_package_needs_two_distinct_active_services(client, admin):
    kia = service("KIA")
    _assert_refused(client.post("/admin/packages/new", data=_package_data(services=[str(kia.id), str(kia.id)])),
                    "Pilih paling sedikit 2 layanan")
    kia.active = False
    db.session.commit()
    _assert_refused(client.post("/admin/packages/new", data=_package_data()),
                    "Layanan KIA nonaktif dan tidak dapat dimasukkan ke paket.")
    assert count(LifeEventPackage, LifeEventPackage.code == "BAYI") == 0


def test_edit_package_bad_input_keeps_items(client, admin):
    package = db.session.scalar(sa.select(LifeEventPackage).where(LifeEventPackage.code == "KEMATIAN"))
    body = _assert_refused(client.post(f"/admin/packages/{package.id}", data=_package_data(
        "AKTA-MATI", code="KEMATIAN", name="Kematian anggota keluarga", active="y")), "Pilih paling sedikit 2")
    assert "1 dipilih" in body  # the picker keeps what was posted
    db.session.expire_all()
    assert [s.code for s in package.services] == ["AKTA-MATI", "KK", "DTKS", "PBB-MUTASI"]
    assert client.get("/admin/packages/99999").status_code == 404
    assert client.post("/admin/packages/99999", data=_package_data()).status_code == 404


def test_empty_service_form_flags_every_required_field_at_once(client, admin):
    body = _assert_refused(client.post("/admin/services/new", data={}), "Pilih instansi.")
    for message in ("Kode wajib diisi.", "Nama layanan wajib diisi.", "Huruf antrean harus satu huruf A–Z.",
                    "Target waktu layanan harus berupa angka 1–240 menit."):
        assert message in body
    assert body.count('class="field-error"') == 5
