from .conftest import login, screenshot
from .refusals import expect_refusal


def test_coordinator_signs_in_and_sees_the_open_demo_event(live_server, page):
    login(page, live_server.url, "koordinator")
    assert page.get_by_role("heading", name="Kegiatan berlangsung").is_visible()
    assert page.get_by_text("BOTRAM Pasar Bersih Jababeka").first.is_visible()
    screenshot(page, "home-koordinator-1366")


def test_wrong_password_shows_a_clear_message(live_server, page):
    expect_refusal(page, 401, r"/login")
    page.goto(live_server.url + "/login")
    page.get_by_label("Nama pengguna").fill("koordinator")
    page.get_by_label("Kata sandi").fill("bukan-sandinya")
    page.get_by_role("button", name="Masuk").click()
    assert page.get_by_role("alert").inner_text().startswith("Nama pengguna atau kata sandi salah")
    screenshot(page, "login-error-1366")
