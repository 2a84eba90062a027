"""Admin pages: who may open them, and what a successful write does."""
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import g

from botram.domain.tokens import user_for_token
from botram.extensions import db
from botram.models import Agency, ApiToken, AuditLog, LifeEventPackage, LoginFailure, Requirement, User

from .conftest import PASSWORD, count
from .factories import make_user, service
from .html_text import elements, texts

GET_ROUTES = [
    "/admin/", "/admin/users", "/admin/users/new", "/admin/users/{user}", "/admin/users/{user}/tokens",
    "/admin/agencies", "/admin/agencies/new", "/admin/agencies/1", "/admin/services", "/admin/services/new",
    "/admin/services/1", "/admin/services/1/requirements", "/admin/packages", "/admin/packages/new",
    "/admin/packages/1",
]
POST_ROUTES = [
    "/admin/users/new", "/admin/users/{user}", "/admin/users/{user}/tokens", "/admin/users/{user}/tokens/1/revoke",
    "/admin/users/{user}/unlock", "/admin/agencies/new", "/admin/agencies/1", "/admin/services/new", "/admin/services/1",
    "/admin/services/1/requirements", "/admin/services/1/requirements/1", "/admin/services/1/requirements/1/move",
    "/admin/services/1/requirements/1/delete", "/admin/packages/new", "/admin/packages/1",
]
OTHER_ROLES = ["koordinator", "resepsionis", "petugas", "keuangan"]


@pytest.fixture
def target(app):
    """A user the admin pages are about."""
    return make_user("resepsionis", username="target").id


@pytest.mark.parametrize("path", GET_ROUTES)
def test_admin_can_open_every_page(client, auth, target, path):
    make_user("admin")
    auth.login("admin")
    response = client.get(path.format(user=target))
    assert response.status_code == (302 if path in ("/admin/", "/admin/services/1/requirements") else 200)


@pytest.mark.parametrize("path", GET_ROUTES)
def test_anonymous_is_sent_to_login(client, target, path):
    response = client.get(path.format(user=target))
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", POST_ROUTES)
def test_anonymous_post_is_sent_to_login_and_saves_nothing(client, target, path):
    before = count(AuditLog)
    response = client.post(path.format(user=target), data={"name": "x", "text": "x", "direction": "up"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert count(AuditLog) == before


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_roles_get_403_everywhere(client, auth, target, role):
    make_user(role, username=f"u-{role}")
    auth.login(f"u-{role}")
    for path in GET_ROUTES:
        assert client.get(path.format(user=target)).status_code == 403, path
    before = count(AuditLog)
    for path in POST_ROUTES:
        assert client.post(path.format(user=target), data={"name": "x"}).status_code == 403, path
    assert count(AuditLog) == before


def test_htmx_anonymous_gets_hx_redirect(client, htmx_headers):
    response = client.get("/admin/services", headers=htmx_headers)
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")


def test_post_without_csrf_is_refused(client, auth):
    make_user("admin")
    auth.login("admin")
    response = client.post("/admin/agencies/new", data={"code": "DISNAKER", "name": "Dinas Tenaga Kerja",
                                                       "short_name": "Disnaker"}, no_csrf=True)
    assert response.status_code == 400
    assert count(Agency, Agency.code == "DISNAKER") == 0


@pytest.fixture
def admin(client, auth, app):
    user = make_user("admin")
    auth.login("admin")
    return user


def test_navigation_links_the_admin_lists(client, admin):
    page = client.get("/admin/users").get_data(as_text=True)
    for href in ("/admin/users", "/admin/agencies", "/admin/services", "/admin/packages"):
        assert f'href="{href}"' in page


# --- users ------------------------------------------------------------------------------------------------------

def test_create_petugas_user(client, admin):
    bapenda = db.session.scalar(sa.select(Agency.id).where(Agency.code == "BAPENDA"))
    response = client.post("/admin/users/new", data={
        "username": "Siti.B", "name": "Siti Badriah", "role": "petugas", "agency_id": str(bapenda),
        "password": "sandi-siti-1", "active": "y"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    user = db.session.scalar(sa.select(User).where(User.username == "siti.b"))
    assert user.role == "petugas" and user.agency.code == "BAPENDA" and user.active
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "user.create", AuditLog.entity_id == user.id))
    assert entry.user_id == admin.id and "Siti" not in str(entry.detail)


def test_non_petugas_loses_agency_and_edit_changes_role_and_password(client, admin):
    user = make_user("petugas", username="budi")
    response = client.post(f"/admin/users/{user.id}", data={"name": "Budi S", "role": "koordinator",
                                                            "agency_id": str(user.agency_id), "active": "y",
                                                            "password": "sandi-baru-9"})
    assert response.status_code == 303
    db.session.refresh(user)
    assert user.role == "koordinator" and user.agency_id is None and user.name == "Budi S"
    assert user.check_password("sandi-baru-9")


def test_deactivate_user_and_filter_list(client, admin, htmx_headers):
    user = make_user("keuangan", username="ani")
    assert client.post(f"/admin/users/{user.id}", data={"name": "Ani", "role": "keuangan"}).status_code == 303
    db.session.refresh(user)
    assert user.active is False
    fragment = client.get("/admin/users?status=nonaktif", headers=htmx_headers)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and "ani" in body and "admin</td>" not in body
    assert "HX-Request" in fragment.headers["Vary"]
    full = client.get("/admin/users?q=zzz").get_data(as_text=True)
    assert "<html" in full and "Tidak ada pengguna yang cocok." in full


def test_users_filter_by_role(client, admin):
    make_user("petugas", username="p1")
    body = client.get("/admin/users?role=petugas").get_data(as_text=True)
    assert ">p1<" in body and ">admin<" not in body
    assert client.get("/admin/users?role=raja").status_code == 200


# --- device tokens --------------------------------------------------------------------------------------------

def test_issue_token_shows_it_once_then_revoke(client, admin):
    user = make_user("petugas", username="petugas3")
    response = client.post(f"/admin/users/{user.id}/tokens", data={"name": "Tombol panggil loket 3"})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == user.id))
    raw = body.split('id="raw-token" type="text" readonly value="')[1].split('"')[0]
    assert raw.startswith(token.prefix) and raw.startswith("btr_")
    listing = client.get(f"/admin/users/{user.id}/tokens").get_data(as_text=True)
    assert raw not in listing and token.prefix in listing and "Tombol panggil loket 3" in listing
    assert "Belum pernah" in listing
    assert user_for_token(raw).id == user.id
    revoked = client.post(f"/admin/users/{user.id}/tokens/{token.id}/revoke")
    assert revoked.status_code == 303 and revoked.headers["Location"] == f"/admin/users/{user.id}/tokens"
    db.session.refresh(token)
    assert token.revoked_at is not None
    assert "Dicabut" in client.get(f"/admin/users/{user.id}/tokens").get_data(as_text=True)
    assert user_for_token(raw) is None


