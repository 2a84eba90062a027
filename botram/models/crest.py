"""The regency's crest (lambang) as the admin uploaded it, for the letterheads BOTRAM prints."""
from __future__ import annotations

from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .uploads import UploadedFile


class Crest(UploadedFile, db.Model):
    """At most one row (id 1). Without it letters carry a plain "B" mark. The image lives in the database,
    like the voice clips: every worker process and a backup see the same crest. It does not travel in a
    field bundle (nor do the voice clips): a laptop at a venue prints its guidance sheets with the "B" mark
    unless its own admin uploads the crest there too."""

    __tablename__ = "crest"

    id: Mapped[int] = mapped_column(primary_key=True)
