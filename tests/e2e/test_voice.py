"""The voice call in Chromium: a call plays the app's clips in order, a recall is announced again, a part without a
clip falls back to speech synthesis, and an admin's recording is what the board then plays.

The board reports what it played in `window.botramVoice.announcements` (and the last one in
`#board[data-voice-played]`); the audio really runs through Chromium's Web Audio clock, so the clips are fetched,
decoded and played for their full length.
"""
from __future__ import annotations

import struct
import time

import pytest
import sqlalchemy as sa

from botram.domain.voice import announcement_keys

from .conftest import api, demo_ids, login, screenshot
from .refusals import expect_refusal

pytestmark = pytest.mark.drawing


def watch_console(page, refused: tuple[str, ...] = ()) -> list[str]:
    """Console errors and uncaught exceptions of the page.

    Chromium logs "Failed to load resource" for a page answered with an error status. That is ignored for the
    favicon (the app has none) and for the pages in `refused`, which a test submits wrong on purpose and which
    must answer 4xx with the form and its message."""
    errors: list[str] = []

    def on_console(message):
        url = message.location.get("url", "")
        expected = url.endswith("/favicon.ico") or (message.text.startswith("Failed to load resource")
                                                    and url.endswith(refused))
        if message.type == "error" and not expected:
            errors.append(f"{message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def wait_for(page, expression: str, timeout: float = 40.0):
    """Poll `expression` in the page until it is truthy (the board's CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {expression}")


def open_board_with_sound(new_page, server, event_id):
    page = new_page(1920, 1080)
    errors = watch_console(page)
    page.goto(f"{server.url}/board/{event_id}")
    page.wait_for_selector(".latest-empty")
    wait_for(page, "!!window.botramVoice")
    page.get_by_role("button", name="Aktifkan suara panggilan").click()  # the user gesture browsers require
    page.get_by_role("button", name="Suara aktif").wait_for()
    return page, errors


def test_a_call_plays_the_clips_in_order_and_a_recall_is_announced_again(live_server, new_page):
    reception = live_server.cli("create-token", "resepsionis").strip()
    officer = live_server.cli("create-token", "petugas1").strip()
    event_id, desks = demo_ids(live_server)
    desk = desks[1]
    api(live_server, "POST", f"/api/v1/events/{event_id}/visits", reception,
        {"services": [desk["services"][0]["id"]]})
    page, errors = open_board_with_sound(new_page, live_server, event_id)

    _status, called = api(live_server, "POST", f"/api/v1/desks/{desk['id']}/call-next", officer)
    expected = announcement_keys(called["visit_code"], desk["number"], desk["agency"]["code"])
    assert expected[-1] == "instansi-disdukcapil" and expected[2:6] == ["huruf-a", "angka-0", "angka-0", "angka-1"]
    wait_for(page, "window.botramVoice.announcements.length >= 1")
    first = page.evaluate("window.botramVoice.announcements[0]")
    assert first["code"] == called["visit_code"] and first["parts"] == expected
    assert page.get_attribute("#board", "data-voice-played") == " ".join(expected)

    api(live_server, "POST", f"/api/v1/steps/{called['step_id']}/recall", officer)
    wait_for(page, "window.botramVoice.announcements.length >= 2")
    second = page.evaluate("window.botramVoice.announcements[1]")
    assert second["key"] != first["key"] and second["parts"] == expected
    assert page.evaluate("window.botramVoice.played") == expected + expected
    assert page.evaluate("window.botramVoice.skipped") == []

    # A change that leaves the call on screen (a new ticket) morphs the panel again: nothing is said again.
    def moved_past(version: int) -> None:
        wait_for(page, f"+document.querySelector('.board-live').dataset.version > {version}")

    version = int(page.get_attribute(".board-live", "data-version"))
    api(live_server, "POST", f"/api/v1/events/{event_id}/visits", reception, {"services": [desk["services"][0]["id"]]})
    moved_past(version)
    assert page.evaluate("window.botramVoice.requested") == [first["key"], second["key"]]
    # Nor after a reload, with the call still on screen and another change coming in.
    page.reload()
    page.wait_for_selector(".latest-code")
    version = int(page.get_attribute(".board-live", "data-version"))
    api(live_server, "POST", f"/api/v1/events/{event_id}/visits", reception, {"services": [desk["services"][0]["id"]]})
    moved_past(version)
    assert page.evaluate("window.botramVoice.requested") == []
    assert errors == []


SPEECH_STUB = """
(() => {
  window.__spoken = [];
  const stub = {
    getVoices: () => [],
    speak: (u) => { window.__spoken.push([u.text, u.lang]); setTimeout(() => u.onend && u.onend(), 50); },
    cancel: () => {},
  };
  Object.defineProperty(window, "speechSynthesis", { value: stub, configurable: true });
})();
"""


def test_a_part_without_a_clip_is_said_by_speech_synthesis(live_server, new_page):
    """An agency whose code has no clip (here the demo's Disdukcapil under a new code) is the one part the
    board hands to the browser's speech synthesis; everything before it is still clips."""
    engine = sa.create_engine(live_server.database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE agency SET code = 'DUKCAPIL' WHERE code = 'DISDUKCAPIL'"))
    engine.dispose()
    reception = live_server.cli("create-token", "resepsionis").strip()
    officer = live_server.cli("create-token", "petugas1").strip()
    event_id, desks = demo_ids(live_server)
    desk = desks[1]
    api(live_server, "POST", f"/api/v1/events/{event_id}/visits", reception,
        {"services": [desk["services"][0]["id"]]})

    page = new_page(1920, 1080)
    page.add_init_script(SPEECH_STUB)
    errors = watch_console(page)
    page.goto(f"{live_server.url}/board/{event_id}")
    wait_for(page, "!!window.botramVoice")
    page.get_by_role("button", name="Aktifkan suara panggilan").click()
    _status, called = api(live_server, "POST", f"/api/v1/desks/{desk['id']}/call-next", officer)
    wait_for(page, "window.botramVoice.announcements.length >= 1")
    parts = page.evaluate("window.botramVoice.announcements[0].parts")
    assert parts == announcement_keys(called["visit_code"], desk["number"])[:] + ["speech:Disdukcapil"]
    assert page.evaluate("window.__spoken") == [["Disdukcapil", "id-ID"]]
    assert errors == []


def test_desks_above_twenty_are_said_in_number_words_without_a_speech_voice(live_server, new_page):
    """Issue 19 item 6: desks 21 and 37 are said "dua puluh satu" and "tiga puluh tujuh" from the app's clips
    (a tens clip, then a unit clip), on a PC with no speech voice at all: nothing is left to speech."""
    engine = sa.create_engine(live_server.database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE desk SET number = number + 20 WHERE number = 1"))
        conn.execute(sa.text("UPDATE desk SET number = 37 WHERE number = 3"))
    engine.dispose()
    reception = live_server.cli("create-token", "resepsionis").strip()
    event_id, desks = demo_ids(live_server)
    assert {21, 37} <= set(desks)

    page = new_page(1920, 1080)
    page.add_init_script(SPEECH_STUB)  # a speech engine with no voice installed
    errors = watch_console(page)
    page.goto(f"{live_server.url}/board/{event_id}")
    wait_for(page, "!!window.botramVoice")
    page.get_by_role("button", name="Aktifkan suara panggilan").click()
    expected = []
    for number, officer_name, words in ((21, "petugas1", ["loket-20", "loket-1"]),
                                        (37, "petugas3", ["loket-30", "loket-7"])):
        desk = desks[number]
        officer = live_server.cli("create-token", officer_name).strip()
        api(live_server, "POST", f"/api/v1/events/{event_id}/visits", reception,
            {"services": [desk["services"][0]["id"]]})
        _status, called = api(live_server, "POST", f"/api/v1/desks/{desk['id']}/call-next", officer)
        keys = announcement_keys(called["visit_code"], number, desk["agency"]["code"])
        assert keys[-4:-1] == ["silakan-ke-loket", *words]
        expected.append(keys)
        wait_for(page, f"window.botramVoice.announcements.length >= {len(expected)}")
    assert [a["parts"] for a in page.evaluate("window.botramVoice.announcements")] == expected
    assert page.evaluate("window.__spoken") == []
    assert page.evaluate("window.botramVoice.played") == expected[0] + expected[1]
    assert errors == []


def wav_bytes(seconds: float = 0.4, rate: int = 16000) -> bytes:
    """A short 440 Hz beep as a mono 16-bit WAV: a stand-in for an announcer's recording."""
    import math

    frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                      for i in range(int(seconds * rate)))
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(frames)) + frames


def test_an_admin_replaces_a_clip_and_the_sample_call_plays_it(live_server, page, tmp_path):
    errors = watch_console(page, refused=("/admin/voice/loket-3",))
    expect_refusal(page, 422, r"/admin/voice/loket-3")  # the upload without a file
    expect_refusal(page, 415, r"/admin/voice/loket-3")  # the file that is not a sound
    login(page, live_server.url, "admin")
    page.get_by_role("link", name="Suara").click()
    page.get_by_role("heading", name="Suara panggilan").wait_for()
    screenshot(page, "admin-voice-1366")

    page.get_by_role("link", name="Ganti: Loket 3", exact=True).click()
    page.get_by_role("button", name="Unggah rekaman").click()
    page.get_by_text("Pilih berkas rekaman suara terlebih dahulu.").wait_for()
    not_audio = tmp_path / "foto.wav"
    not_audio.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    page.get_by_label("Rekaman pengganti").set_input_files(str(not_audio))
    page.get_by_role("button", name="Unggah rekaman").click()
    page.get_by_text("Berkas ini bukan rekaman suara yang dapat diputar.").wait_for()
    screenshot(page, "admin-voice-clip-error-1366")

    recording = tmp_path / "loket-tiga.wav"
    recording.write_bytes(wav_bytes())
    page.get_by_label("Rekaman pengganti").set_input_files(str(recording))
    page.get_by_role("button", name="Unggah rekaman").click()
    page.get_by_text("Rekaman untuk “tiga” disimpan.").wait_for()
    tile = page.locator("#clip-loket-3")
    assert "Rekaman sendiri" in tile.inner_text()

    wait_for(page, "!!window.botramVoice")
    page.get_by_role("button", name="Putar contoh").click()
    wait_for(page, "window.botramVoice.announcements.length >= 1")
    parts = page.evaluate("window.botramVoice.announcements[0].parts")
    assert parts[-3:] == ["silakan-ke-loket", "loket-3", "instansi-bapenda"] and parts[0] == "chime"
    # the board plays the recording: the manifest points at it
    manifest = page.evaluate("fetch('/board/voice').then(r => r.json())")
    assert "?v=u" in manifest["clips"]["loket-3"]

    tile.get_by_role("link", name="Ganti: Loket 3", exact=True).click()
    page.get_by_role("button", name="Kembalikan suara bawaan").click()
    page.get_by_text("“tiga” kembali memakai suara bawaan.").wait_for()
    assert "Bawaan" in page.locator("#clip-loket-3").inner_text()
    assert errors == []


def test_a_board_that_may_not_play_sound_yet_asks_for_the_click_again(live_server, browser):
    """Sound was switched on yesterday (remembered), but this browser plays audio only after a click on the
    page: the call is not lost in silence behind a button that says "Suara aktif"; the button asks again, and
    after the click the recall is heard."""
    from .conftest import CHROMIUM

    strict = browser.browser_type.launch(
        executable_path=CHROMIUM, headless=True,
        args=["--no-sandbox", "--disable-gpu", "--autoplay-policy=document-user-activation-required"])
    try:
        page = strict.new_page(viewport={"width": 1920, "height": 1080}, locale="id-ID")
        errors = watch_console(page)
        reception = live_server.cli("create-token", "resepsionis").strip()
        officer = live_server.cli("create-token", "petugas3").strip()
        event_id, desks = demo_ids(live_server)
        desk = desks[3]
        api(live_server, "POST", f"/api/v1/events/{event_id}/visits", reception,
            {"services": [desk["services"][0]["id"]]})
        # Nothing may touch the page until the call was skipped: Playwright evaluates and waits for locators
        # with a user gesture, which would unlock the audio this test needs locked. So the test only listens:
        # for the board's event stream to open, then for Chromium's warning that audio may not start yet.
        page.add_init_script("localStorage.setItem('botram.board.sound', 'on')")
        with page.expect_request(lambda r: "/stream" in r.url):
            page.goto(f"{live_server.url}/board/{event_id}")
        time.sleep(1)
        with page.expect_console_message(lambda m: "AudioContext was not allowed to start" in m.text, timeout=20000):
            _status, called = api(live_server, "POST", f"/api/v1/desks/{desk['id']}/call-next", officer)
        time.sleep(1.5)  # voice.js gives the audio 300 ms to start before it gives up on this call
        assert page.evaluate("window.botramVoice.skipped") == [f"{called['step_id']}:0"]
        assert page.evaluate("window.botramVoice.played") == []
        assert page.get_attribute("#board", "data-voice-skipped") == f"{called['step_id']}:0"
        page.get_by_role("button", name="Aktifkan suara panggilan").wait_for()

        page.get_by_role("button", name="Aktifkan suara panggilan").click()
        api(live_server, "POST", f"/api/v1/steps/{called['step_id']}/recall", officer)
        wait_for(page, "window.botramVoice.announcements.length >= 1")
        assert page.evaluate("window.botramVoice.announcements[0].parts") == announcement_keys(
            called["visit_code"], desk["number"], desk["agency"]["code"])
        # Chromium warns (not errors) that the AudioContext could not start before the click: that is the point
        assert errors == []
    finally:
        strict.close()
