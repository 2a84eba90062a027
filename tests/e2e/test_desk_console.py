"""The desk console in a real browser at 1366x768: keyboard-driven calling and finishing, the live waiting
list, the transfer dialog, and the printable guidance sheet."""
import json
import urllib.request

import sqlalchemy as sa
from playwright.sync_api import expect

from .conftest import login, open_desk, screenshot, seed_visits


def step_state(live_server, code: str) -> list:
    """The first step of today's visit with this code as the server's database holds it: [status, recall count].
    Codes repeat across events (the demo's past events have an A-001 too): the open event's is meant."""
    engine = sa.create_engine(live_server.database_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text(
                "SELECT step.status, step.recall_count FROM step JOIN visit ON visit.id = step.visit_id "
                "JOIN event ON event.id = visit.event_id "
                "WHERE visit.code = :code AND event.status = 'open' ORDER BY step.position LIMIT 1"),
                {"code": code}).one()
    finally:
        engine.dispose()
    return list(row)






def seed(live_server, visitors) -> list[str]:
    return [code for code, _token in seed_visits(live_server, visitors)]


def test_petugas_calls_with_n_and_finishes_with_s(live_server, page):
    codes = seed(live_server, [
        [["KTP-REKAM", "KK"], {"priority": "lansia", "name": "Sutarni", "nik": "3216014501500001"}],
        [["KTP-CETAK"], {}],
        [["KIA", "KK"], {"priority": "hamil"}],
        [["KTP-REKAM"], {}],
    ])
    login(page, live_server.url, "petugas1")
    open_desk(page, live_server, 1, shot="desk-picker-1366")
    waiting = page.locator("#desk-waiting")
    for code in codes:
        expect(waiting).to_contain_text(code)

    page.keyboard.press("n")
    card = page.locator(".visitor-card")
    expect(card.locator("#visitor-code")).to_have_text(codes[0])  # lansia first
    expect(page.locator("#toasts")).to_contain_text(f"{codes[0]} dipanggil")
    expect(card).to_contain_text("Sutarni")
    expect(card).to_contain_text("3216********0001")
    expect(card).not_to_contain_text("3216014501500001")
    # The main actions fit the laptop screen without scrolling.
    for name in ("Selesai", "Belum lengkap", "Dirujuk"):
        box = page.get_by_role("button", name=name, exact=False).first.bounding_box()
        assert box and box["y"] + box["height"] <= 768, f"{name} is below the fold: {box}"
    page.wait_for_timeout(300)
    screenshot(page, "desk-console-called-1366")

    # A citizen registers at reception meanwhile: the waiting list updates by itself.
    late = seed(live_server, [[["KTP-CETAK"], {}]])[0]
    expect(waiting).to_contain_text(late, timeout=8000)

    # The shortcut is ignored while typing a note.
    page.locator("#note").fill("dokumen lengkap")
    page.keyboard.press("n")
    expect(page.locator("#note")).to_have_value("dokumen lengkapn")
    page.locator("#note").fill("dokumen lengkap")
    page.locator("input[name='requirements']").first.check()
    page.locator("input[name='requirements']").first.focus()  # on a checkbox shortcuts still work
    page.keyboard.press("s")
    expect(page.locator("#toasts")).to_contain_text(f"{codes[0]} selesai dilayani")
    expect(page.locator(".recent")).to_contain_text(codes[0])
    expect(page.locator(".visitor-card")).to_have_count(0)

    # Serve the rest with the keyboard until the queue is empty: six steps (A-001 and A-003 asked for two
    # services at this desk, and the late visitor), lansia and hamil first up to the fairness cap.
    for _ in range(6):
        page.keyboard.press("n")
        expect(page.locator(".visitor-card")).to_be_visible()
        page.keyboard.press("s")
        expect(page.locator(".visitor-card")).to_have_count(0)
    page.keyboard.press("n")
    expect(page.locator("#toasts")).to_contain_text("Tidak ada yang menunggu")
    expect(page.locator(".visitor-empty")).to_be_visible()
    for _ in range(80):  # let earlier toasts fade (CSP forbids wait_for_function's eval)
        if page.locator(".toast").count() <= 1:
            break
        page.wait_for_timeout(100)
    screenshot(page, "desk-console-empty-1366")


def test_petugas_recalls_with_r_and_marks_a_no_show_with_m(live_server, page):
    codes = seed(live_server, [[["KTP-REKAM"], {}], [["KTP-CETAK"], {}]])
    login(page, live_server.url, "petugas1")
    open_desk(page, live_server, 1)
    page.keyboard.press("n")
    expect(page.locator("#visitor-code")).to_have_text(codes[0])
    assert step_state(live_server, codes[0]) == ["called", 0]

    page.keyboard.press("r")
    expect(page.locator("#toasts")).to_contain_text(f"{codes[0]} dipanggil ulang (1×)")
    assert step_state(live_server, codes[0]) == ["called", 1]
    page.keyboard.press("r")
    expect(page.locator("#toasts")).to_contain_text(f"{codes[0]} dipanggil ulang (2×)")
    assert step_state(live_server, codes[0]) == ["called", 2]

    page.keyboard.press("m")
    # The step ends as a no-show (after any undo window the console offers), and the desk is free again.
    expect(page.locator(".visitor-card")).to_have_count(0, timeout=20_000)
    for _ in range(80):
        if step_state(live_server, codes[0])[0] == "no_show":
            break
        page.wait_for_timeout(250)
    assert step_state(live_server, codes[0]) == ["no_show", 2]
    page.keyboard.press("n")
    expect(page.locator("#visitor-code")).to_have_text(codes[1])


