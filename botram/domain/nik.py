"""Checking and masking NIK (Nomor Induk Kependudukan) with lokal-id.

A malformed NIK (not 16 digits, an impossible birth date, a province/regency code that cannot exist) is
refused. A well-formed NIK from outside the regency, or with an odd encoded birth date (in the future, or
older than 110 years), is accepted with warnings: people from elsewhere are still served, the officer just
takes a second look.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import lokal
import lokal.wilayah
from flask_babel import lazy_gettext as _l

from . import DomainError
from .clock import today_wib

_SEPARATORS = re.compile(r"[\s.\-]")
MAX_AGE = 110


@dataclass
class NikCheck:
    """A NIK that passed the structure check: the 16 digits and any Indonesian warnings."""

    nik: str
    warnings: list[str] = field(default_factory=list)


def check_nik(raw: str, regency_code: str = "32.16", *, today: date | None = None) -> NikCheck:
    """Validate `raw`; raise DomainError(field="nik") when malformed, return warnings otherwise."""
    cleaned = _SEPARATORS.sub("", str(raw or ""))
    if not cleaned:
        raise DomainError(_l("NIK kosong. Isi 16 digit angka NIK atau kosongkan kolomnya."), field="nik")
    today = today or today_wib()
    info = lokal.parse_nik(cleaned, lookup_wilayah=lokal.wilayah.wilayah_name, reference_date=today)
    if info.errors or not info.nik:
        reasons = " ".join(issue.message for issue in info.errors) or _l("Struktur NIK tidak dikenal.")
        raise DomainError(_l("NIK tidak valid. %(reasons)s", reasons=reasons), field="nik")

    warnings: list[str] = []
    if info.regency_code != regency_code:
        home = lokal.wilayah.wilayah_name(regency_code) or regency_code
        where = info.regency or f"kode wilayah {info.regency_code}"
        warnings.append(
            f"NIK ini terdaftar di luar {home} ({where}). Layanan tetap dapat diberikan; "
            "periksa domisili pemohon."
        )
    for issue in info.warnings:
        if issue.code == "wilayah_unknown":
            warnings.append("Kode kecamatan di NIK tidak ada di data Kemendagri terbaru "
                            "(bisa jadi kode lama sebelum pemekaran).")
        else:
            warnings.append(issue.message)
    if info.birth_date:
        born = date.fromisoformat(info.birth_date)
        if born > today:
            warnings.append("Tanggal lahir yang tersandi di NIK ada di masa depan; periksa kembali NIK-nya.")
        elif _age(born, today) > MAX_AGE:
            warnings.append(f"Tanggal lahir yang tersandi di NIK berarti usia lebih dari {MAX_AGE} tahun; "
                            "periksa kembali NIK-nya.")
    return NikCheck(nik=info.nik, warnings=warnings)


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def mask_nik(nik: str | None) -> str:
    """`3216********0001`: the regency and the serial stay readable, the rest is hidden."""
    if not nik:
        return ""
    if len(nik) <= 8:
        return "*" * len(nik)
    return nik[:4] + "*" * (len(nik) - 8) + nik[-4:]