# --- agencies -------------------------------------------------------------------------------------------------

def test_create_agency_gets_next_okabe_ito_colour(client, admin):
    form = client.get("/admin/agencies/new").get_data(as_text=True)
    assert 'value="#CC79A7"' in form  # the seed uses the first four colours
    response = client.post("/admin/agencies/new", data={"code": "disnaker", "name": "Dinas Tenaga Kerja",
                                                       "short_name": "Disnaker", "color": ""})
    assert response.status_code == 303
    agency = db.session.scalar(sa.select(Agency).where(Agency.code == "DISNAKER"))
    assert agency.color == "#CC79A7" and agency.active
    assert "Disnaker" in client.get("/admin/agencies").get_data(as_text=True)


def test_edit_and_deactivate_an_empty_agency(client, admin):
    client.post("/admin/agencies/new", data={"code": "KEMENAG", "name": "Kementerian Agama",
                                             "short_name": "Kemenag", "color": "#56b4e9"})
    agency = db.session.scalar(sa.select(Agency).where(Agency.code == "KEMENAG"))
    assert agency.color == "#56B4E9"
    response = client.post(f"/admin/agencies/{agency.id}", data={"code": "KEMENAG", "name": "Kantor Kemenag",
                                                                 "short_name": "Kemenag", "color": "#56B4E9"})
    assert response.status_code == 303
    db.session.refresh(agency)
    assert agency.active is False and agency.name == "Kantor Kemenag"


# --- services and their checklist -----------------------------------------------------------------------------

def _service_data(**overrides):
    data = {"agency_id": str(db.session.scalar(sa.select(Agency.id).where(Agency.code == "DISDUKCAPIL"))),
            "code": "PINDAH", "name": "Surat pindah", "ticket_letter": "a", "target_minutes": "15",
            "description": "", "guidance": "Bawa KK asli.", "active": "y"}
    data.update(overrides)
    return data


