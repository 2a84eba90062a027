"""The factory, reference data, login, error pages and the CLI."""
import sqlalchemy as sa

from botram.extensions import db
from botram.models import Agency, AuditLog, Event, LifeEventPackage, Region, Service, User

from .conftest import count
from .factories import make_user


def test_reference_data_has_bekasi_regions_by_kemendagri_code(app):
    assert count(Region, Region.level == 3) == 23
    assert count(Region, Region.level == 4) == 187
    cikarang_timur = db.session.scalar(sa.select(Region).where(Region.name == "Cikarang Timur"))
    assert cikarang_timur.code.startswith("32.16.")
    assert count(Region, Region.parent_code == cikarang_timur.code) > 0


def test_reference_catalogue_has_agencies_services_and_packages(app):
    codes = set(db.session.scalars(sa.select(Agency.code)))
    assert {"DISDUKCAPIL", "BAPENDA", "DINSOS", "DINKES"} <= codes
    death = db.session.scalar(sa.select(Service).where(Service.code == "AKTA-MATI"))
    texts = " ".join(r.text for r in death.requirements)
    assert "saksi" in texts and "pelapor" in texts and "keterangan kematian" in texts
    assert "30 hari" in death.guidance
    package = db.session.scalar(sa.select(LifeEventPackage).where(LifeEventPackage.code == "KEMATIAN"))
    assert [s.code for s in package.services] == ["AKTA-MATI", "KK", "DTKS", "PBB-MUTASI"]
    assert db.session.scalar(sa.select(Service.records_amount).where(Service.code == "PBB-BAYAR")) is True


def test_login_page_is_indonesian(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "Masuk petugas" in page.get_data(as_text=True)


def test_login_with_good_and_bad_password(client, app):
    make_user("koordinator")
    bad = client.post("/login", data={"username": "koordinator", "password": "salah-sekali"})
    assert bad.status_code == 401
    assert "kata sandi salah" in bad.get_data(as_text=True)
    good = client.post("/login", data={"username": "koordinator", "password": "rahasia-123"})
    assert good.status_code == 303 and good.headers["Location"] == "/"
    assert count(AuditLog, AuditLog.action == "auth.login") == 1


def test_login_refuses_empty_fields_and_inactive_users(client, app):
    empty = client.post("/login", data={"username": "", "password": ""})
    assert empty.status_code == 400
    assert "Nama pengguna wajib diisi." in empty.get_data(as_text=True)
    user = make_user("resepsionis")
    user.active = False
    db.session.commit()
    assert client.post("/login", data={"username": "resepsionis", "password": "rahasia-123"}).status_code == 401


def test_login_without_csrf_token_is_refused(client, app):
    make_user("admin")
    response = client.post("/login", data={"username": "admin", "password": "rahasia-123"}, no_csrf=True)
    assert response.status_code == 400
    assert "kedaluwarsa" in response.get_data(as_text=True)


def test_login_ignores_offsite_next(client, app):
    make_user("admin")
    response = client.post("/login?next=https://evil.example/", data={"username": "admin", "password": "rahasia-123"})
    assert response.headers["Location"] == "/"


def test_home_requires_login_and_htmx_gets_hx_redirect(client):
    assert client.get("/").status_code == 302
    response = client.get("/", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_logout_is_a_post(client, auth, app):
    make_user("admin")
    auth.login("admin")
    assert client.get("/logout").status_code == 405
    assert auth.logout().status_code == 303
    assert client.get("/").status_code == 302


def test_error_pages_are_indonesian_and_api_errors_are_json(client):
    page = client.get("/tidak-ada")
    assert page.status_code == 404 and "Halaman tidak ditemukan" in page.get_data(as_text=True)
    api = client.get("/api/v1/tidak-ada")
    assert api.status_code == 404 and api.is_json and "error" in api.get_json()


def test_security_headers(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_language_switch_to_english(client, auth, app):
    make_user("admin")
    auth.login("admin")
    client.post("/lang/en", data={"next": "/"})
    assert "Sign out" in client.get("/").get_data(as_text=True)


def test_cli_seed_demo_and_tokens(runner, app):
    result = runner.invoke(args=["seed-demo", "--password", "demo-sandi-1"])
    assert result.exit_code == 0, result.output
    assert "petugas5" in result.output and "demo-sandi-1" in result.output
    assert db.session.scalar(sa.select(Event).where(Event.title == "BOTRAM Pasar Bersih Jababeka")).status == "open"
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "not re-seeded" in again.output
    assert count(Event, Event.title == "BOTRAM Pasar Bersih Jababeka") == 1
    token = runner.invoke(args=["create-token", "petugas1", "--name", "tombol panggil"])
    assert token.exit_code == 0 and token.output.strip().startswith("btr_")
    missing = runner.invoke(args=["create-token", "tidak-ada"])
    assert missing.exit_code != 0 and "No user" in missing.output


def test_cli_create_user_validates(runner, app):
    ok = runner.invoke(args=["create-user", "budi", "--name", "Budi", "--role", "petugas", "--agency", "BAPENDA",
                             "--password", "sandi-budi-1"])
    assert ok.exit_code == 0, ok.output
    assert db.session.scalar(sa.select(User).where(User.username == "budi")).agency.code == "BAPENDA"
    no_agency = runner.invoke(args=["create-user", "ani", "--name", "Ani", "--role", "petugas", "--password", "sandi-ani-1"])
    assert no_agency.exit_code != 0 and "instansi" in no_agency.output
    weak = runner.invoke(args=["create-user", "cici", "--name", "Cici", "--role", "admin", "--password", "123"])
    assert weak.exit_code != 0 and "minimal 8" in weak.output
    assert count(User, User.username.in_(["ani", "cici"])) == 0


def test_cli_backup_round_trip_on_sqlite(runner, app, tmp_path):
    if db.engine.dialect.name != "sqlite":
        import shutil

        import pytest

        if shutil.which("pg_dump") is None:
            pytest.skip("pg_dump not installed")
    make_user("admin")
    target = tmp_path / ("copy.sqlite" if db.engine.dialect.name == "sqlite" else "copy.dump")
    result = runner.invoke(args=["backup", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert target.exists() and target.stat().st_size > 0
    if db.engine.dialect.name == "sqlite":
        engine = sa.create_engine(f"sqlite:///{target}")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT username FROM user").scalar() == "admin"
        engine.dispose()
