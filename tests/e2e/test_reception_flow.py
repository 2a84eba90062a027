"""Reception in a real browser: a two-service visitor registered by keyboard alone, and the citizen's
status page on a phone."""
from playwright.sync_api import expect

from .conftest import login, screenshot
from .refusals import expect_refusal


def test_resepsionis_registers_two_services_by_keyboard_and_citizen_checks_status(live_server, page, new_page):
    expect_refusal(page, 422, r"/reception/\d+")  # Enter with nothing ticked
    login(page, live_server.url, "resepsionis")
    page.goto(live_server.url + "/reception/")
    assert "/reception/" in page.url and page.url.rstrip("/").split("/")[-1].isdigit()
    first = page.locator("#visit-form input[name='services']").first
    assert page.evaluate("document.activeElement.name") == "services"
    screenshot(page, "reception-empty-1366")

    # Enter with nothing ticked: the 422 answer is swapped in, the message sits by the services.
    page.keyboard.press("Enter")
    page.wait_for_selector("#services-error")
    assert "Pilih minimal satu layanan." in page.inner_text("#services-error")

    first.focus()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    page.wait_for_selector(".ticket-preview .ticket-code")
    assert page.inner_text(".ticket-preview .ticket-code").strip() == "A-001"
    assert page.locator(".ticket-preview .ticket-services li").count() == 2
    assert page.locator(".ticket-preview svg.segno").count() == 1
    page.wait_for_timeout(300)
    # Focus is back on the first chip for the next citizen, the form is empty, and nothing scrolls.
    assert page.evaluate("document.activeElement.hasAttribute('autofocus')")
    assert page.locator("#visit-form input[name='services']:checked").count() == 0
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")
    assert "A-001" in page.inner_text("#today-list")
    screenshot(page, "reception-issued-1366")

    # A life-event package chip ticks its services (JavaScript); the ticket lists all of them.
    page.get_by_text("Genap 17 tahun").click()
    assert page.locator("#visit-form input[name='services']:checked").count() == 2
    page.locator("label.priority-lansia").click()
    page.get_by_role("button", name="Buat tiket").click()
    expect(page.locator(".ticket-preview .ticket-code")).to_have_text("A-002")
    assert "prioritas: lansia" in page.inner_text(".ticket-preview").lower()

    status_url = page.get_attribute("[data-status-link]", "href")
    phone = new_page(390, 844)
    phone.goto(status_url)
    assert phone.inner_text(".status-code").strip() == "A-002"
    assert "Menunggu" in phone.inner_text(".status-steps")
    assert phone.evaluate("document.documentElement.scrollWidth <= 390")
    screenshot(phone, "status-phone-390")


def test_ticket_print_page_and_unknown_status(live_server, page, new_page):
    login(page, live_server.url, "resepsionis")
    page.goto(live_server.url + "/reception/")
    page.get_by_text("Genap 17 tahun").click()
    page.get_by_role("button", name="Buat tiket").click()
    page.wait_for_selector(".ticket-preview .ticket-code")
    href = page.get_attribute("a:has-text('Buka tiket')", "href")
    page.goto(live_server.url + href + "?w=58")
    page.set_viewport_size({"width": 219, "height": 520})  # 58 mm at 96 dpi
    page.emulate_media(media="print")
    assert page.locator(".ticket-toolbar").is_hidden()
    screenshot(page, "ticket-print-58")
    phone = new_page(390, 844)
    expect_refusal(phone, 404, r"/status/tidak-ada")
    response = phone.goto(live_server.url + "/status/tidak-ada")
    assert response.status == 404
    assert "Tiket tidak ditemukan" in phone.inner_text("h1")


def test_nik_is_checked_while_typing(live_server, page):
    """The NIK field asks the server as the receptionist types; the answer shows under the field (and the
    request, made from inside the ticket form, must not trip over the form's own htmx settings)."""
    login(page, live_server.url, "resepsionis")
    page.goto(live_server.url + "/reception/")
    nik = page.get_by_label("NIK")
    nik.fill("12345")
    nik.press("Tab")  # leaving the field asks at once
    expect(page.locator("#nik-feedback .field-error")).to_contain_text("16 digit")
    nik.fill("")
    nik.press_sequentially("3216014508950001")  # typing asks after a pause
    expect(page.locator("#nik-feedback .field-error")).to_have_count(0)
    expect(page.locator("#nik-feedback .nik-ok, #nik-feedback .nik-warning").first).to_be_visible()