def test_create_service_then_edit(client, admin):
    response = client.post("/admin/services/new", data=_service_data())
    created = service("PINDAH")
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/services/{created.id}"
    assert created.ticket_letter == "A" and created.target_minutes == 15 and not created.records_amount
    edit = client.post(f"/admin/services/{created.id}", data=_service_data(
        name="Surat keterangan pindah", records_amount="y", target_minutes="20"))
    assert edit.status_code == 303
    db.session.refresh(created)
    assert created.name == "Surat keterangan pindah" and created.records_amount and created.target_minutes == 20


def test_services_active_search_filters_by_agency(client, admin, htmx_headers):
    bapenda = db.session.scalar(sa.select(Agency.id).where(Agency.code == "BAPENDA"))
    fragment = client.get(f"/admin/services?agency={bapenda}&q=pbb", headers=htmx_headers)
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert "PBB-MUTASI" in body and "AKTA-MATI" not in body and "PAJAK-KONSUL" not in body
    assert "2 layanan" in body
    assert client.get("/admin/services?agency=abc").status_code == 200  # a bad filter is just no filter


def test_requirement_checklist_add_edit_move_remove_via_htmx(client, admin, htmx_headers):
    death = service("AKTA-MATI")
    url = f"/admin/services/{death.id}/requirements"
    added = client.post(url, data={"text": "Surat kuasa", "where_to_get": "Pelapor", "optional": "y"},
                        headers=htmx_headers)
    assert added.status_code == 200 and 'id="requirements"' in added.get_data(as_text=True)
    new = db.session.scalar(sa.select(Requirement).where(Requirement.text == "Surat kuasa"))
    assert new.position == 5 and new.optional

    edit = client.get(f"{url}?edit={new.id}", headers=htmx_headers).get_data(as_text=True)
    assert 'name="edit-text"' in edit and 'value="Surat kuasa"' in edit
    updated = client.post(f"{url}/{new.id}", data={"edit-text": "Surat kuasa bermeterai", "edit-where_to_get": ""},
                          headers=htmx_headers)
    assert updated.status_code == 200
    db.session.refresh(new)
    assert new.text == "Surat kuasa bermeterai" and new.optional is False and new.where_to_get == ""

    assert client.post(f"{url}/{new.id}/move", data={"direction": "up"}, headers=htmx_headers).status_code == 200
    db.session.expire_all()
    assert [r.text for r in death.requirements][4] == "Surat kuasa bermeterai"
    first = death.requirements[0]
    client.post(f"{url}/{first.id}/move", data={"direction": "up"}, headers=htmx_headers)  # already first
    db.session.expire_all()
    assert death.requirements[0].id == first.id
    client.post(f"{url}/{first.id}/move", data={"direction": "down"}, headers=htmx_headers)
    db.session.expire_all()
    assert death.requirements[1].id == first.id
    assert [r.position for r in death.requirements] == list(range(6))

    removed = client.post(f"{url}/{new.id}/delete", headers=htmx_headers)
    assert removed.status_code == 200 and "Surat kuasa" not in removed.get_data(as_text=True)
    db.session.expire_all()
    assert len(death.requirements) == 5 and [r.position for r in death.requirements] == list(range(5))
    assert count(AuditLog, AuditLog.action.like("requirement.%")) == 5


