"""Desk console forms. They check the shape of the input; the rules live in botram.domain.queue."""
from __future__ import annotations

import lokal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

OUTCOMES = [("done", _l("Selesai")), ("incomplete", _l("Belum lengkap")), ("referred", _l("Dirujuk"))]
NOTE_MAX = 1000
AMOUNT_MAX = 10_000_000_000


class IdListField(Field):
    """Repeated form values (ticked checkboxes) as a list of integer ids."""

    def process_formdata(self, valuelist):
        self.data = []
        for value in valuelist:
            value = (value or "").strip()
            if not value:
                continue
            if not value.isdigit() or len(value) > 12:
                self.data = []
                raise ValueError(_("Daftar persyaratan tidak valid. Muat ulang halaman lalu coba lagi."))
            self.data.append(int(value))

    def _value(self):
        return ""


def parse_amount(raw: str | None) -> int | None:
    """Rupiah as officers type it ("Rp 1.500.000", "1,5 jt") through lokal-id; None when left empty.

    Raises ValueError with an Indonesian message when the text is unclear: not an amount, negative,
    fractional rupiah, approximate ("2 jutaan"), or beyond ten billion.
    """
    text = (raw or "").strip()
    if not text:
        return None
    if text.startswith("-"):
        raise ValueError(_("Jumlah tidak boleh negatif."))
    if len(text) > 40:
        raise ValueError(_("Jumlah terlalu panjang; tulis misalnya Rp 1.500.000."))
    try:
        parsed = lokal.parse_rupiah(text)
    except (ArithmeticError, ValueError):  # lokal-id 0.x raises decimal.InvalidOperation on digit runs
        parsed = None
    if parsed is None:
        raise ValueError(_("Jumlah tidak dapat dibaca. Tulis misalnya Rp 1.500.000 atau 1,5 jt."))
    if parsed.approximate:
        raise ValueError(_("Jumlah harus pasti, bukan perkiraan. Tulis misalnya Rp 1.500.000."))
    amount = parsed.amount
    if amount != int(amount):
        raise ValueError(_("Jumlah harus dalam rupiah penuh, tanpa sen. Tulis misalnya 1,5 jt atau 1.500.000."))
    amount = int(amount)
    if amount > AMOUNT_MAX:
        raise ValueError(_("Jumlah terlalu besar; periksa kembali angkanya."))
    return amount


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
            self.amount_value = parse_amount(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class TransferForm(FlaskForm):
    service = StringField(_l("Alihkan ke layanan"), validators=[InputRequired(_l("Pilih layanan tujuan."))])
    note = TextAreaField(_l("Catatan untuk loket tujuan"), validators=[Optional(), Length(max=NOTE_MAX, message=_l(
        "Catatan paling banyak %(max)d karakter."))])


    service_id: int | None = None

    def validate_service(self, field):
        value = (field.data or "").strip()
        if not value.isdigit() or len(value) > 12:
            raise ValidationError(_("Layanan tujuan tidak dikenal. Pilih dari daftar."))
        self.service_id = int(value)


class DeskStateForm(FlaskForm):
    state = StringField(_l("Status loket"), validators=[InputRequired(_l("Status loket wajib diisi."))])

    def validate_state(self, field):
        if field.data not in ("open", "paused"):
            raise ValidationError(_("Status loket harus dibuka atau dijeda."))


class UndoForm(FlaskForm):
    """Carries the CSRF token of the undo button."""