def test_a_waiting_list_poll_answered_after_an_action_is_dropped_quietly(live_server, page):
    """The waiting list polls every 3 s; when the console changed, the answer replaces the whole console
    (HX-Retarget). A poll still on its way when an action swapped the console belongs to a console that is
    gone: its answer must be dropped, not raise "Invalid re-target" in the browser."""
    codes = seed(live_server, [[["KTP-REKAM"], {}]])
    login(page, live_server.url, "petugas1")
    open_desk(page, live_server, 1)
    held = []
    page.route("**/desk/*/waiting?*", lambda route: held.append(route))
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the waiting list did not poll"
    page.keyboard.press("n")  # swaps the console while the poll is held
    expect(page.locator("#visitor-code")).to_have_text(codes[0])
    poll = held.pop(0)
    answer = poll.fetch()  # asked now, it says the console changed
    assert answer.headers.get("hx-retarget"), answer.headers
    poll.fulfill(response=answer)
    page.wait_for_timeout(500)
    expect(page.locator("#visitor-code")).to_have_text(codes[0])

    # Polls that find the console changed elsewhere still replace the live console: finish through the API.
    page.unroute("**/desk/*/waiting?*")
    for late in held:
        late.continue_()
    token = live_server.cli("create-token", "petugas1").strip()
    engine = sa.create_engine(live_server.database_url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        step_id = conn.execute(sa.text("SELECT step.id FROM step JOIN visit ON visit.id = step.visit_id "
                                       "WHERE visit.code = :code AND step.status = 'called'"), {"code": codes[0]}).scalar_one()
    engine.dispose()
    finish = urllib.request.Request(f"{live_server.url}/api/v1/steps/{step_id}/finish", method="POST",
                                    data=json.dumps({"outcome": "done"}).encode(),
                                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(finish, timeout=10) as response:
        assert response.status == 200
    expect(page.locator(".visitor-card")).to_have_count(0, timeout=10_000)
    expect(page.locator(".recent")).to_contain_text(codes[0])


def test_conflict_pause_and_transfer_dialog(live_server, page):
    codes = seed(live_server, [[["KTP-REKAM"], {}], [["KK"], {}]])
    login(page, live_server.url, "petugas1")
    open_desk(page, live_server, 1)
    page.keyboard.press("n")
    expect(page.locator("#visitor-code")).to_have_text(codes[0])
    page.keyboard.press("n")  # still serving: refused with a message, not a crash
    expect(page.locator(".desk-alert")).to_contain_text("selesaikan dulu")

    page.keyboard.press("t")
    dialog = page.locator("#transfer-dialog")
    expect(dialog).to_be_visible()
    page.wait_for_timeout(200)
    screenshot(page, "desk-console-transfer-1366")
    dialog.get_by_role("button", name="Alihkan").click()  # nothing chosen
    expect(page.locator("#transfer-dialog")).to_be_visible()
    expect(page.locator("#transfer-dialog")).to_contain_text("Pilih layanan tujuan.")
    page.locator("#transfer-service").select_option(label="Pemutakhiran data DTKS")
    page.locator("#transfer-dialog").get_by_role("button", name="Alihkan").click()
    expect(page.locator("#toasts")).to_contain_text("dialihkan ke Pemutakhiran data DTKS")
    expect(page.locator(".visitor-card")).to_have_count(0)

    page.keyboard.press("p")
    expect(page.locator(".desk-bar")).to_contain_text("Jeda")
    expect(page.locator("button.call-next")).to_be_disabled()
    page.keyboard.press("p")
    expect(page.locator("button.call-next")).to_be_enabled()


def test_guidance_sheet_for_a_death_in_the_family(live_server, page):
    seed(live_server, [[["AKTA-MATI", "KK", "DTKS"], {"name": "Rohmah", "nik": "3216015203700002"}]])
    login(page, live_server.url, "petugas1")
    open_desk(page, live_server, 2)
    page.keyboard.press("n")
    expect(page.locator(".visitor-card")).to_contain_text("Akta kematian")
    for _ in range(50):  # the layout settles once the web font has loaded (later on a busy machine)
        box = page.get_by_role("button", name="Belum lengkap").bounding_box()
        if box and box["y"] + box["height"] <= 768:
            break
        page.wait_for_timeout(100)
    assert box and box["y"] + box["height"] <= 768, f"outcome buttons below the fold: {box}"
    boxes = page.locator("input[name='requirements']")
    expect(boxes).to_have_count(5)
    expect(page.locator(".toast")).to_have_count(0, timeout=8000)
    screenshot(page, "desk-console-death-1366")
    boxes.nth(1).check()
    boxes.nth(3).check()
    page.get_by_role("button", name="Belum lengkap").click()
    expect(page.locator("#toasts")).to_contain_text("belum lengkap")
    with page.expect_popup() as popup:
        page.locator(".last-banner").get_by_role("link", name="Cetak surat panduan").click()
    sheet = popup.value
    sheet.set_viewport_size({"width": 1366, "height": 768})
    expect(sheet.locator(".a4-sheet")).to_contain_text("Surat Panduan Layanan")
    expect(sheet.locator(".a4-sheet")).to_contain_text("Surat keterangan kematian")
    expect(sheet.locator(".a4-sheet")).to_contain_text("30 hari")
    expect(sheet.locator(".a4-sheet")).to_contain_text("BPJS Ketenagakerjaan")
    expect(sheet.locator(".a4-sheet")).to_contain_text("3216********0002")
    expect(sheet.locator(".a4-sheet")).not_to_contain_text("3216015203700002")
    sheet.wait_for_timeout(300)
    screenshot(sheet, "desk-guidance-sheet")
    sheet.emulate_media(media="print")
    screenshot(sheet, "desk-guidance-sheet-print")
