"""Form fields shared by the blueprints' forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField

from ..domain.ids import is_digits


class WholeNumberField(IntegerField):
    """An IntegerField that reads only ASCII digits (an optional minus sign) of at most 15 of them.

    WTForms' IntegerField hands the text to `int()`, which reads Arabic-Indic digits and 400-digit runs; its
    NumberRange validator then turns a huge number into an OverflowError (a 500). Anything else is refused
    with the field's own `invalid_value_message`.
    """

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        raw = valuelist[0].strip() if isinstance(valuelist[0], str) else ""
        digits = raw[1:] if raw.startswith("-") else raw
        if not is_digits(digits) or len(digits) > 15:
            self.data = None
            raise ValueError(str(self.invalid_value_message or _l("Isi dengan bilangan bulat, misalnya 12.")))
        self.data = int(raw)
