"""Rupiah typed by people → integer rupiah. The one parser for every amount field (desk payments, contributions,
claimed values, budget lines).

Accepted (case does not matter; spaces around the parts are free):

- an optional `Rp`, `Rp.` or `IDR` in front;
- a whole number: `1500000`, or with dots between groups of three: `1.500.000`; zero sen may follow a comma:
  `1.500.000,00`, `1.500.000,-`;
- shorthand with a unit: `rb`/`ribu`/`k` (thousand), `jt`/`juta` (million), `M`/`miliar`/`milyar`
  (billion; *M* is miliar in Indonesian usage, never million), `T`/`triliun`; a decimal comma or point before
  the unit: `1,5 jt`, `2.5 M`; several parts from the largest unit down: `1 jt 500 rb`, `1jt500rb`.

Refused, each with an Indonesian message naming the field (a `DomainError` with `field` set):

- empty when required; longer than 40 characters; negative (`-5000`, `−5000`, `Rp -5.000`);
- digits other than 0–9 (Arabic-Indic `٣`, full-width `３`, superscripts): they look like numbers but no
  officer means them;
- approximations (`2jtan`, `50rb-an`, `sekitar 1 juta`, `±1 jt`): money in the books is exact;
- a fraction of a rupiah (`25.000,50`, `1,5`); zero unless the caller allows it;
- commas between thousands (`1,500,000`, `1,500`): in Indonesian a comma is the decimal sign, so `1,500`
  could be one and a half or fifteen hundred — the message asks for dots;
- anything else (`1 500 000`, `1-2 jt`, words): lokal-id's `parse_rupiah` reads `1 500 000` as 501 and
  `1-2 jt` as three million, and works in floats (a 20-digit run comes back rounded, a longer one raises
  `decimal.InvalidOperation`), so amounts are read here, exactly, with `Decimal`;
- more than `MAX_RUPIAH` (Rp 100.000.000.000, a hundred billion): above that it is a typing error for a
  BOTRAM day, and far inside the BIGINT columns that store amounts.

Messages go through Flask-Babel when a request is being served (English is the second UI language) and stay
Indonesian elsewhere (the CLI, domain tests).
"""
from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _  # translated when shown, in the language of that request

from . import DomainError

MAX_RUPIAH = 100_000_000_000
MAX_LENGTH = 40


UNITS = {"rb": 10**3, "ribu": 10**3, "k": 10**3, "jt": 10**6, "juta": 10**6, "m": 10**9, "miliar": 10**9,
         "milyar": 10**9, "t": 10**12, "triliun": 10**12}
_PREFIX = re.compile(r"^(rp\.?|idr)\s*", re.ASCII)
_PLAIN = re.compile(r"(?P<int>\d{1,3}(?:\.\d{3})+|\d+)(?:,(?P<frac>\d+|-))?", re.ASCII)
_NUMBER = r"\d+(?:[.,]\d+)*"
_UNIT = "|".join(sorted(UNITS, key=len, reverse=True))
_PART = re.compile(rf"\s*(?P<number>{_NUMBER})\s*(?P<unit>{_UNIT})(?![a-z])", re.ASCII)
_APPROXIMATE = re.compile(r"(\d|rb|ribu|k|jt|juta|m|miliar|milyar)\s*-?an\b|\bsekitar\b|\bkira|\bkurang lebih\b|"
                          r"\blebih\b|\bkurleb\b|[~±]", re.ASCII)
_NEGATIVE = re.compile(r"^(rp\.?\s*|idr\s*)?[-−]")


