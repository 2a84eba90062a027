"""Admin forms. They carry and coerce input and flag empty required fields all at once; every other rule and
its message lives in botram.domain (so the CLI and API share them)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
# Lazy despite the name: `pgettext` is one of pybabel's default keywords, so `pybabel extract` finds it.
from flask_babel import lazy_pgettext as pgettext
from flask_wtf import FlaskForm
from wtforms import (BooleanField, HiddenField, PasswordField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from ...domain.ids import parse_id
from ...models import Role
from ...web import ROLE_LABELS

CODE_KW = {"maxlength": 20, "autocapitalize": "characters"}


def required(message: str) -> list:
    return [DataRequired(message)]


def int_or_none(value):
    """Coerce a submitted id; anything that is not an id a row could have becomes None (the domain says why)."""
    if value is None:
        return None
    return parse_id(value)


class UserForm(FlaskForm):
    username = StringField(
        _l("Nama pengguna"),
        validators=required(_l("Nama pengguna 2–40 karakter: huruf kecil, angka, titik, garis bawah, "
                               "atau tanda hubung.")),
        render_kw={"autocomplete": "off", "autocapitalize": "none", "maxlength": 40})
    name = StringField(_l("Nama lengkap"),
                       validators=required(_l("Nama lengkap wajib diisi, paling banyak 120 karakter.")),
                       render_kw={"maxlength": 120})
    role = SelectField(_l("Peran"), choices=[SelectChoice(r.value, ROLE_LABELS[r.value]) for r in Role],
                       validate_choice=False)
    agency_id = SelectField(_l("Instansi (khusus petugas loket)"), coerce=int_or_none, validate_choice=False)
    password = PasswordField(_l("Kata sandi"), render_kw={"autocomplete": "new-password"})
    active = BooleanField(_l("Akun aktif (boleh masuk)"), default=True)


class TokenForm(FlaskForm):
    name = StringField(_l("Nama perangkat"),
                       validators=required(_l("Nama token wajib diisi, paling banyak 80 karakter.")),
                       render_kw={"maxlength": 80, "placeholder": _l("mis. Tombol panggil loket 3")})


class AgencyForm(FlaskForm):
    code = StringField(_l("Kode"), validators=required(_l("Kode wajib diisi.")), render_kw=CODE_KW)
    short_name = StringField(_l("Nama singkat"), validators=required(_l("Nama singkat wajib diisi.")),
                             render_kw={"maxlength": 40})
    name = StringField(_l("Nama lengkap instansi"), validators=required(_l("Nama instansi wajib diisi.")),
                       render_kw={"maxlength": 160})
    color = StringField(_l("Warna"), render_kw={"type": "color"})
    active = BooleanField(_l("Instansi aktif"), default=True)


class ServiceForm(FlaskForm):
    agency_id = SelectField(pgettext("singular", "Instansi"), validators=required(_l("Pilih instansi.")), coerce=int_or_none,
                            validate_choice=False)
    code = StringField(_l("Kode layanan"), validators=required(_l("Kode wajib diisi.")), render_kw=CODE_KW)
    name = StringField(_l("Nama layanan"), validators=required(_l("Nama layanan wajib diisi.")),
                       render_kw={"maxlength": 160})
    ticket_letter = StringField(_l("Huruf antrean"),
                                validators=required(_l("Huruf antrean harus satu huruf A–Z.")),
                                render_kw={"maxlength": 1, "autocapitalize": "characters"})
    target_minutes = StringField(_l("Target waktu layanan (menit)"),
                                 validators=required(_l("Target waktu layanan harus berupa angka 1–240 menit.")),
                                 render_kw={"type": "number", "min": 1, "max": 240, "inputmode": "numeric"})
    records_amount = BooleanField(_l("Mencatat nominal pembayaran (mis. pajak)"))
    self_service = BooleanField(_l("Boleh diambil di kios tiket (tanpa pemeriksaan dokumen atau NIK)"))
    description = TextAreaField(_l("Keterangan untuk petugas"), render_kw={"rows": 2})
    guidance = TextAreaField(_l("Panduan untuk warga"), render_kw={"rows": 3})
    active = BooleanField(_l("Layanan aktif"), default=True)


class RequirementForm(FlaskForm):
    text = StringField(_l("Nama dokumen"), validators=required(_l("Nama dokumen wajib diisi.")),
                       render_kw={"maxlength": 255})
    where_to_get = StringField(_l("Tempat memperoleh"), render_kw={"maxlength": 255})
    optional = BooleanField(_l("Tidak wajib (bila ada)"))


class MoveForm(FlaskForm):
    direction = HiddenField()


class PackageForm(FlaskForm):
    code = StringField(_l("Kode paket"), validators=required(_l("Kode wajib diisi.")), render_kw=CODE_KW)
    name = StringField(_l("Nama paket"), validators=required(_l("Nama paket wajib diisi.")),
                       render_kw={"maxlength": 160})
    description = TextAreaField(_l("Keterangan"), render_kw={"rows": 3})
    services = SelectMultipleField(_l("Layanan dalam paket"), coerce=int_or_none, validate_choice=False)
    active = BooleanField(_l("Paket aktif (tampil di pendaftaran)"), default=True)
    self_service = BooleanField(_l("Boleh diambil di kios tiket (dokumen diperiksa di loket)"))


class EmptyForm(FlaskForm):
    """Carries only the CSRF token, for button-only POSTs."""
