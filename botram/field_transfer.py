"""The network transport of field sync (docs/field-sync.md): bundles kept for download and resumable uploads.

Files only, no database rows: a checkout bundle is written once under `<instance>/field/bundles/` and served
with HTTP Range so a laptop on a weak connection resumes a cut download; a check-in arrives in chunks under
`<instance>/field/uploads/` and is handed to `botram.domain.field.import_bundle` once complete. What a bundle
means (encryption, format, import rules) is the domain's business; this module only moves bytes.

Every process of a server shares the instance folder, so a chunk may arrive at one worker and the next at
another: the state of an upload is its files, and a per-upload lock file serialises writers.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from flask_babel import lazy_gettext as _l

from .domain import DomainError

try:  # POSIX: a lock that holds across the server's worker processes
    import fcntl
except ImportError:  # pragma: no cover - Windows laptops never receive uploads
    fcntl = None  # type: ignore[assignment]

MAX_BUNDLE_BYTES = 512 * 1024 * 1024
"""The largest bundle accepted or served (a day of one event is a few megabytes; this bounds the disk)."""
CHUNK_BYTES = 1024 * 1024
"""What the laptop sends per request: well below MAX_CONTENT_LENGTH (4 MB), small enough to resend cheaply."""
UPLOAD_TTL_SECONDS = 3 * 24 * 3600
"""An upload neither finished nor imported is removed after three days (a laptop back from a long trip)."""
BUNDLE_TTL_SECONDS = 30 * 24 * 3600
"""A checkout bundle nobody asked for again is removed after a month (the event is long checked in)."""

_ID = re.compile(r"^[0-9a-f]{32}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class TransferError(DomainError):
    """A refused transfer: its status for the API, an Indonesian message, the field at fault if any."""

    def __init__(self, status: int, message, *, field: str | None = None):
        super().__init__(message, field=field, status=status)


def _root(instance_path: str | os.PathLike, kind: str) -> Path:
    path = Path(instance_path) / "field" / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def valid_id(raw: str) -> bool:
    return bool(_ID.match(raw or ""))


def valid_sha256(raw: object) -> bool:
    return isinstance(raw, str) and bool(_SHA256.match(raw))


def _write_json(path: Path, data: dict) -> None:
    """Atomically: a reader in another process never sees half a file."""
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(data, sort_keys=True))
    os.replace(tmp, path)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a+b") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def _expire(folder: Path, ttl: int) -> None:
    """Remove what is older than `ttl` (by the metadata file's time): uploads abandoned, bundles forgotten."""
    limit = time.time() - ttl
    for meta in folder.glob("*.json"):
        try:
            if meta.stat().st_mtime < limit:
                for path in folder.glob(meta.stem + ".*"):
                    path.unlink(missing_ok=True)
        except FileNotFoundError:
            continue


# ------------------------------------------------------------------------------------------------ bundles


@dataclass
class StoredBundle:
    """A checkout bundle written once for download."""

    id: str
    event_id: int
    device: str
    size: int
    sha256: str
    created_at: float
    user_id: int | None = None

    def as_json(self) -> dict:
        return asdict(self)


def store_bundle(instance_path, event_id: int, device: str, data: bytes, *, user_id: int | None) -> StoredBundle:
    folder = _root(instance_path, "bundles")
    _expire(folder, BUNDLE_TTL_SECONDS)
    bundle = StoredBundle(id=secrets.token_hex(16), event_id=event_id, device=device, size=len(data),
                          sha256=hashlib.sha256(data).hexdigest(), created_at=time.time(), user_id=user_id)
    tmp = folder / f"{bundle.id}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, folder / f"{bundle.id}.bin")
    _write_json(folder / f"{bundle.id}.json", bundle.as_json())
    return bundle


def find_bundle(instance_path, bundle_id: str) -> tuple[StoredBundle, Path] | None:
    if not valid_id(bundle_id):
        return None
    folder = _root(instance_path, "bundles")
    meta = _read_json(folder / f"{bundle_id}.json")
    path = folder / f"{bundle_id}.bin"
    if meta is None or not path.exists():
        return None
    return StoredBundle(**meta), path


def bundle_for_checkout(instance_path, event_id: int, device: str) -> StoredBundle | None:
    """The newest bundle made for this event and device: a repeated checkout (its answer was lost) gets it
    again instead of a second export."""
    found = []
    for meta_path in _root(instance_path, "bundles").glob("*.json"):
        meta = _read_json(meta_path)
        if meta and meta.get("event_id") == event_id and meta.get("device") == device \
                and (meta_path.with_suffix(".bin")).exists():
            found.append(StoredBundle(**meta))
    return max(found, key=lambda b: b.created_at, default=None)


def forget_bundles(instance_path, event_id: int) -> None:
    """Drop the stored checkout bundles of an event (it was taken back or checked in for good)."""
    folder = _root(instance_path, "bundles")
    for meta_path in folder.glob("*.json"):
        meta = _read_json(meta_path)
        if meta and meta.get("event_id") == event_id:
            for path in folder.glob(meta_path.stem + ".*"):
                path.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------ uploads


@dataclass
class Upload:
    """A check-in arriving in chunks. `received` is how many bytes from the start are on disk."""

    id: str
    user_id: int | None
    size: int
    sha256: str
    created_at: float
    received: int = 0
    report: dict | None = None

    @property
    def complete(self) -> bool:
        return self.received >= self.size


def _upload_paths(instance_path, upload_id: str) -> tuple[Path, Path, Path]:
    folder = _root(instance_path, "uploads")
    return folder / f"{upload_id}.json", folder / f"{upload_id}.part", folder / f"{upload_id}.lock"


def _load_upload(instance_path, upload_id: str) -> Upload | None:
    meta_path, part, _lock = _upload_paths(instance_path, upload_id)
    meta = _read_json(meta_path)
    if meta is None:
        return None
    upload = Upload(**meta)
    upload.received = part.stat().st_size if part.exists() else (upload.size if upload.report else 0)
    return upload


def start_upload(instance_path, *, size: object, sha256: object, user_id: int | None) -> tuple[Upload, bool]:
    """A new upload, or the unfinished one this user already began for the same bytes (a laptop that was
    restarted resumes where it stopped). Returns (upload, created)."""
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_BUNDLE_BYTES:
        raise TransferError(422, _l("size harus bilangan bulat antara 1 dan %(max)d (byte).", max=MAX_BUNDLE_BYTES),
                            field="size")
    if not valid_sha256(sha256):
        raise TransferError(422, _l("sha256 harus 64 karakter heksadesimal huruf kecil."), field="sha256")
    folder = _root(instance_path, "uploads")
    _expire(folder, UPLOAD_TTL_SECONDS)
    for meta_path in folder.glob("*.json"):
        meta = _read_json(meta_path)
        if meta and meta.get("sha256") == sha256 and meta.get("size") == size \
                and meta.get("user_id") == user_id and meta.get("report") is None:
            upload = _load_upload(instance_path, meta_path.stem)
            if upload is not None:
                return upload, False
    upload = Upload(id=secrets.token_hex(16), user_id=user_id, size=size, sha256=sha256, created_at=time.time())
    meta_path, part, _lock = _upload_paths(instance_path, upload.id)
    part.touch()
    _write_json(meta_path, asdict(upload))
    return upload, True


def get_upload(instance_path, upload_id: str, *, user_id: int | None) -> Upload:
    """The upload if it exists and is this user's; anyone else's is 'not found' (its id is no secret)."""
    upload = _load_upload(instance_path, upload_id) if valid_id(upload_id) else None
    if upload is None or upload.user_id != user_id:
        raise TransferError(404, _l("Unggahan tidak ditemukan atau sudah kedaluwarsa. Mulai unggahan baru."))
    return upload


_RANGE = re.compile(r"^bytes (\d{1,15})-(\d{1,15})/(\d{1,15})$")


def parse_content_range(raw: str | None) -> tuple[int, int, int]:
    """`bytes START-END/TOTAL` (END inclusive, RFC 9110) → (start, end, total)."""
    match = _RANGE.match((raw or "").strip())
    if not match:
        raise TransferError(400, _l("Header Content-Range wajib, dengan bentuk 'bytes AWAL-AKHIR/TOTAL'."),
                            field="Content-Range")
    start, end, total = (int(g) for g in match.groups())
    if end < start:
        raise TransferError(400, _l("Content-Range tidak sah: AKHIR lebih kecil dari AWAL."), field="Content-Range")
    return start, end, total


def write_chunk(instance_path, upload_id: str, *, user_id: int | None, content_range: str | None,
                stream: BinaryIO, length: int | None) -> Upload:
    """Write one chunk at its offset. Idempotent: the same chunk sent twice (its answer was lost) writes
    the same bytes again. A chunk that would leave a gap is refused with 409 and the byte count the server
    has, which is where the laptop must continue."""
    upload = get_upload(instance_path, upload_id, user_id=user_id)
    start, end, total = parse_content_range(content_range)
    if total != upload.size:
        raise TransferError(422, _l("TOTAL di Content-Range (%(total)d) tidak sama dengan ukuran unggahan "
                                    "(%(size)d).", total=total, size=upload.size), field="Content-Range")
    if end >= upload.size:
        raise TransferError(422, _l("Content-Range melewati akhir unggahan."), field="Content-Range")
    expected = end - start + 1
    if length is not None and length != expected:
        raise TransferError(400, _l("Panjang isi (%(length)d byte) tidak sama dengan Content-Range (%(expected)d byte).",
                                  length=length, expected=expected),
                            field="Content-Range")
    meta_path, part, lock = _upload_paths(instance_path, upload_id)
    with _locked(lock):
        upload = get_upload(instance_path, upload_id, user_id=user_id)
        if upload.report is not None:
            return upload  # imported already: a late repeat of the last chunk changes nothing
        if start > upload.received:
            raise TransferError(409, _l("Potongan dimulai di byte %(start)d, padahal server baru menerima "
                                        "%(received)d byte. Lanjutkan dari byte %(received)d.",
                                        start=start, received=upload.received), field="Content-Range")
        data = stream.read(expected + 1)
        if len(data) != expected:
            raise TransferError(400, _l("Isi potongan %(got)d byte, Content-Range menyebut %(expected)d byte.",
                                   got=len(data), expected=expected),
                                field="Content-Range")
        with open(part, "r+b") as handle:
            handle.seek(start)
            handle.write(data)
        os.utime(meta_path)  # an upload in progress does not expire
        upload.received = part.stat().st_size
    return upload


def import_upload(instance_path, upload_id: str, *, user_id: int | None, run: Callable[[bytes], dict]) -> Upload:
    """Hand a complete upload whose checksum matches to `run` (the domain's import, returning its report),
    keep the report and drop the bytes. One import at a time per upload: a laptop that timed out and asks
    again waits for the first and gets its report. Incomplete → 409; a wrong checksum → 422 and the bytes
    are dropped so the laptop sends them again."""
    _meta, part, lock = _upload_paths(instance_path, upload_id)
    get_upload(instance_path, upload_id, user_id=user_id)
    with _locked(lock):
        upload = get_upload(instance_path, upload_id, user_id=user_id)
        if upload.report is not None:
            return upload
        if not upload.complete:
            raise TransferError(409, _l("Unggahan belum lengkap: %(received)d dari %(size)d byte diterima.",
                                        received=upload.received, size=upload.size))
        if _sha256_of(part) != upload.sha256:
            part.write_bytes(b"")
            raise TransferError(422, _l("Isi unggahan tidak cocok dengan sha256 yang diumumkan: data rusak di "
                                        "jalan. Kirim ulang dari awal."), field="sha256")
        report = run(part.read_bytes())
        meta_path, part, _lock = _upload_paths(instance_path, upload.id)
        upload.report = report
        meta = asdict(upload)
        meta["received"] = upload.size
        _write_json(meta_path, meta)
        part.unlink(missing_ok=True)
        upload.received = upload.size
    return upload
