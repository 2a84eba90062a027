"""The desk console in a real browser at 1366x768: keyboard-driven calling and finishing, the live waiting
list and console through the console's stream, the transfer dialog, and the printable guidance sheet."""
import json
import urllib.request

import sqlalchemy as sa
from playwright.sync_api import expect

from .conftest import login, open_desk, screenshot, seed_visits
from .refusals import expect_refusal


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






def answer_if_asked(page) -> None:
    """After S with nothing ticked: the console asks about the required documents; Enter records the
    step "belum lengkap". A service that requires none finishes at once."""
    asked = page.locator("#incomplete-dialog[open]")
    for _ in range(40):
        if asked.count() or page.locator(".visitor-card").count() == 0:
            break
        page.wait_for_timeout(50)
    if asked.count():
        page.keyboard.press("Enter")


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
    for box in page.locator("input[name='requirements']").all():  # every document shown: S does not ask
        box.check()
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
        answer_if_asked(page)
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


# Counts the console's event streams: the SSE extension opens them through window.EventSource.
TRACK_STREAMS = """
(() => {
  const Real = window.EventSource;
  window.__streams = [];
  function Tracked(url, options) { const source = new Real(url, options); window.__streams.push(source); return source; }
  Tracked.prototype = Real.prototype;
  Object.assign(Tracked, { CONNECTING: 0, OPEN: 1, CLOSED: 2 });
  window.EventSource = Tracked;
})();
"""
OPEN_STREAMS = "window.__streams.filter(s => s.readyState !== 2).map(s => s.url)"


def open_streams(page, count: int = 1) -> list[str]:
    """The URLs of the page's streams not closed, once there are `count` of them."""
    for _ in range(100):
        urls = page.evaluate(OPEN_STREAMS)
        if len(urls) == count:
            return urls
        page.wait_for_timeout(100)
    raise AssertionError(f"open streams: {page.evaluate(OPEN_STREAMS)}")


def test_the_waiting_list_updates_through_the_stream_and_keeps_the_rows_that_did_not_change(live_server, page):
    """No poll: the console's one stream pushes the list when reception issues a ticket, and the morph adds the
    new row while the rows and list that were there stay the same elements."""
    first = seed(live_server, [[["KTP-REKAM"], {}]])[0]
    page.add_init_script(TRACK_STREAMS)
    login(page, live_server.url, "petugas1")
    open_desk(page, live_server, 1)
    waiting = page.locator("#desk-waiting")
    expect(waiting).to_contain_text(first)
    assert "/desk/" in open_streams(page)[0]
    page.evaluate("""() => {
        document.getElementById('desk-waiting').__kept = 'list';
        document.querySelector('#desk-waiting tbody tr').__kept = 'row';
    }""")
    asked = []
    page.on("request", lambda request: asked.append((request.resource_type, request.url)))

    late = seed(live_server, [[["KTP-CETAK"], {}]])[0]
    expect(waiting).to_contain_text(late, timeout=8000)
    expect(waiting.locator(".waiting-count")).to_have_text("2")
    kept = page.evaluate("""() => [document.getElementById('desk-waiting').__kept,
        [...document.querySelectorAll('#desk-waiting tbody tr')].map(tr => [tr.querySelector('.waiting-code').textContent, tr.__kept || null])]""")
    assert kept == ["list", [[first, "row"], [late, None]]], kept
    assert asked == [], f"the list came by a request, not through the stream: {asked}"
    page.wait_for_timeout(200)
    screenshot(page, "desk-console-streamed-1366")


def test_an_action_replaces_the_console_and_its_stream_and_a_change_elsewhere_arrives_through_it(live_server, page):
    """Each console says in its stream what it shows; an action swaps in a console that opens its own stream,
    the extension closes the old one (never two at once), and a finish through the desk's call button (the
    API) replaces the live console."""
    codes = seed(live_server, [[["KTP-REKAM"], {}]])
    page.add_init_script(TRACK_STREAMS)
    login(page, live_server.url, "petugas1")
    open_desk(page, live_server, 1)
    assert "current=0" in open_streams(page)[0]
    page.keyboard.press("n")
    expect(page.locator("#visitor-code")).to_have_text(codes[0])
    step_id = page.get_attribute("#desk-console", "data-current")
    assert f"current={step_id}" in open_streams(page)[0]

    token = live_server.cli("create-token", "petugas1").strip()
    finish = urllib.request.Request(f"{live_server.url}/api/v1/steps/{step_id}/finish", method="POST",
                                    data=json.dumps({"outcome": "done"}).encode(),
                                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(finish, timeout=10) as response:
        assert response.status == 200
    expect(page.locator(".visitor-card")).to_have_count(0, timeout=10_000)
    expect(page.locator(".recent")).to_contain_text(codes[0])
    assert "current=0" in open_streams(page)[0]


def test_conflict_pause_and_transfer_dialog(live_server, page):
    expect_refusal(page, 409, r"/desk/\d+/call-next")  # N while still serving
    expect_refusal(page, 422, r"/desk/\d+/steps/\d+/transfer")  # "Alihkan" with nothing chosen
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
