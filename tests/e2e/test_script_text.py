"""The sentences scripts show (toasts) reach the browser from the page in the UI language."""
import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.drawing


def test_toast_sentences_follow_the_language(live_server, page):
    base = live_server.url
    login(page, base, "admin")
    assert page.evaluate("() => window.botramText('offline')") == "Tidak dapat terhubung ke server. Periksa jaringan."
    page.get_by_role("button", name="English").click()
    page.wait_for_url(base + "/")
    assert page.evaluate("() => window.botramText('offline')") == "Cannot reach the server. Check the network."
    page.evaluate("() => window.botramToast(window.botramText('server_error'), 'error')")
    expect(page.locator("#toasts .toast")).to_have_text("Something went wrong on the server. Please try again.")
