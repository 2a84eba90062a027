"""Which schema a bundle was made with (docs/field-sync.md, "How the format changes").

Rows travel as the tables hold them, so a bundle is only read by an install at the same migration: the manifest
names the Alembic revision of the database that made it, and the importer compares it with its own before
writing anything, saying which side must be upgraded.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from flask import current_app
from flask_babel import lazy_gettext as _l

from ...extensions import db
from .envelope import BundleError


def schema_revision() -> str:
    """The Alembic revision this database is at."""
    return db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) or ""


def _history() -> ScriptDirectory:
    return ScriptDirectory(current_app.extensions["migrate"].directory)


def check_schema(theirs: str, *, made_by) -> None:
    """Refuse a bundle made at another schema revision, naming the side to upgrade (`made_by`: the side that made
    it, in words)."""
    ours = schema_revision()
    if theirs == ours:
        return
    script = _history()
    try:
        known = script.get_revision(theirs) is not None
    except CommandError:
        known = False
    if not known:
        raise BundleError(_l("Berkas ini dibuat oleh BOTRAM yang lebih baru (skema %(theirs)s, di sini %(ours)s): "
                             "perbarui BOTRAM di sini dulu, lalu impor lagi. Tidak ada yang disimpan.",
                             theirs=theirs, ours=ours), field="file")
    try:
        older = any(rev.revision == theirs for rev in script.walk_revisions(base="base", head=ours))
    except CommandError:
        older = False
    if older:
        raise BundleError(_l("Berkas ini dibuat oleh BOTRAM yang lebih lama di %(side)s (skema %(theirs)s, di sini "
                             "%(ours)s): perbarui BOTRAM di %(side)s, lalu buat berkasnya lagi. Tidak ada yang "
                             "disimpan.", side=made_by, theirs=theirs, ours=ours), field="file")
    raise BundleError(_l("Basis data di sini belum diperbarui (skema %(ours)s, berkas %(theirs)s): jalankan "
                         "`botram init` di sini, lalu impor lagi. Tidak ada yang disimpan.",
                         theirs=theirs, ours=ours), field="file")
