"""Forms of the events surface. Field checks that are rules (regions, hours, uniqueness) live in
botram/domain/events.py; the forms only parse what the browser sent."""
from flask_babel import lazy_gettext as _l
# Lazy despite the name: `pgettext` is one of pybabel's default keywords, so `pybabel extract` finds it.
from flask_babel import lazy_pgettext as pgettext
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField, TimeField
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
