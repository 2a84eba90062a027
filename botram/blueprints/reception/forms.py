"""Reception forms. They only parse; the queue rules (services offered, NIK, caps) live in
botram/domain/queue/issue.py."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, SelectField, StringField
from wtforms.fields.choices import SelectChoice
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
    # Their rules (length, NIK, phone) are the domain's, checked all together so that every mistake shows at
    # once: a check here would stop at the first field and hide the others.
    name = StringField(_l("Nama (opsional)"), filters=[lambda v: v.strip() if isinstance(v, str) else v])
    nik = StringField(_l("NIK (opsional)"), filters=[lambda v: v.strip() if isinstance(v, str) else v])
    phone = StringField(_l("Nomor HP (opsional)"), filters=[lambda v: v.strip() if isinstance(v, str) else v])
    # Shown only while a message gateway is configured (domain/notify); never ticked by default.
    notify = BooleanField(_l("Kirimi pesan saat giliran dekat"), default=False)
    notify_locale = SelectField(_l("Bahasa pesan"), choices=[SelectChoice("id", "Bahasa Indonesia"), SelectChoice("en", "English")],
                                default="id", validate_choice=False)


class ActionForm(FlaskForm):
    """Carries only the CSRF token, for button-only POSTs (cancel, restore)."""
