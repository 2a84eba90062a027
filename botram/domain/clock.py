"""The one source of time: store UTC, speak WIB (Asia/Jakarta, UTC+7, no daylight saving)."""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")


def now() -> datetime:
    return datetime.now(timezone.utc)


def today_wib() -> date:
    return now().astimezone(WIB).date()


def wib_to_utc(day: date, at: time) -> datetime:
    """A wall-clock time in WIB on `day` as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=WIB).astimezone(timezone.utc)


def to_wib(value: datetime) -> datetime:
    return value.astimezone(WIB)
