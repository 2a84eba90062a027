from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField(_l("Nama pengguna"), validators=[DataRequired(_l("Nama pengguna wajib diisi.")),
                                                            Length(max=40)])
    password = PasswordField(_l("Kata sandi"), validators=[DataRequired(_l("Kata sandi wajib diisi.")),
                                                          Length(max=200)])


class EmptyForm(FlaskForm):
    """Carries only the CSRF token, for button-only POSTs (logout)."""
