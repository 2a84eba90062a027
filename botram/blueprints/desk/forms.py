"""Desk console forms. They check the shape of the input; the rules live in botram.domain.queue."""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import pgettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ...domain import DomainError, money
from ...domain.ids import is_digits

OUTCOMES = [("done", _l("Selesai")), ("incomplete", _l("Belum lengkap")), ("referred", _l("Dirujuk"))]
NOTE_MAX = 1000


class IdListField(Field):
    """Repeated form values (ticked checkboxes) as a list of integer ids."""

    def process_formdata(self, valuelist):
        self.data = []
        for value in valuelist:
            value = (value or "").strip()
            if not value:
                continue
            if not is_digits(value) or len(value) > 12:
                self.data = []
                raise ValueError(_("Daftar persyaratan tidak valid. Muat ulang halaman lalu coba lagi."))
            self.data.append(int(value))

    def _value(self):
        return ""


class FinishForm(FlaskForm):
    outcome = StringField(_l("Hasil layanan"), validators=[InputRequired(_l("Pilih hasil layanan: selesai, belum lengkap, atau dirujuk."))])
    requirements = IdListField(_l("Persyaratan yang dibawa"))
    amount = StringField(_l("Jumlah dibayar"), validators=[Optional(), Length(max=40, message=_l(
        "Jumlah terlalu panjang; tulis misalnya Rp 1.500.000."))])
    note = TextAreaField(_l("Catatan"), validators=[Optional(), Length(max=NOTE_MAX, message=_l(
        "Catatan paling banyak %(max)d karakter."))])

    amount_value: int | None = None

    def validate_outcome(self, field):
        if field.data not in {value for value, _label in OUTCOMES}:
            raise ValidationError(_("Hasil layanan harus selesai, belum lengkap, atau dirujuk."))

    def validate_amount(self, field):
        if field.errors:
            return
        try:
            # zero is allowed: a desk may record that nothing was paid
            self.amount_value = money.parse_rupiah(field.data, field="amount", label=pgettext("money", "Jumlah"), required=False,
                                                   allow_zero=True)
        except DomainError as exc:
            raise ValidationError(exc.message) from None


class TransferForm(FlaskForm):
    service = StringField(_l("Alihkan ke layanan"), validators=[InputRequired(_l("Pilih layanan tujuan."))])
    note = TextAreaField(_l("Catatan untuk loket tujuan"), validators=[Optional(), Length(max=NOTE_MAX, message=_l(
        "Catatan paling banyak %(max)d karakter."))])


    service_id: int | None = None

    def validate_service(self, field):
        value = (field.data or "").strip()
        if not is_digits(value) or len(value) > 12:
            raise ValidationError(_("Layanan tujuan tidak dikenal. Pilih dari daftar."))
        self.service_id = int(value)


class DeskStateForm(FlaskForm):
    state = StringField(_l("Status loket"), validators=[InputRequired(_l("Status loket wajib diisi."))])

    def validate_state(self, field):
        if field.data not in ("open", "paused"):
            raise ValidationError(_("Status loket harus dibuka atau dijeda."))


class UndoForm(FlaskForm):
    """Carries the CSRF token of the undo button."""


class ReopenForm(FlaskForm):
    step = StringField(_l("Antrean yang dibuka kembali"), validators=[InputRequired(_l(
        "Pilih antrean yang akan dibuka kembali."))])
    reason = TextAreaField(_l("Alasan membuka kembali"), validators=[InputRequired(_l(
        "Tulis alasan membuka kembali.")), Length(max=500, message=_l("Alasan paling banyak %(max)d karakter."))])

    step_id: int | None = None

    def validate_step(self, field):
        value = (field.data or "").strip()
        if not is_digits(value) or len(value) > 12:
            raise ValidationError(_("Pilih antrean yang akan dibuka kembali dari daftar."))
        self.step_id = int(value)
