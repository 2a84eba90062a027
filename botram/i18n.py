"""Locale, timezone and the template filters that format dates, times (WIB) and rupiah through Babel."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, has_request_context, request, session
from babel.numbers import format_currency
from flask_babel import format_date, format_datetime, format_decimal, format_percent, format_time, gettext as _

WIB = "Asia/Jakarta"


def select_locale() -> str:
    """Indonesian unless the user picked English (kept in the session). Outside a request (the CLI, a domain
    rule's lazy message rendered in a test) there is no session: Indonesian."""
    chosen = session.get("lang") if has_request_context() else None
    if chosen in current_app.config["BOTRAM_LOCALES"]:
        return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BOTRAM_TIMEZONE"]


def rupiah(amount: int | None) -> str:
    """Integer rupiah as `Rp 1.500.000` in every UI language: officials read amounts the Indonesian way."""
    if amount is None:
        return "–"
    return format_currency(amount, "IDR", format="¤ #,##0", currency_digits=False, locale="id")


def wib_time(value: datetime | None) -> str:
    return format_time(value, "HH.mm") if value else "–"


def wib_datetime(value: datetime | None) -> str:
    return format_datetime(value, "d MMM y, HH.mm") if value else "–"


def long_date(value: date | datetime | None) -> str:
    """`Sabtu, 28 November 2026`."""
    if value is None:
        return "–"
    return format_date(value, "EEEE, d MMMM y")


def short_date(value: date | datetime | None) -> str:
    return format_date(value, "d MMMM y") if value else "–"


def number(value: int | float | None) -> str:
    return format_decimal(value) if value is not None else "–"


def decimal(value: int | float | None, digits: int = 1) -> str:
    """A measured number in the UI language with exactly `digits` decimals: IKM `82,50` / `82.50`, minutes
    `4,5` / `4.5`."""
    if value is None:
        return "–"
    return format_decimal(value, "#,##0" + ("." + "0" * digits if digits else ""))


def percent(value: float | None, digits: int = 1, fixed: bool = True) -> str:
    """A share in [0, 1] as a percentage in the UI language: `45,7%` / `45.7%`; `fixed=False` drops trailing
    zeros (`60%`, `57,5%`). None → `–`."""
    if value is None:
        return "–"
    decimals = ("0" if fixed else "#") * digits
    return format_percent(value, "#,##0" + ("." + decimals if digits else "") + "%")


def bp_percent(value: int | None) -> str:
    """A share in basis points (a target: 6000 = 60%) as `60%` / `57,5%`."""
    return "–" if value is None else percent(value / 10_000, digits=2, fixed=False)


def js_strings() -> dict[str, str]:
    """The sentences the scripts show (toasts), in the UI language. base.html renders them as JSON in a meta tag
    that app.js reads (`botramText(key)`), so no sentence is written into a script."""
    return {
        "server_error": _("Terjadi kesalahan pada server. Coba lagi."),
        "offline": _("Tidak dapat terhubung ke server. Periksa jaringan."),
        "forbidden": _("Akses ditolak untuk tindakan ini."),
        "not_found": _("Data tidak ditemukan. Muat ulang halaman."),
        "expired": _("Sesi formulir kedaluwarsa. Muat ulang halaman."),
        "copied": _("Token disalin."),
    }


def init_app(app: Flask) -> None:
    app.add_template_filter(rupiah, "rupiah")
    app.add_template_filter(wib_time, "wib_time")
    app.add_template_filter(wib_datetime, "wib_datetime")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(short_date, "short_date")
    app.add_template_filter(number, "number")
    app.add_template_filter(decimal, "decimal")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(bp_percent, "bp_percent")

    @app.context_processor
    def _locale_context():
        from flask_babel import get_locale

        return {"current_locale": str(get_locale()), "request_path": request.path, "js_strings": js_strings}
