"""What the field-sync page and the field API share: the bundle key, and an import report as the API's model
says it (the API answers it; the page and the CLI show the same facts)."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from ...domain import DomainError
from ..api.schemas import FieldImportReport


def field_key() -> str:
    """BOTRAM_FIELD_KEY, the passphrase the server and its laptops share; without it nothing can be
    exported or imported. Not an outage but how the server is set up, so 501 rather than 503: a client that
    retries a 503 would retry this for ever."""
    key = current_app.config.get("BOTRAM_FIELD_KEY")
    if not key:
        raise DomainError(_l("Sinkronisasi lapangan belum disiapkan di server ini: BOTRAM_FIELD_KEY belum diatur."),
                          status=501)
    return key


def report_json(report) -> dict:
    """An ImportReport as JSON data (kept with an upload, shown on the page and by the CLI)."""
    return FieldImportReport.model_validate(report).model_dump(mode="json")
