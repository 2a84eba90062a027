"""Nothing a desk does is final by accident (issue 19, items 1, 2, 4 and 7), in a real Chromium: a late U
reopens a finished step and the citizen's phone follows; no-show waits for the recalls or the minimum time;
the phone shows an incomplete step in its own colour with what is missing; S with required documents
unticked asks once in a dialog the keyboard answers."""
import re

import pytest
from playwright.sync_api import expect

from .axe import describe, violations
from .conftest import login, open_desk, screenshot, seed_visits
from .refusals import expect_refusal
from .test_desk_console import step_state


def test_a_late_u_reopens_a_finished_step_and_the_phone_follows(live_server, page, new_page):
    (code, token), (later, _) = seed_visits(live_server, [[["KK"], {}], [["KK"], {}]])
    phone = new_page(390, 844)
    login(page, live_server.url, "petugas1")
    open_desk(page, live_server, 1)
    page.keyboard.press("n")
    expect(page.locator("#visitor-code")).to_have_text(code)
    page.keyboard.press("s")
    expect(page.locator("#incomplete-dialog")).to_be_visible()
    page.keyboard.press("Enter")  # recorded "belum lengkap"
    expect(page.locator(".visitor-card")).to_have_count(0)

    # Item 4: the phone says the step is not done, in its own colour, with what is missing.
    phone.goto(f"{live_server.url}/status/{token}")
    step = phone.locator(".status-step").first
    expect(step).to_have_class(re.compile(r"\bstate-incomplete\b"))
    expect(step.locator(".step-state")).to_have_text("Belum selesai — berkas belum lengkap")
    expect(step.locator(".step-missing li").first).to_be_visible()
    expect(phone.locator(".status-updated")).not_to_contain_text("Semua layanan")
    colour = step.locator(".step-state").evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour != "rgb(224, 245, 236)", colour  # not the green of a done step
    assert not violations(phone), describe(violations(phone))
    screenshot(phone, "status-incomplete-390")

    # The undo bar goes after 8 s; U still finds the way back: today's closed steps of this desk.
    expect(page.locator(".undo-bar")).to_have_count(0, timeout=12_000)
    page.keyboard.press("u")
    dialog = page.locator("#reopen-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("input[name=step]:checked")).to_have_count(1)
    expect(dialog.locator(".reopen-item").first).to_contain_text(code)
    assert not violations(page), describe(violations(page))
    page.keyboard.press("Tab")
    expect(page.locator("#reopen-reason")).to_be_focused()
    page.keyboard.type("salah tekan S, KK lama ternyata dibawa")
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Buka kembali")).to_be_focused()
    screenshot(page, "desk-reopen-dialog-1366")
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text(f"{code} dibuka kembali")
    assert step_state(live_server, code)[0] == "waiting"

    # The phone follows by itself (a closed ticket keeps listening while the event is open).
    expect(step.locator(".step-state")).to_contain_text("Menunggu", timeout=30_000)
    # And the reopened step is first in line again, ahead of the later visitor.
    page.keyboard.press("n")
    expect(page.locator("#visitor-code")).to_have_text(code)
    assert later


@pytest.mark.serve(BOTRAM_NO_SHOW_MIN_SECONDS=6)
def test_no_show_waits_for_the_recalls_or_the_minimum_time(live_server, page):
    (code, _), = seed_visits(live_server, [[["KK"], {}]])
    login(page, live_server.url, "petugas1")
    open_desk(page, live_server, 1)
    page.keyboard.press("n")
    expect(page.locator("#visitor-code")).to_have_text(code)
    # M counts down to the moment it will be accepted, and its count moves without a reload.
    count = page.locator("[data-shortcut='m'] [data-count]")
    first = int(count.inner_text())
    assert 1 <= first <= 6
    expect(count).not_to_have_text(str(first), timeout=2_500)
    expect_refusal(page, 409, r"/desk/\d+/steps/\d+/no-show")  # too soon: refused, saying what remains
    page.keyboard.press("m")
    alert = page.locator(".desk-alert")
    expect(alert).to_contain_text("Belum dapat ditandai tidak hadir: panggil ulang 3 kali lagi, atau tunggu")
    expect(alert).to_contain_text("detik lagi")
    assert step_state(live_server, code) == ["called", 0]
    screenshot(page, "desk-no-show-too-soon-1366")
    # The count runs out: the button says nothing more and M is accepted.
    expect(page.locator("[data-shortcut='m'] .ready-in")).to_have_count(0, timeout=8_000)
    page.keyboard.press("m")
    expect(page.locator(".undo-bar")).to_contain_text(f"{code} ditandai tidak hadir")
    assert step_state(live_server, code)[0] == "no_show"


def test_s_with_required_documents_unticked_asks_once_in_a_keyboard_dialog(live_server, page):
    (code, _), = seed_visits(live_server, [[["KK"], {}]])
    login(page, live_server.url, "petugas1")
    open_desk(page, live_server, 1)
    page.keyboard.press("n")
    expect(page.locator("#visitor-code")).to_have_text(code)
    page.locator("#note").fill("KK lama belum dibawa")
    page.locator("#note").blur()
    page.keyboard.press("s")
    dialog = page.locator("#incomplete-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-labelledby", "incomplete-title")
    confirm = dialog.get_by_role("button", name=re.compile("Catat belum lengkap"))
    expect(confirm).to_be_focused()
    for _ in range(3):  # modal: Tab stays inside the dialog
        page.keyboard.press("Tab")
        assert dialog.locator(":focus").count() == 1
    assert not violations(page), describe(violations(page))
    screenshot(page, "desk-incomplete-ask-1366")
    page.keyboard.press("Escape")  # back: nothing recorded, the note kept
    expect(dialog).to_be_hidden()
    assert step_state(live_server, code)[0] == "called"
    expect(page.locator("#note")).to_have_value("KK lama belum dibawa")
    page.keyboard.press("s")
    expect(page.locator("#incomplete-dialog")).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator(".last-banner")).to_contain_text(f"{code} belum lengkap persyaratannya")
    assert step_state(live_server, code)[0] == "done"
