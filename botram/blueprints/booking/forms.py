"""Forms of the citizens' booking pages. The choices come from the event's booking plan; which values are
acceptable is the domain's rule (domain/booking), so the fields only carry what the browser sent."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField
from wtforms.validators import Length, Optional


class ChangeForm(FlaskForm):
    services = SelectMultipleField(_l("Layanan"), validate_choice=False)
    window = RadioField(_l("Jendela waktu"), validate_choice=False)


class BookingForm(ChangeForm):
    # a life-event package stands for its services (the domain adds them); "" books only the services ticked
    package = RadioField(_l("Paket peristiwa hidup"), validate_choice=False)
    phone = StringField(_l("Nomor HP"), validators=[Length(max=40, message=_l("Nomor HP terlalu panjang."))])
    name = StringField(_l("Nama (boleh dikosongkan)"), validators=[
        Optional(), Length(max=120, message=_l("Nama paling banyak 120 karakter."))])
    nik = StringField(_l("NIK (boleh dikosongkan)"), validators=[
        Optional(), Length(max=40, message=_l("NIK terdiri atas 16 digit."))])
    # Shown only while a message gateway is configured (domain/notify); never ticked by default.
    notify = BooleanField(_l("Kirimi saya pesan: konfirmasi, pengingat sehari sebelumnya, kabar bila jadwal berubah"),
                          default=False)


class CancelForm(FlaskForm):
    """Only the form token: cancelling is one button."""
