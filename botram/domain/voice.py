"""The voice call: the clips an announcement is made of, where each one comes from, and replacing them.

An announcement is a chime, then "nomor antrean", the ticket letter, the digits one by one, "silakan ke
loket", the desk number in words (21-99 composed of a tens clip and a unit clip) and the agency's name:
"nomor antrean A nol nol tujuh, silakan ke loket tiga puluh tujuh, Disdukcapil". Each piece is a short audio clip the app serves itself, so the call sounds the same on
an offline projector PC that has no Indonesian speech voice.

Where a clip comes from:
- by default a file in botram/static/audio/<key>.ogg, generated with espeak-ng's Indonesian voice by
  scripts/make_voice_clips.py from the list below (and committed);
- if an admin uploaded a recording for that key (a regency's own announcer), the recording.

Agencies are data: each agency has a key `instansi-<code>`. The reference agencies have default clips; an
agency added later has none until an admin uploads one, and the board says its name with the browser's
speech synthesis meanwhile (the only part that is not a clip).
"""
from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Agency, VoiceClip
from . import NotFound, audit, uploads
from .uow import unit_of_work

AUDIO_DIR = Path(__file__).resolve().parents[1] / "static" / "audio"
DEFAULT_SUFFIX = ".ogg"
DEFAULT_CONTENT_TYPE = "audio/ogg"
# A clip is a word or two. 1 MB holds about 10 s of uncompressed mono WAV at 48 kHz, and a board
# downloads every clip when it starts: a larger file is a mistake (a whole programme, a video).
MAX_UPLOAD_BYTES = 1024 * 1024
# Desks 1-99 are said as the announcer says them, from number-word clips: 1-20 and the tens 30-90 each have
# a clip ("tiga puluh"), and 21-99 are a tens clip then a unit clip ("tiga puluh" + "tujuh"). Eight clips
# more than twenty cover every desk a hall can hold, and a regency's own recording of "tujuh" is heard in
# "loket tujuh" and "loket tiga puluh tujuh" alike.
MAX_DESK_NUMBER = 99
DESK_CLIP_NUMBERS = [*range(1, 21), *range(30, 100, 10)]

KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")

# Indonesian letter names, as an announcer says them when spelling.
LETTER_NAMES = {
    "A": "a", "B": "be", "C": "ce", "D": "de", "E": "e", "F": "ef", "G": "ge", "H": "ha", "I": "i",
    "J": "je", "K": "ka", "L": "el", "M": "em", "N": "en", "O": "o", "P": "pe", "Q": "ki", "R": "er",
    "S": "es", "T": "te", "U": "u", "V": "ve", "W": "we", "X": "eks", "Y": "ye", "Z": "zet",
}
DIGIT_WORDS = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]
_UNITS = ["", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh",
          "sebelas"]


def number_words(n: int) -> str:
    """1..99 in Indonesian words: 3 → "tiga", 12 → "dua belas", 20 → "dua puluh"."""
    if not 1 <= n <= 99:
        raise ValueError(n)
    if n < 12:
        return _UNITS[n]
    if n < 20:
        return f"{_UNITS[n - 10]} belas"
    tens, unit = divmod(n, 10)
    return f"{'se' if tens == 1 else _UNITS[tens] + ' '}puluh" + (f" {_UNITS[unit]}" if unit else "")


@dataclass(frozen=True)
class ClipSpec:
    """One clip: its key, its group on the admin page, the words it says, and what espeak-ng is given
    (the same words, or espeak phonemes in [[...]] where its Indonesian rules mispronounce a word)."""

    key: str
    group: str  # "kalimat", "huruf", "angka", "loket", "instansi"
    words: str
    espeak: str = ""


def _fixed_clips() -> list[ClipSpec]:
    clips = [
        ClipSpec("chime", "kalimat", "", ""),  # synthesised with sox, not spoken
        ClipSpec("nomor-antrean", "kalimat", "nomor antrean", "nomor antrean"),
        # espeak says "lok@t"; Indonesians say "lokét"
        ClipSpec("silakan-ke-loket", "kalimat", "silakan ke loket", "silakan ke [[l'okEt]]"),
    ]
    clips += [ClipSpec(f"huruf-{letter.lower()}", "huruf", name, name) for letter, name in LETTER_NAMES.items()]
    clips += [ClipSpec(f"angka-{d}", "angka", word, word) for d, word in enumerate(DIGIT_WORDS)]
    clips += [ClipSpec(f"loket-{n}", "loket", number_words(n), number_words(n)) for n in DESK_CLIP_NUMBERS]
    return clips