def parse_rupiah(text: str | None, *, field: str = "amount", label: str = "Jumlah", required: bool = True,
                 allow_zero: bool = False, maximum: int = MAX_RUPIAH) -> int | None:
    """Rupiah typed by a person → integer rupiah; None when empty and not required. See the module docstring."""
    raw = text if isinstance(text, str) else ("" if text is None else str(text))
    raw = raw.strip()

    def refuse(message: str) -> DomainError:
        return DomainError(message, field=field)

    if not raw:
        if required:
            raise refuse(_("%(label)s wajib diisi.", label=label))
        return None
    if len(raw) > MAX_LENGTH:
        raise refuse(_("%(label)s terlalu panjang. Tulis misalnya Rp 1.500.000.", label=label))
    t = " ".join(raw.lower().split())
    if any(ch.isdigit() and not ch.isascii() for ch in t):
        raise refuse(_("%(label)s harus ditulis dengan angka 0–9, misalnya Rp 1.500.000.", label=label))
    if _NEGATIVE.match(t):
        raise refuse(_("%(label)s tidak boleh negatif.", label=label))
    if _APPROXIMATE.search(t):
        raise refuse(_("%(label)s harus pasti, bukan perkiraan. Tulis jumlah persisnya, misalnya Rp 2.000.000.",
                       label=label))
    body = _PREFIX.sub("", t).strip()
    amount = _read(body)
    if amount is None:
        if re.fullmatch(r"\d{1,3}(,\d{3})+", body, re.ASCII):
            raise refuse(_("%(label)s: tulis ribuan dengan titik, misalnya Rp 1.500.000 (koma adalah tanda "
                           "desimal, seperti 1,5 jt).", label=label))
        raise refuse(_("%(label)s tidak dikenali sebagai jumlah rupiah. Tulis misalnya Rp 1.500.000 atau 1,5 jt.",
                       label=label))
    if amount != amount.to_integral_value():
        raise refuse(_("%(label)s harus rupiah bulat, tanpa sen.", label=label))
    if amount > maximum:
        raise refuse(_("%(label)s tidak wajar: lebih dari %(maximum)s. Periksa kembali angkanya.", label=label,
                       maximum=format_plain(maximum)))
    if amount == 0 and not allow_zero:
        raise refuse(_("%(label)s harus lebih dari Rp 0.", label=label))
    return int(amount)


def _read(body: str) -> Decimal | None:
    """The exact amount of `body` (no prefix, lower case), or None when it is not one of the accepted forms."""
    plain = _PLAIN.fullmatch(body)
    if plain:
        frac = plain.group("frac")
        if frac and frac != "-" and len(plain.group("int")) <= 3 and "." not in plain.group("int") and len(frac) == 3:
            return None  # "1,500": a comma between thousands, or one and a half? Ask.
        value = Decimal(plain.group("int").replace(".", ""))
        if frac and frac != "-":
            value += Decimal("0." + frac)
        return value
    total = Decimal(0)
    position = 0
    last_unit = None
    while position < len(body):
        part = _PART.match(body, position)
        if part is None:
            return None
        unit = UNITS[part.group("unit")]
        if last_unit is not None and unit >= last_unit:
            return None  # "500 rb 1 jt": units must go down
        number = _number(part.group("number"))
        if number is None:
            return None
        total += number * unit
        last_unit = unit
        position = part.end()
    return total if last_unit is not None else None


def _number(token: str) -> Decimal | None:
    """A number before a unit: `1`, `1,5`, `1.5`, `1.500` (thousands), `2.500,5`."""
    if re.fullmatch(r"\d+", token):
        return Decimal(token)
    if re.fullmatch(r"\d+[.,]\d{1,2}", token):  # one separator and one or two digits: a decimal
        return Decimal(token.replace(",", "."))
    if re.fullmatch(r"\d{1,3}(\.\d{3})+", token):
        return Decimal(token.replace(".", ""))
    if re.fullmatch(r"\d{1,3}(\.\d{3})+,\d+", token) or re.fullmatch(r"\d+,\d+", token):
        return Decimal(token.replace(".", "").replace(",", "."))
    return None


def format_plain(amount: int) -> str:
    """`Rp 100.000.000.000`, for messages (pages use the `rupiah` filter, which goes through Babel)."""
    return "Rp " + f"{amount:,}".replace(",", ".")
