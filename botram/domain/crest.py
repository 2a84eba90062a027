"""The regency's crest on printed letterheads (thank-you letters, receipts, the guidance sheet, the event
report): the admin uploads it once; without one the letterhead shows a plain "B" mark.

Only raster images a browser prints everywhere (PNG, JPEG, WebP), judged by their first bytes, never by
what the browser claims: an SVG could carry script, and it would be served from our own origin.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Crest
from . import audit, uploads
from .uow import unit_of_work

MAX_UPLOAD_BYTES = 512 * 1024
CREST_ID = 1


@dataclass(frozen=True)
class CrestContent:
    data: bytes
    content_type: str
    etag: str


def sniff_image(data: bytes) -> str | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def version() -> str | None:
    """A short digest of the current crest for its URL (so a letter may cache it for good), or None."""
    sha = db.session.scalar(sa.select(Crest.sha256).where(Crest.id == CREST_ID))
    return sha[:16] if sha else None


def content() -> CrestContent | None:
    crest = db.session.get(Crest, CREST_ID)
    if crest is None:
        return None
    return CrestContent(crest.data, crest.content_type, crest.sha256[:16])


def replace(data: bytes, *, filename: str = "", by_user_id: int | None = None) -> Crest:
    """Store the admin's crest; every letterhead printed from now on carries it."""
    content_type = uploads.checked(
        data, field="image", max_bytes=MAX_UPLOAD_BYTES, sniff=sniff_image,
        empty=_l("Pilih berkas gambar lambang terlebih dahulu."),
        too_large=_l("Berkas terlalu besar. Lambang paling besar %(kb)d KB; perkecil gambarnya "
                     "(500 × 500 piksel sudah tajam di kertas A4).", kb=MAX_UPLOAD_BYTES // 1024),
        wrong_type=_l("Berkas ini bukan gambar yang dapat dicetak. Unggah berkas PNG, JPEG, atau WebP."))

    @unit_of_work
    def write() -> Crest:
        crest = db.session.get(Crest, CREST_ID)
        if crest is None:
            crest = Crest(id=CREST_ID)
            db.session.add(crest)
        sha = uploads.store(crest, data, content_type, filename=filename, by_user_id=by_user_id)
        audit.record("crest.replace", "crest", CREST_ID, user_id=by_user_id, size=len(data),
                     content_type=content_type, sha256=sha[:16])
        return crest

    return write()


def remove(*, by_user_id: int | None = None) -> bool:
    """Back to the plain mark. False when there was no crest."""

    @unit_of_work
    def write() -> bool:
        crest = db.session.get(Crest, CREST_ID)
        if crest is None:
            return False
        db.session.delete(crest)
        audit.record("crest.remove", "crest", CREST_ID, user_id=by_user_id)
        return True

    return write()


def current() -> Crest | None:
    return db.session.get(Crest, CREST_ID)
