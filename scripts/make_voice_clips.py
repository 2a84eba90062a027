#!/usr/bin/env python3
"""Generate the default voice-call clips in botram/static/audio/ with espeak-ng's Indonesian voice.

    apt-get install espeak-ng sox libsox-fmt-all      # Debian / Ubuntu
    .venv/bin/python scripts/make_voice_clips.py       # only the clips that are missing
    .venv/bin/python scripts/make_voice_clips.py --force --only loket-3 huruf-e

The list of clips (and the words each one says) is botram.domain.voice.FIXED_CLIPS plus one clip per
reference agency (botram.domain.reference.AGENCIES); the chime is synthesised with sox. Every clip is mono
16 kHz Ogg Vorbis with the silence at both ends trimmed, so the clips can be played back to back. Existing
files are kept unless --force is given: Ogg files carry a random stream serial number, so regenerating
an unchanged clip would still change its bytes in git.

An admin replaces any of these with a human recording on the admin page "Suara panggilan"; this script
only makes the defaults.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from botram.domain.reference import AGENCIES  # noqa: E402
from botram.domain.voice import AUDIO_DIR, DEFAULT_SUFFIX, FIXED_CLIPS, ClipSpec, agency_clip  # noqa: E402

ESPEAK_VOICE = "id"
ESPEAK_SPEED = 140  # words per minute; espeak's default 175 is hard to follow in a noisy hall
RATE = 16000
VORBIS_QUALITY = "0"  # about 45 kbit/s at 16 kHz mono: a clip of one word is 3-6 KB
# Trim silence at both ends (threshold 0.5 %), then leave a short natural gap after each word.
TRIM = ["silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse"]


def all_clips() -> list[ClipSpec]:
    return FIXED_CLIPS + [agency_clip(code, short_name) for code, _name, short_name, _color in AGENCIES]


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def _encode(source: Path, target: Path, *effects: str) -> None:
    _run("sox", str(source), "-r", str(RATE), "-c", "1", "-C", VORBIS_QUALITY, str(target), *effects)


def make_spoken(clip: ClipSpec, target: Path, work: Path) -> None:
    raw = work / f"{clip.key}.wav"
    _run("espeak-ng", "-v", ESPEAK_VOICE, "-s", str(ESPEAK_SPEED), "-w", str(raw), clip.espeak)
    _encode(raw, target, *TRIM, "pad", "0", "0.08", "norm", "-1")


def make_chime(target: Path, work: Path) -> None:
    """A two-note "ding-dong" (E5 then C5) with a soft octave overtone and a bell-like decay."""
    notes = []
    for i, (freq, seconds) in enumerate([(659.25, 0.55), (523.25, 0.95)]):
        note = work / f"chime-{i}.wav"
        _run("sox", "-n", "-r", str(RATE), "-c", "1", str(note),
             "synth", str(seconds), "sine", str(freq), "sine", str(freq * 2),
             "remix", "1v0.8,2v0.2", "fade", "l", "0.01", str(seconds), str(seconds - 0.02))
        notes.append(str(note))
    joined = work / "chime.wav"
    _run("sox", *notes, str(joined))
    _encode(joined, target, "pad", "0", "0.25", "norm", "-4")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="regenerate clips that already exist")
    parser.add_argument("--only", nargs="+", metavar="KEY", help="only these clip keys")
    parser.add_argument("--out", type=Path, default=AUDIO_DIR, help=f"target folder (default {AUDIO_DIR})")
    args = parser.parse_args(argv)
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} not found: apt-get install espeak-ng sox libsox-fmt-all")

    clips = all_clips()
    if args.only:
        unknown = set(args.only) - {c.key for c in clips}
        if unknown:
            parser.error(f"unknown clip keys: {', '.join(sorted(unknown))}")
        clips = [c for c in clips if c.key in args.only]
    args.out.mkdir(parents=True, exist_ok=True)
    made = 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for clip in clips:
            target = args.out / f"{clip.key}{DEFAULT_SUFFIX}"
            if target.exists() and not args.force:
                continue
            if clip.key == "chime":
                make_chime(target, work)
            else:
                make_spoken(clip, target, work)
            made += 1
            print(f"{target.name:28} {target.stat().st_size:6} bytes  {clip.words}")
    total = sum(p.stat().st_size for p in args.out.glob(f"*{DEFAULT_SUFFIX}"))
    print(f"{made} clip(s) written; {len(list(args.out.glob('*' + DEFAULT_SUFFIX)))} clips, {total // 1024} KB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
