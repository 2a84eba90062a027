"""The voice call's clips: the committed defaults, the route that serves them, and the admin's replacements."""
from __future__ import annotations

import io
import struct

import pytest
import sqlalchemy as sa

from botram.domain import catalog, voice
from botram.domain.reference import AGENCIES
from botram.extensions import db
from botram.models import AuditLog, VoiceClip

from .conftest import count
from .factories import make_user


def wav_bytes(seconds: float = 0.2, rate: int = 8000) -> bytes:
    """A tiny valid mono 16-bit WAV of silence, as a phone's recorder would save it."""
    frames = b"\x00\x00" * int(seconds * rate)
    header = b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(frames)) + frames


def upload(client, key: str, data: bytes, filename: str = "rekaman.wav"):
    return client.post(f"/admin/voice/{key}", data={"audio": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


@pytest.fixture
def admin(client, auth):
    make_user("admin")
    auth.login("admin")
    return client


# --- the committed default clips ----------------------------------------------------------------------------

@pytest.mark.db_independent
def test_every_fixed_clip_and_reference_agency_has_a_small_ogg_default():
    keys = [c.key for c in voice.FIXED_CLIPS] + [voice.agency_key(code) for code, *_ in AGENCIES]
    total = 0
    for key in keys:
        path = voice.default_path(key)
        assert path is not None, f"no default clip for {key}: run scripts/make_voice_clips.py"
        data = path.read_bytes()
        assert data[:4] == b"OggS" and len(data) < 20_000, key
        total += len(data)
    assert total < 1024 * 1024  # a board downloads them all when it starts
    assert set(voice.default_keys()) == set(keys), "a clip file that no key uses, or the reverse"


@pytest.mark.db_independent
def test_clip_keys_cover_letters_digits_and_desks_to_99():
    assert {f"huruf-{c}" for c in "abcdefghijklmnopqrstuvwxyz"} <= voice.FIXED_KEYS
    assert {f"angka-{d}" for d in range(10)} <= voice.FIXED_KEYS
    assert {f"loket-{n}" for n in range(1, 21)} <= voice.FIXED_KEYS and "loket-21" not in voice.FIXED_KEYS
    assert {f"loket-{n}" for n in range(30, 100, 10)} <= voice.FIXED_KEYS
    words = {c.key: c.words for c in voice.FIXED_CLIPS}
    assert (words["loket-3"], words["loket-11"], words["loket-12"], words["loket-20"], words["loket-70"]) == \
        ("tiga", "sebelas", "dua belas", "dua puluh", "tujuh puluh")
    # every desk 1-99 is said with clips only, in the words an announcer uses
    for n in range(1, 100):
        keys = voice.desk_number_keys(n)
        assert set(keys) <= voice.FIXED_KEYS, n
        assert " ".join(words[k] for k in keys) == voice.number_words(n), n
    assert voice.desk_number_keys(37) == ["loket-30", "loket-7"]
    assert voice.desk_number_keys(21) == ["loket-20", "loket-1"]
    assert voice.desk_number_keys(100) == ["loket-100"]  # no clip: left to speech
    assert words["angka-0"] == "nol" and words["huruf-q"] == "ki"


@pytest.mark.db_independent
def test_a_call_is_said_digit_by_digit():
    assert voice.announcement_keys("A-007", 3, "DISDUKCAPIL") == [
        "chime", "nomor-antrean", "huruf-a", "angka-0", "angka-0", "angka-7", "silakan-ke-loket", "loket-3",
        "instansi-disdukcapil"]
    assert voice.number_words(15) == "lima belas" and voice.number_words(47) == "empat puluh tujuh"
    assert voice.announcement_keys("B-012", 37)[-3:] == ["silakan-ke-loket", "loket-30", "loket-7"]


# --- serving ------------------------------------------------------------------------------------------------

def test_manifest_lists_every_clip_with_its_version_and_each_agency_key(client):
    response = client.get("/board/voice")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    body = response.get_json()
    assert set(body["clips"]) == set(voice.default_keys())
    assert body["clips"]["loket-3"].startswith("/board/voice/loket-3?v=d")
    assert body["agencies"]["Disdukcapil"] == "instansi-disdukcapil"
    assert body["agencies"]["Dinas Sosial"] == "instansi-dinsos"
    again = client.get("/board/voice", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_default_clip_is_served_with_an_etag_and_cached_for_good_at_its_version(client):
    url = client.get("/board/voice").get_json()["clips"]["huruf-a"]
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "audio/ogg"
    assert response.data == voice.default_path("huruf-a").read_bytes()
    assert "immutable" in response.headers["Cache-Control"]
    unversioned = client.get("/board/voice/huruf-a")
    assert unversioned.headers["Cache-Control"] == "no-cache"
    assert client.get("/board/voice/huruf-a", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("key", ["tidak-ada", "instansi-disnaker", "..%2Fapp", "LOKET-3", "loket-3.ogg"])
def test_an_unknown_clip_is_a_404(client, key):
    assert client.get(f"/board/voice/{key}").status_code == 404


# --- the admin's recordings ---------------------------------------------------------------------------------

def test_a_recording_replaces_the_default_everywhere_and_revert_brings_it_back(admin):
    recording = wav_bytes()
    response = upload(admin, "nomor-antrean", recording)
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/voice#clip-nomor-antrean")

    clip = db.session.get(VoiceClip, "nomor-antrean")
    assert clip.content_type == "audio/wav" and clip.size == len(recording) and clip.original_filename == "rekaman.wav"
    url = admin.get("/board/voice").get_json()["clips"]["nomor-antrean"]
    assert "?v=u" in url
    served = admin.get(url)
    assert served.data == recording and served.mimetype == "audio/wav"
    assert count(AuditLog, AuditLog.action == "voice.replace") == 1
    page = admin.get("/admin/voice").get_data(as_text=True)
    assert "Rekaman sendiri" in page

    response = admin.post("/admin/voice/nomor-antrean/revert")
    assert response.status_code == 303
    assert db.session.get(VoiceClip, "nomor-antrean") is None
    assert admin.get("/board/voice/nomor-antrean").data == voice.default_path("nomor-antrean").read_bytes()
    assert admin.get("/board/voice").get_json()["clips"]["nomor-antrean"] != url
    assert count(AuditLog, AuditLog.action == "voice.revert") == 1


def test_a_new_agency_has_no_clip_until_an_admin_uploads_one(admin):
    catalog.create_agency(code="DISNAKER", name="Dinas Tenaga Kerja", short_name="Disnaker")
    db.session.commit()
    manifest = admin.get("/board/voice").get_json()
    assert manifest["agencies"]["Disnaker"] == "instansi-disnaker"
    assert "instansi-disnaker" not in manifest["clips"]  # the board falls back to speech for the name
    page = admin.get("/admin/voice").get_data(as_text=True)
    assert 'id="clip-instansi-disnaker"' in page and "Belum ada rekaman" in page

    mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 64
    assert upload(admin, "instansi-disnaker", mp3, "disnaker.mp3").status_code == 303
    manifest = admin.get("/board/voice").get_json()
    assert admin.get(manifest["clips"]["instansi-disnaker"]).mimetype == "audio/mpeg"
    admin.post("/admin/voice/instansi-disnaker/revert")
    assert "instansi-disnaker" not in admin.get("/board/voice").get_json()["clips"]


@pytest.mark.parametrize("data, status, message", [
    (b"", 422, "Pilih berkas rekaman suara terlebih dahulu."),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, 415, "Unggah berkas MP3, OGG, atau WAV."),
    (b"RIFF" + b"\x00" * (voice.MAX_UPLOAD_BYTES + 10), 413, "Berkas terlalu besar."),
])
def test_a_bad_upload_is_refused_with_a_message_next_to_the_field(admin, data, status, message):
    response = upload(admin, "loket-3", data, "suara.wav")
    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert message in page and 'class="field-error"' in page
    assert count(VoiceClip) == 0 and count(AuditLog, AuditLog.action == "voice.replace") == 0


def test_a_post_without_a_file_field_is_refused_not_a_500(admin):
    response = admin.post("/admin/voice/loket-3", data={})
    assert response.status_code == 422 and "Pilih berkas rekaman" in response.get_data(as_text=True)


def test_unknown_clip_keys_cannot_be_uploaded_or_reverted(admin):
    assert upload(admin, "instansi-tidak-ada", wav_bytes()).status_code == 404
    assert admin.post("/admin/voice/instansi-tidak-ada/revert").status_code == 404
    assert admin.get("/admin/voice/huruf-aa").status_code == 404
    with pytest.raises(voice.NotFound):
        voice.replace_clip("loket-99", wav_bytes())


@pytest.mark.parametrize("role", ["koordinator", "resepsionis", "petugas", "keuangan"])
def test_only_an_admin_replaces_clips(client, auth, role):
    make_user(role)
    auth.login(role)
    assert client.get("/admin/voice").status_code == 403
    assert upload(client, "chime", wav_bytes()).status_code == 403
    assert count(VoiceClip) == 0


def test_the_manifest_reads_no_audio_bytes(admin, app):
    """Fifty boards load the manifest: it must not pull every recording out of the database."""
    upload(admin, "chime", wav_bytes(2.0))
    db.session.expunge_all()
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert admin.get("/board/voice").status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert any("voice_clip" in s for s in statements)
    assert not any("voice_clip.data" in s for s in statements)
