"""Forms of the funding surface. They only parse what the browser sent; amounts stay text here and are read
by botram.domain.funding.parse_amount (lokal.parse_rupiah), where the rules live."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, FieldList, Form, FormField, RadioField, SelectField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ...domain import funding as rules
from ..form_fields import WholeNumberField

_DATE = _l("Tanggal tidak valid. Gunakan pemilih tanggal.")


def _choices(pairs, empty=None) -> list[SelectChoice]:
    items = [SelectChoice("", empty)] if empty is not None else []
    return items + [SelectChoice(value, label) for value, label in pairs]


class SponsorForm(FlaskForm):
    name = StringField(_l("Nama sponsor"), validators=[Length(max=rules.NAME_MAX, message=_l(
        "Nama sponsor paling banyak 160 karakter."))])
    kind = SelectField(_l("Jenis sponsor"), choices=_choices(rules.SPONSOR_KINDS.items(), _l("— Pilih jenis —")),
                       validate_choice=False)
    sector = StringField(_l("Sektor usaha"))
    contact_person = StringField(_l("Narahubung"))
    phone = StringField(_l("Telepon"))
    email = StringField(_l("Email"))
    npwp = StringField(_l("NPWP (opsional)"))
    address = StringField(_l("Alamat"))
    notes = TextAreaField(_l("Catatan"))
    public_thanks = BooleanField(_l("Boleh disebut sebagai sponsor di layar antrean"))


class ItemForm(Form):
    name = StringField(_l("Barang/jasa"))
    quantity = WholeNumberField(_l("Jumlah"), validators=[Optional(), NumberRange(min=1, max=rules.MAX_QUANTITY, message=_l(
        "Jumlah barang harus 1 atau lebih."))], invalid_value_message=_l("Jumlah barang harus berupa angka bulat."))
    unit = StringField(_l("Satuan"))


class ContributionForm(FlaskForm):
    sponsor_id = SelectField(_l("Sponsor"), validate_choice=False)
    event_id = SelectField(_l("Untuk"), validate_choice=False)
    form = RadioField(_l("Bentuk sumbangan"), choices=_choices(rules.FORMS.items()), validate_choice=False,
                      default="cash")
    status = RadioField(_l("Status"), choices=_choices([("pledged", _l("Baru dijanjikan")),
                                                        ("received", _l("Sudah diterima"))]),
                        validate_choice=False, default="received")
    value = StringField(_l("Jumlah / nilai taksiran (Rp)"))
    description = StringField(_l("Keterangan"))
    category = SelectField(_l("Jenis barang/jasa"),
                           choices=_choices(rules.IN_KIND_CATEGORIES.items(), _l("— Pilih jenis —")),
                           validate_choice=False)
    claimed_value = StringField(_l("Nilai menurut sponsor (Rp)"))
    valuation_basis = StringField(_l("Dasar penilaian"))
    bast_number = StringField(_l("Nomor BAST"))
    budget_line_id = SelectField(_l("Menutup pos anggaran"), validate_choice=False)
    items = FieldList(FormField(ItemForm), min_entries=4, max_entries=rules.MAX_ITEMS)
    pledged_on = DateField(_l("Tanggal janji"), validators=[Optional()], invalid_value_message=_DATE)
    received_on = DateField(_l("Tanggal diterima"), validators=[Optional()], invalid_value_message=_DATE)
    receipt_number = StringField(_l("Nomor tanda terima / kuitansi"))


class ReceiveForm(FlaskForm):
    received_on = DateField(_l("Tanggal diterima"), validators=[InputRequired(_l("Tanggal diterima wajib diisi."))],
                            invalid_value_message=_DATE)
    receipt_number = StringField(_l("Nomor tanda terima / kuitansi"))
    bast_number = StringField(_l("Nomor BAST"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Alasan"))


class CancelForm(FlaskForm):
    """Cancelling a pledge; its own field name so it can sit on the page beside the void dialog."""

    cancel_reason = TextAreaField(_l("Alasan pembatalan janji"))


class BudgetLineForm(FlaskForm):
    category = SelectField(_l("Kategori"), choices=_choices(rules.BUDGET_CATEGORIES.items(), _l("— Pilih kategori —")), validate_choice=False)
    description = StringField(_l("Uraian"))
    planned = StringField(_l("Rencana (Rp)"))
    actual = StringField(_l("Realisasi (Rp)"))


class TargetForm(FlaskForm):
    year = WholeNumberField(_l("Tahun"), validators=[InputRequired(_l("Tahun wajib diisi.")), NumberRange(
        min=2000, max=2100, message=_l("Tahun tidak valid (2000–2100)."))],
        invalid_value_message=_l("Tahun harus berupa angka, misalnya 2027."))
    percent = StringField(_l("Porsi APBD paling tinggi (%)"))


class ExportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET download

    date_from = DateField(_l("Dari tanggal"), validators=[InputRequired(_l("Tanggal awal wajib diisi."))],
                          invalid_value_message=_DATE)
    date_to = DateField(_l("Sampai tanggal"), validators=[InputRequired(_l("Tanggal akhir wajib diisi."))],
                        invalid_value_message=_DATE)
    format = SelectField(_l("Format"), choices=_choices([("xlsx", "Excel (XLSX)"), ("csv", "CSV")]), default="xlsx")