FIXED_CLIPS: list[ClipSpec] = _fixed_clips()
FIXED_KEYS = {c.key for c in FIXED_CLIPS}


def agency_key(code: str) -> str:
    """The clip key of an agency's name: `instansi-` and its code in lower case ("DINSOS" → "instansi-dinsos")."""
    slug = re.sub(r"[^a-z0-9]+", "-", code.lower()).strip("-")
    return f"instansi-{slug}"[:60]


def agency_clip(code: str, short_name: str) -> ClipSpec:
    return ClipSpec(agency_key(code), "instansi", short_name, short_name)


def desk_number_keys(n: int) -> list[str]:
    """The clips that say desk `n`: 7 → ["loket-7"], 30 → ["loket-30"], 37 → ["loket-30", "loket-7"]
    (board.js composes the same). A number without clips (0, above 99) gives a key no clip has: the board
    says it with speech synthesis, if the PC has an Indonesian voice."""
    if n in DESK_CLIP_NUMBERS or not 1 <= n <= MAX_DESK_NUMBER:
        return [f"loket-{n}"]
    tens, unit = divmod(n, 10)
    return [f"loket-{tens * 10}", f"loket-{unit}"]


def announcement_keys(code: str, desk_number: int, agency_code: str | None = None) -> list[str]:
    """The clip keys of one call, in the order they are played (board.js builds the same list in JS)."""
    keys = ["chime", "nomor-antrean"]
    for ch in code.upper():
        if ch in LETTER_NAMES:
            keys.append(f"huruf-{ch.lower()}")
        elif ch.isdigit():
            keys.append(f"angka-{ch}")
    keys += ["silakan-ke-loket", *desk_number_keys(desk_number)]
    if agency_code:
        keys.append(agency_key(agency_code))
    return keys


# --- where a clip comes from --------------------------------------------------------------------------------

_digests: dict[Path, tuple[int, int, str]] = {}
_digest_lock = threading.Lock()


def default_path(key: str) -> Path | None:
    """The committed default file of `key`, if there is one."""
    if not KEY.match(key):
        return None
    path = AUDIO_DIR / f"{key}{DEFAULT_SUFFIX}"
    return path if path.is_file() else None


def _default_digest(path: Path) -> str:
    """A short content hash of a default file, recomputed only when the file changes."""
    stat = path.stat()
    with _digest_lock:
        cached = _digests.get(path)
        if cached and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2]
    digest = "d" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    with _digest_lock:
        _digests[path] = (stat.st_mtime_ns, stat.st_size, digest)
    return digest


def default_keys() -> list[str]:
    return sorted(p.stem for p in AUDIO_DIR.glob(f"*{DEFAULT_SUFFIX}") if KEY.match(p.stem))


def _override_digest(sha256: str) -> str:
    return "u" + sha256[:16]


def clip_versions() -> dict[str, str]:
    """Every clip the board can play now → a version string that changes when the clip changes
    (the board puts it in the clip's URL, so a replaced clip is fetched again and an unchanged one never)."""
    versions = {key: _default_digest(AUDIO_DIR / f"{key}{DEFAULT_SUFFIX}") for key in default_keys()}
    for key, sha in db.session.execute(sa.select(VoiceClip.key, VoiceClip.sha256)):
        versions[key] = _override_digest(sha)
    return versions


def agency_keys() -> dict[str, str]:
    """Each agency's name as the board shows it → its clip key (an agency is data; so is its clip)."""
    rows = db.session.execute(sa.select(Agency.short_name, Agency.code).order_by(Agency.active, Agency.id))
    # Active agencies last, so they win if an inactive one shares a short name.
    return {short_name: agency_key(code) for short_name, code in rows}


@dataclass(frozen=True)
class ClipContent:
    """What the clip route sends: the recording's bytes or the default file's path."""

    content_type: str
    etag: str
    data: bytes | None = None
    path: Path | None = None