def test_requirement_checklist_works_without_javascript(client, admin):
    kia = service("KIA")
    response = client.post(f"/admin/services/{kia.id}/requirements", data={"text": "Surat pengantar RT"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/services/{kia.id}#persyaratan"
    req = db.session.scalar(sa.select(Requirement).where(Requirement.text == "Surat pengantar RT"))
    page = client.get(f"/admin/services/{kia.id}?edit={req.id}").get_data(as_text=True)
    assert 'name="edit-text"' in page
    assert client.post(f"/admin/services/{kia.id}/requirements/{req.id}/delete").status_code == 303
    assert count(Requirement, Requirement.text == "Surat pengantar RT") == 0


# --- packages -------------------------------------------------------------------------------------------------

def test_create_package_across_agencies(client, admin):
    ids = [service(c).id for c in ("AKTA-LAHIR", "KIA", "CEK-KESEHATAN")]
    response = client.post("/admin/packages/new", data={"code": "bayi", "name": "Bayi baru lahir",
                                                        "description": "", "services": [str(i) for i in ids]})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/packages"
    package = db.session.scalar(sa.select(LifeEventPackage).where(LifeEventPackage.code == "BAYI"))
    assert [s.code for s in package.services] == ["AKTA-LAHIR", "KIA", "CEK-KESEHATAN"]
    listing = client.get("/admin/packages").get_data(as_text=True)
    assert "Bayi baru lahir" in listing and "2 instansi" in listing


def test_update_package_keeps_order_and_appends(client, admin):
    package = db.session.scalar(sa.select(LifeEventPackage).where(LifeEventPackage.code == "KEMATIAN"))
    keep = [service(c).id for c in ("DTKS", "AKTA-MATI", "PBB-MUTASI")]  # KK dropped, order as posted
    keep.append(service("BANSOS-KONSUL").id)
    response = client.post(f"/admin/packages/{package.id}", data={
        "code": "KEMATIAN", "name": "Kematian anggota keluarga", "description": "x", "active": "y",
        "services": [str(i) for i in keep]})
    assert response.status_code == 303
    db.session.expire_all()
    assert [s.code for s in package.services] == ["AKTA-MATI", "DTKS", "PBB-MUTASI", "BANSOS-KONSUL"]


def test_package_picker_groups_services_by_agency(client, admin):
    page = client.get("/admin/packages/1").get_data(as_text=True)
    for name in ("Disdukcapil", "Bapenda", "Dinas Sosial", "Dinas Kesehatan"):
        assert name in texts(page, "h3")
    assert "4 dipilih" in page


def test_new_service_form_prefills_the_agency_and_its_letter(client, admin):
    bapenda = db.session.scalar(sa.select(Agency.id).where(Agency.code == "BAPENDA"))
    page = client.get(f"/admin/services/new?agency={bapenda}").get_data(as_text=True)
    assert "selected" in next(o for o in elements(page, "option") if o.get("value") == str(bapenda))
    assert any(i.get("name") == "ticket_letter" and i.get("value") == "B" for i in elements(page, "input"))
    assert client.get("/admin/services/new?agency=abc").status_code == 200


# --- sign-in lockouts -------------------------------------------------------------------------------------------

def _lock_out(client, app, username: str) -> None:
    for _ in range(app.config["BOTRAM_LOGIN_MAX_FAILURES"]):
        assert client.post("/login", data={"username": username, "password": "salah-sekali-1"}).status_code == 401


def test_the_admin_sees_a_locked_account_with_when_its_lock_ends_and_unlocks_it(client, auth, app):
    from botram.domain.clock import now
    from botram.i18n import wib_time

    officer = make_user("petugas", username="petugas7")
    make_user("petugas", username="petugas8")
    admin_user = make_user("admin")
    _lock_out(client, app, "petugas7")
    assert client.post("/login", data={"username": "petugas7", "password": PASSWORD}).status_code == 429

    auth.login("admin")
    page = client.get("/admin/users").get_data(as_text=True)
    first = db.session.scalar(sa.select(sa.func.min(LoginFailure.at)))
    ends = first + timedelta(minutes=app.config["BOTRAM_LOGIN_LOCKOUT_MINUTES"])
    assert ends > now()
    row = next(r for r in texts(page, "tr") if "petugas7" in r)
    assert f"Terkunci sampai {wib_time(ends)} WIB" in row
    assert "Buka kunci" in row
    other = next(r for r in texts(page, "tr") if "petugas8" in r)
    assert "Terkunci" not in other and "Buka kunci" not in other

    response = client.post(f"/admin/users/{officer.id}/unlock")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "auth.unlock"))
    assert entry.entity_id == officer.id and entry.user_id == admin_user.id
    assert entry.detail == {"failures": app.config["BOTRAM_LOGIN_MAX_FAILURES"]}
    assert "Terkunci" not in client.get("/admin/users").get_data(as_text=True)
    g.pop("csrf_token", None)  # Flask-WTF keeps the token in `g`, which the test's one app context shares
    officer_browser = app.test_client()
    assert officer_browser.post("/login", data={"username": "petugas7", "password": PASSWORD}).status_code == 303


def test_a_lock_on_the_username_is_shown_whatever_case_was_typed_and_other_roles_cannot_unlock(client, auth, app):
    officer = make_user("petugas", username="petugas7")
    _lock_out(client, app, "PETUGAS7")
    make_user("koordinator")
    auth.login("koordinator")
    assert client.post(f"/admin/users/{officer.id}/unlock").status_code == 403
    assert count(LoginFailure) == app.config["BOTRAM_LOGIN_MAX_FAILURES"]
