"""Reception forms. They only parse; the queue rules (services offered, NIK, caps) live in
botram/domain/queue/issue.py."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.validators import Length, Optional
from wtforms.widgets import HiddenInput

from ...domain.ids import is_digits

PRIORITY_CHOICES = [
    ("none", _l("Umum")),
    ("lansia", _l("Lansia")),
    ("disabilitas", _l("Disabilitas")),
    ("hamil", _l("Ibu hamil / anak kecil")),
]


def priority_label(value: str | None) -> str:
    return str(dict(PRIORITY_CHOICES).get(value or "none", value or ""))


class IdListField(Field):
    """A list of integer ids from repeated form values (checkboxes rendered by the template)."""

    widget = HiddenInput()

    def __init__(self, label=None, validators=None, invalid_message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.invalid_message = invalid_message or _l("Pilihan tidak valid.")

    def process_formdata(self, valuelist):
        self.data = []
        for raw in valuelist:
            raw = (raw or "").strip()
            if not raw:
                continue
            if not is_digits(raw) or len(raw) > 12:
                self.data = []
                raise ValueError(str(self.invalid_message))
            self.data.append(int(raw))

    def _value(self):
        return ""


class VisitForm(FlaskForm):
    """Register a visitor: services and/or life-event packages, a priority group, optional identity."""

    services = IdListField(_l("Layanan"), invalid_message=_l("Pilihan layanan tidak valid."), default=list)
    packages = IdListField(_l("Paket layanan"), invalid_message=_l("Pilihan paket layanan tidak valid."),
                           default=list)
    # Rendered as four radio chips by the template; the domain refuses unknown groups.
    priority = StringField(_l("Kelompok prioritas"), default="none")
    name = StringField(_l("Nama (opsional)"), validators=[
        Optional(), Length(max=120, message=_l("Nama paling panjang 120 karakter."))],
        filters=[lambda v: v.strip() if isinstance(v, str) else v])
    nik = StringField(_l("NIK (opsional)"), validators=[
        Optional(), Length(max=40, message=_l("NIK harus 16 angka."))],
        filters=[lambda v: v.strip() if isinstance(v, str) else v])
    phone = StringField(_l("Nomor HP (opsional)"), validators=[
        Optional(), Length(max=30, message=_l("Nomor HP terlalu panjang."))],
        filters=[lambda v: v.strip() if isinstance(v, str) else v])


class ActionForm(FlaskForm):
    """Carries only the CSRF token, for button-only POSTs (cancel, restore)."""