def clip_content(key: str) -> ClipContent | None:
    """The admin's recording of `key` if there is one, else the default file, else None."""
    if not KEY.match(key):
        return None
    override = db.session.get(VoiceClip, key)
    if override is not None:
        return ClipContent(override.content_type, _override_digest(override.sha256), data=override.data)
    path = default_path(key)
    if path is None:
        return None
    return ClipContent(DEFAULT_CONTENT_TYPE, _default_digest(path), path=path)


# --- the admin's list ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClipRow:
    spec: ClipSpec
    has_default: bool
    override: VoiceClip | None
    version: str | None  # None: no clip at all, the board falls back to speech synthesis

    @property
    def key(self) -> str:
        return self.spec.key


def clip_rows() -> list[ClipRow]:
    """Every clip key (the fixed ones, then one per agency) with its default and replacement, if any."""
    overrides = {c.key: c for c in db.session.scalars(sa.select(VoiceClip))}
    agencies = db.session.scalars(sa.select(Agency).order_by(Agency.active.desc(), Agency.short_name)).all()
    specs = FIXED_CLIPS + [agency_clip(a.code, a.short_name) for a in agencies]
    rows = []
    for spec in specs:
        path = default_path(spec.key)
        override = overrides.get(spec.key)
        version = (_override_digest(override.sha256) if override else _default_digest(path) if path else None)
        rows.append(ClipRow(spec, path is not None, override, version))
    return rows


def known_key(key: str) -> bool:
    """A key an admin may upload a recording for: a fixed clip or an existing agency's name."""
    if key in FIXED_KEYS:
        return True
    if not key.startswith("instansi-"):
        return False
    codes = db.session.scalars(sa.select(Agency.code))
    return any(agency_key(code) == key for code in codes)


# --- replacing and reverting --------------------------------------------------------------------------------

def sniff_audio(data: bytes) -> str | None:
    """The audio type of an upload from its first bytes (what the browser claims is not trusted):
    MP3, OGG (Vorbis or Opus) or WAV, which every browser a projector PC runs can decode."""
    if data[:4] == b"OggS":
        return "audio/ogg"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    return None


def _validated(data: bytes) -> str:
    return uploads.checked(
        data, field="audio", max_bytes=MAX_UPLOAD_BYTES, sniff=sniff_audio,
        empty=_l("Pilih berkas rekaman suara terlebih dahulu."),
        too_large=_l("Berkas terlalu besar. Rekaman satu potongan suara paling besar %(kb)d KB; potong jeda "
                     "di awal dan akhir, atau simpan sebagai MP3.", kb=MAX_UPLOAD_BYTES // 1024),
        wrong_type=_l("Berkas ini bukan rekaman suara yang dapat diputar. Unggah berkas MP3, OGG, atau WAV."))


def replace_clip(key: str, data: bytes, *, filename: str = "", by_user_id: int | None = None) -> VoiceClip:
    """Store an admin's recording for `key`; every board plays it from its next call on."""
    if not known_key(key):
        raise NotFound(_l("Potongan suara ini tidak dikenal."))
    content_type = _validated(data)

    @unit_of_work
    def write() -> VoiceClip:
        clip = db.session.get(VoiceClip, key)
        if clip is None:
            clip = VoiceClip(key=key)
            db.session.add(clip)
        sha = uploads.store(clip, data, content_type, filename=filename, by_user_id=by_user_id)
        audit.record("voice.replace", "voice_clip", None, user_id=by_user_id, key=key, size=len(data),
                     content_type=content_type, sha256=sha[:16])
        return clip

    return write()


def revert_clip(key: str, *, by_user_id: int | None = None) -> bool:
    """Drop the recording of `key`: the default clip (or, for an agency without one, speech) is used again.
    Returns False when there was nothing to revert."""
    if not KEY.match(key):
        raise NotFound(_l("Potongan suara ini tidak dikenal."))

    @unit_of_work
    def write() -> bool:
        clip = db.session.get(VoiceClip, key)
        if clip is None:
            return False
        db.session.delete(clip)
        audit.record("voice.revert", "voice_clip", None, user_id=by_user_id, key=key)
        return True

    return write()
