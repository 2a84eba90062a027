"""The SKM survey form, shared by the phone, the kiosk and paper entry. The rules are in botram/domain/skm.py:
the form only parses; missing or invalid answers are reported by the domain, all at once."""
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from ...domain import skm
from ...domain.reference import BEKASI_REGENCY
from ...extensions import db
from ...models import Region, UNSUR_KEYS


def _choices(pairs) -> list[SelectChoice]:
    return [SelectChoice("", _l("— Tidak diisi —"))] + [SelectChoice(value, label) for value, label in pairs]


class SurveyForm(FlaskForm):
    sex = SelectField(_l("Jenis kelamin"), choices=_choices(skm.SEXES.items()),
                      validate_choice=False)
    age_band = SelectField(_l("Usia"), choices=_choices(skm.AGE_BANDS.items()),
                           validate_choice=False)
    education = SelectField(_l("Pendidikan terakhir"),
                            choices=_choices(skm.EDUCATIONS.items()), validate_choice=False)
    occupation = SelectField(_l("Pekerjaan"), choices=_choices(skm.OCCUPATIONS.items()),
                             validate_choice=False)
    comment = TextAreaField(_l("Saran atau keluhan"))
    next_desa_code = StringField(_l("Ke desa mana BOTRAM sebaiknya datang berikutnya?"))

    def scores(self) -> dict:
        return {key: self[key].data for key in UNSUR_KEYS}

    def profile(self) -> dict:
        return dict(sex=self.sex.data, age_band=self.age_band.data, education=self.education.data,
                    occupation=self.occupation.data, next_desa_code=self.next_desa_code.data)

    def unsur(self):
        """(number, key, field, label, question, answers) for the template."""
        for number, key in enumerate(UNSUR_KEYS, start=1):
            label, question, answers = skm.UNSUR[key]
            yield number, key, self[key], label, question, list(enumerate(answers, start=1))

    def apply_problems(self, problems: dict[str, str]) -> None:
        for key, message in problems.items():
            target = self[key] if key in self else None
            if target is not None:
                target.errors = list(target.errors or []) + [message]
            else:
                self.form_errors.append(message)


for _key in UNSUR_KEYS:
    setattr(SurveyForm, _key, RadioField(skm.UNSUR[_key][1], choices=[
        SelectChoice(str(i), text) for i, text in enumerate(skm.UNSUR[_key][2], start=1)], validate_choice=False))


class CodeSurveyForm(SurveyForm):
    """Kiosk and paper entry: the ticket is named by its printed code."""

    code = StringField(_l("Nomor tiket"))


class KioskCodeForm(FlaskForm):
    code = StringField(_l("Nomor tiket Anda"))


class KioskAnswerForm(CodeSurveyForm):
    code = HiddenField()


def desa_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The desa/kelurahan of Bekasi Regency grouped by kecamatan, for an <optgroup> select."""
    kecamatan = db.session.scalars(sa.select(Region).where(
        Region.level == 3, Region.parent_code == BEKASI_REGENCY).order_by(Region.name)).all()
    desa = db.session.scalars(sa.select(Region).where(Region.level == 4).order_by(Region.name)).all()
    by_parent: dict[str, list[tuple[str, str]]] = {}
    for row in desa:
        by_parent.setdefault(row.parent_code, []).append((row.code, row.label))
    return [(k.name, by_parent.get(k.code, [])) for k in kecamatan]
