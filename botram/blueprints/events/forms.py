"""Forms of the events surface. Field checks that are rules (regions, hours, uniqueness) live in
botram/domain/events.py; the forms only parse what the browser sent."""
from flask_babel import lazy_gettext as _l
# Lazy despite the name: `pgettext` is one of pybabel's default keywords, so `pybabel extract` finds it.
from flask_babel import lazy_pgettext as pgettext
from flask_wtf import FlaskForm
from wtforms import (DateField, FieldList, Form, FormField, SelectField, SelectMultipleField, StringField,
                     TextAreaField, TimeField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..form_fields import WholeNumberField
from ...domain.events import LABEL_MAX, RUNNING_TEXT_MAX, TITLE_MAX, VENUE_MAX

_TIME = _l("Isi jam dengan format JJ:MM, misalnya 08:00.")


class EventForm(FlaskForm):
    title = StringField(_l("Nama kegiatan"), validators=[
        DataRequired(_l("Nama kegiatan wajib diisi.")),
        Length(min=3, max=TITLE_MAX, message=_l("Nama kegiatan 3–160 karakter."))])
    date = DateField(_l("Tanggal"), validators=[InputRequired(_l("Tanggal wajib diisi."))],
                     invalid_value_message=_l("Tanggal tidak valid. Gunakan pemilih tanggal."))
    venue = StringField(_l("Tempat"), validators=[
        DataRequired(_l("Tempat wajib diisi.")),
        Length(min=3, max=VENUE_MAX, message=_l("Tempat 3–200 karakter."))])
    kecamatan_code = SelectField(_l("Kecamatan"), validate_choice=False)
    desa_code = SelectField(_l("Desa/kelurahan"), validate_choice=False)
    opens = TimeField(_l("Jam buka (WIB)"), validators=[InputRequired(_l("Jam buka wajib diisi."))],
                      invalid_value_message=_TIME)
    closes = TimeField(_l("Jam tutup (WIB)"), validators=[InputRequired(_l("Jam tutup wajib diisi."))],
                       invalid_value_message=_TIME)
    # The range is a rule (domain/events.py); an empty field means the server's default.
    notify_near_ahead = WholeNumberField(_l("Pesan \"giliran dekat\" saat tersisa (orang di depan)"),
                                         validators=[Optional()],
                                         invalid_value_message=_l("Isi dengan angka 1–20, atau kosongkan."))


class DeskForm(FlaskForm):
    number = WholeNumberField(_l("Nomor loket"), validators=[
        InputRequired(_l("Nomor loket wajib diisi.")),
        NumberRange(min=1, max=99, message=_l("Nomor loket 1–99."))],
        invalid_value_message=_l("Nomor loket harus berupa angka 1–99."))
    label = StringField(_l("Nama loket"), validators=[
        DataRequired(_l("Nama loket wajib diisi.")),
        Length(min=2, max=LABEL_MAX, message=_l("Nama loket 2–80 karakter."))])
    agency_id = SelectField(pgettext("singular", "Instansi"), validate_choice=False)
    service_ids = SelectMultipleField(_l("Layanan"), validate_choice=False)
    opens = TimeField(_l("Buka (WIB)"), validators=[InputRequired(_l("Jam buka wajib diisi."))],
                      invalid_value_message=_TIME)
    closes = TimeField(_l("Tutup (WIB)"), validators=[InputRequired(_l("Jam tutup wajib diisi."))],
                       invalid_value_message=_TIME)


class DeskHoursForm(FlaskForm):
    """The on-the-day change of one desk's hours."""

    opens = TimeField(_l("Buka (WIB)"), validators=[InputRequired(_l("Jam buka wajib diisi."))],
                      invalid_value_message=_TIME)
    closes = TimeField(_l("Tutup (WIB)"), validators=[InputRequired(_l("Jam tutup wajib diisi."))],
                       invalid_value_message=_TIME)


class RunningTextForm(FlaskForm):
    running_text = TextAreaField(_l("Teks berjalan di layar antrean"), validators=[
        Optional(), Length(max=RUNNING_TEXT_MAX, message=_l("Teks berjalan paling banyak 500 karakter."))])


class StatusForm(FlaskForm):
    status = StringField(validators=[DataRequired(_l("Status tujuan wajib diisi."))])


class EmptyForm(FlaskForm):
    """Carries only the CSRF token, for button-only POSTs."""


class LiveExtendForm(FlaskForm):
    """The live view's one press: keep this desk open until the time the forecast named."""

    desk_id = WholeNumberField(_l("Loket"), validators=[InputRequired(_l("Pilih loketnya."))],
                               invalid_value_message=_l("Loket tidak dikenal."))
    closes = TimeField(_l("Tutup (WIB)"), validators=[InputRequired(_l("Jam tutup wajib diisi."))],
                       invalid_value_message=_TIME)


class BookingWindowForm(Form):
    """One booking window: its WIB hours and a quota per service (in the event's service order)."""

    starts = TimeField(_l("Mulai (WIB)"), validators=[InputRequired(_l("Jam mulai wajib diisi."))],
                       invalid_value_message=_TIME)
    ends = TimeField(_l("Selesai (WIB)"), validators=[InputRequired(_l("Jam selesai wajib diisi."))],
                     invalid_value_message=_TIME)
    quotas = FieldList(WholeNumberField(_l("Kuota"), validators=[
        InputRequired(_l("Isi kuota (0 bila tidak dibuka).")),
        NumberRange(min=0, max=9999, message=_l("Kuota 0–9999."))]))


class BookingPlanForm(FlaskForm):
    """The coordinator opens (or edits) booking for an event (domain/booking/plan.py)."""

    closes_on = DateField(_l("Pemesanan ditutup tanggal"), validators=[InputRequired(_l("Tanggal wajib diisi."))],
                          invalid_value_message=_l("Tanggal tidak valid. Gunakan pemilih tanggal."))
    closes_time = TimeField(_l("Pemesanan ditutup jam (WIB)"), validators=[InputRequired(_l("Jam wajib diisi."))],
                          invalid_value_message=_TIME)
    grace_minutes = WholeNumberField(_l("Tenggang setelah jendela berakhir (menit)"), validators=[
        InputRequired(_l("Isi tenggang dalam menit.")), NumberRange(min=0, max=240, message=_l("Tenggang 0–240 menit."))])
    windows = FieldList(FormField(BookingWindowForm), min_entries=1, max_entries=12)
