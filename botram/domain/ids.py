"""Ids and whole numbers that arrive as text (form fields, query strings).

`str.isdigit()` is not the check to use: it is true for Arabic-Indic digits (`٣`, which `int()` reads as 3) and
for superscripts (`²`, which `int()` refuses with a ValueError), and it says nothing about size. An id beyond
the database's `integer` reaches SQL and fails there: SQLite cannot bind past 2^63, PostgreSQL refuses past
2^31 - 1 on insert. So ids are read here: ASCII digits only, and within the range a primary key can hold.
"""
from __future__ import annotations

MAX_ID = 2**31 - 1  # PostgreSQL `integer`, the type of every primary and foreign key


def is_digits(text) -> bool:
    """True for a non-empty run of ASCII digits 0–9 and nothing else."""
    return isinstance(text, str) and text.isascii() and text.isdigit()


def parse_id(value) -> int | None:
    """An id from text or an int: 1..MAX_ID, else None (the caller says "not found" or "choose one")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 1 <= value <= MAX_ID else None
    text = value.strip() if isinstance(value, str) else ""
    if not is_digits(text) or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None
