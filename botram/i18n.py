"""Locale, timezone and the template filters that format dates, times (WIB) and rupiah through Babel."""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, request, session
from babel.numbers import format_currency
from flask_babel import format_date, format_datetime, format_decimal, format_time

WIB = "Asia/Jakarta"


def select_locale() -> str:
    """Indonesian unless the user picked English (kept in the session)."""
    chosen = session.get("lang")
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


def init_app(app: Flask) -> None:
    app.add_template_filter(rupiah, "rupiah")
    app.add_template_filter(wib_time, "wib_time")
    app.add_template_filter(wib_datetime, "wib_datetime")
    app.add_template_filter(long_date, "long_date")
    app.add_template_filter(short_date, "short_date")
    app.add_template_filter(number, "number")

    @app.context_processor
    def _locale_context():
        from flask_babel import get_locale

        return {"current_locale": str(get_locale()), "request_path": request.path}
