"""The outer layer of a field bundle (docs/field-sync.md): a readable header, then the encrypted payload.

    BOTRAM-FIELD-BUNDLE\n
    {"format": 4, "kdf": {"name": "scrypt", "salt": ..., "n": ..., "r": 8, "p": 1}, "cipher": "AES-256-GCM",
     "nonce": ..., "key_check": ..., "length": N}\n
    N bytes: AES-256-GCM(payload), with the two lines above as associated data

The key comes from the regency's passphrase through scrypt (`cryptography`), with a fresh salt per bundle.
scrypt gives 64 bytes: the first 32 are the AES key, the SHA-256 of the other 32 is `key_check`, which is how
a wrong passphrase is told apart from a changed byte (GCM alone refuses both the same way). The header is
authenticated as associated data, so no byte of the file can change unnoticed. Every field of the header is
checked for its type and length before use: a header that is not what this code writes is "damaged", never a
crash.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from flask_babel import lazy_gettext as _l

from .. import DomainError

MAGIC = b"BOTRAM-FIELD-BUNDLE\n"
# The bundle's format (docs/field-sync.md, "How the format changes"): raised whenever what a bundle carries changes
# in a way an older reader would misread. 2: the manifest names the schema revision, check-ins carry a sequence.
# 3: a check-in carries the event's messages to citizens (part "outbox", docs/outbox.md). 4: both kinds carry the
# event's bookings (parts "booking_plan", "booking_window", "booking_quota", "booking", docs/booking.md).
FORMAT = 4
# The file carries NIKs and staff password hashes, so guessing the passphrase must be dear: 2^17 is the cost OWASP's
# password storage guidance gives for scrypt (128 MB, about 0.4 s per bundle on a field laptop). The cost travels
# in the header, so a bundle sealed with another cost still opens.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
MAX_SCRYPT_N = 2**20  # a header asking for more is refused rather than allowed to eat the memory
MAX_HEADER = 4096
SALT_BYTES, NONCE_BYTES, CHECK_BYTES = 16, 12, 32


class BundleError(DomainError):
    """A bundle that cannot be read or must not be applied; nothing was written."""

    status = 422


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text) -> bytes:
    return base64.b64decode(str(text).encode("ascii"), validate=True)


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> tuple[bytes, bytes]:
    material = Scrypt(salt=salt, length=64, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))
    return material[:32], hashlib.sha256(material[32:]).digest()


def require_key(key: str | None) -> str:
    if not key or not key.strip():
        raise BundleError(_l("Kunci bundel lapangan belum diatur: isi BOTRAM_FIELD_KEY (atau --key-file) dengan "
                             "frasa sandi yang ditetapkan kabupaten, sama di server dan laptop."), field="key")
    return key


def seal(payload: bytes, key: str) -> bytes:
    key = require_key(key)
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES)
    aes_key, check = _derive(key, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    length = len(payload) + 16  # GCM appends a 16-byte tag
    header = json.dumps({"format": FORMAT, "kdf": {"name": "scrypt", "salt": _b64(salt), "n": SCRYPT_N,
                                                   "r": SCRYPT_R, "p": SCRYPT_P},
                         "cipher": "AES-256-GCM", "nonce": _b64(nonce), "key_check": _b64(check),
                         "length": length}, sort_keys=True).encode("ascii") + b"\n"
    return MAGIC + header + AESGCM(aes_key).encrypt(nonce, payload, MAGIC + header)


def _damaged() -> BundleError:
    return BundleError(_l("Berkas bundel rusak atau telah diubah: tidak ada yang disimpan. Buat berkas baru dari "
                          "sumbernya."), field="file")


def open_sealed(data: bytes, key: str) -> bytes:
    """The payload of a sealed bundle, or BundleError saying why not (before anything is written)."""
    key = require_key(key)
    if not data.startswith(MAGIC):
        if MAGIC.startswith(data[:len(MAGIC)]) and len(data) < len(MAGIC):
            raise truncated()
        raise BundleError(_l("Berkas ini bukan bundel lapangan BOTRAM."), field="file")
    end = data.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER)
    if end < 0:
        raise truncated() if len(data) < len(MAGIC) + MAX_HEADER else _damaged()
    header_bytes = data[len(MAGIC):end + 1]
    try:
        header = json.loads(header_bytes)
        version = header["format"]
    except (ValueError, KeyError, TypeError):
        raise _damaged() from None
    check_format(version)
    try:
        kdf = header["kdf"]
        n, r, p = _whole(kdf["n"]), _whole(kdf["r"]), _whole(kdf["p"])
        salt, nonce, check = _unb64(kdf["salt"]), _unb64(header["nonce"]), _unb64(header["key_check"])
        length = _whole(header["length"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _damaged() from None
    if kdf.get("name") != "scrypt" or header.get("cipher") != "AES-256-GCM" or not (2 <= n <= MAX_SCRYPT_N) \
            or n & (n - 1) or not (1 <= r <= 32) or not (1 <= p <= 16) or len(salt) != SALT_BYTES \
            or len(nonce) != NONCE_BYTES or len(check) != CHECK_BYTES or length < 16:
        raise _damaged()
    body = data[end + 1:]
    if len(body) < length:
        raise truncated()
    if len(body) > length:
        raise _damaged()
    aes_key, expected = _derive(key, salt, n, r, p)
    if not hmac.compare_digest(expected, check):
        raise BundleError(_l("Kunci bundel salah: berkas ini dienkripsi dengan frasa sandi lain. Periksa "
                             "BOTRAM_FIELD_KEY; tidak ada yang disimpan."), field="key")
    try:
        return AESGCM(aes_key).decrypt(nonce, body, MAGIC + header_bytes)
    except InvalidTag:
        raise _damaged() from None


def _whole(value) -> int:
    """A JSON integer, nothing else: `true`, `1.5` and `"7"` are not what this code writes."""
    if type(value) is not int:
        raise TypeError(value)
    return value


def check_format(version) -> None:
    """The bundle's format number, as the header and the manifest carry it: this code reads exactly FORMAT."""
    if type(version) is not int or version < 1:
        raise _damaged()
    if version > FORMAT:
        raise future(version)
    if version < FORMAT:
        raise BundleError(_l("Berkas bundel ini dibuat oleh BOTRAM versi lama (format %(version)s, di sini format "
                             "%(known)s): perbarui BOTRAM di perangkat yang membuatnya, lalu buat berkasnya lagi. "
                             "Tidak ada yang disimpan.", version=version, known=FORMAT), field="file")


def truncated() -> BundleError:
    return BundleError(_l("Berkas bundel terpotong (tidak lengkap), mungkin salinannya belum selesai: tidak ada "
                          "yang disimpan. Salin atau unduh ulang berkasnya."), field="file")


def future(version) -> BundleError:
    return BundleError(_l("Berkas bundel memakai format versi %(version)s yang lebih baru dari yang dikenal "
                          "aplikasi ini (versi %(known)s): perbarui BOTRAM dulu; tidak ada yang disimpan.",
                          version=version, known=FORMAT), field="file")
