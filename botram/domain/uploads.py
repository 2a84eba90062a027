"""What every admin upload into the database goes through (a voice clip, the crest): refused when empty, too
large or not of a type we serve, judged by the file's first bytes, never by what the browser claims."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from ..models.types import utcnow
from ..models.uploads import UploadedFile
from . import DomainError


def checked(data: bytes, *, field: str, max_bytes: int, sniff: Callable[[bytes], str | None],
            empty: str, too_large: str, wrong_type: str) -> str:
    """The upload's content type, or a DomainError next to `field` (422 empty, 413 too large, 415 type)."""
    if not data:
        raise DomainError(empty, field=field)
    if len(data) > max_bytes:
        raise DomainError(too_large, field=field, status=413)
    content_type = sniff(data)
    if content_type is None:
        raise DomainError(wrong_type, field=field, status=415)
    return content_type


def store(row: UploadedFile, data: bytes, content_type: str, *, filename: str, by_user_id: int | None) -> str:
    """Put the upload on its row (inside the caller's unit of work); returns the SHA-256."""
    sha = hashlib.sha256(data).hexdigest()
    row.data, row.content_type, row.size, row.sha256 = data, content_type, len(data), sha
    row.original_filename = Path(filename or "").name[:255]
    row.uploaded_by_id, row.uploaded_at = by_user_id, utcnow()
    return sha
