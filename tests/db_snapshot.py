"""Every row of every table, to prove that a refused write changed nothing.

Counts and highest ids (what the fuzzers compared before) miss an UPDATE: a refusal that renamed a service or
voided a contribution before it failed would pass. `dump` reads every row, ordered by primary key;
`fingerprint` keeps one hash per table of every row as text (cheap to hold and compare across hundreds of
submissions, and one query). The SQL is built once per process.
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa

from botram.extensions import db

# Written by any request, refused or not, and audited nowhere on purpose (uow `audited=False` bookkeeping):
# when a device token or a signed-in session was last seen.
BOOKKEEPING = frozenset({("api_token", "last_used_at"), ("login_session", "last_seen_at")})

_SELECTS: dict[str, list[tuple[str, str]]] = {}


def _selects() -> list[tuple[str, str]]:
    dialect = db.engine.dialect.name
    if dialect not in _SELECTS:
        quote = db.engine.dialect.identifier_preparer.quote
        selects = []
        for table in db.metadata.sorted_tables:
            columns = [c.name for c in table.c if (table.name, c.name) not in BOOKKEEPING]
            order = [c.name for c in table.primary_key.columns] or columns
            selects.append((table.name, f"SELECT {', '.join(map(quote, columns))} FROM {quote(table.name)} "
                                        f"ORDER BY {', '.join(map(quote, order))}"))
        _SELECTS[dialect] = selects
    return _SELECTS[dialect]


def dump() -> dict[str, list[tuple]]:
    """Every row of every table (bookkeeping columns left out), in primary-key order. Ends the read."""
    try:
        return {name: [tuple(row) for row in db.session.execute(sa.text(sql))] for name, sql in _selects()}
    finally:
        db.session.rollback()


_TABLE_TEXTS: dict[str, str] = {}


def _table_texts() -> str:
    """One query for the whole database: per table, its row count and all its rows as one text (each row's
    columns cast to text, rows joined in primary-key order, in a subquery: SQLite 3.40 has no ORDER BY
    inside an aggregate)."""
    dialect = db.engine.dialect.name
    if dialect not in _TABLE_TEXTS:
        quote = db.engine.dialect.identifier_preparer.quote
        joined = "string_agg(r, chr(10))" if dialect == "postgresql" else "group_concat(r, char(10))"
        selects = []
        for table in db.metadata.sorted_tables:
            columns = [c.name for c in table.c if (table.name, c.name) not in BOOKKEEPING]
            row = " || '|' || ".join(f"COALESCE(CAST({quote(c)} AS TEXT), '<null>')" for c in columns)
            order = ", ".join(quote(c.name) for c in table.primary_key.columns) or "1"
            selects.append(f"SELECT '{table.name}', COUNT(*), COALESCE({joined}, '') FROM "
                           f"(SELECT {row} AS r FROM {quote(table.name)} ORDER BY {order}) AS t")
        _TABLE_TEXTS[dialect] = " UNION ALL ".join(selects)
    return _TABLE_TEXTS[dialect]


def fingerprint() -> dict[str, tuple[int, str]]:
    """Per table: the number of rows and a hash of all of them. Any insert, delete or update changes it.
    One round trip and one row per table (a query per table made each fuzz submission ten times slower)."""
    try:
        found = db.session.execute(sa.text(_table_texts())).all()
    finally:
        db.session.rollback()
    return {name: (n, hashlib.blake2b(text.encode(), digest_size=16).hexdigest()) for name, n, text in found}


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(t for t in after.keys() | before.keys() if after.get(t) != before.get(t))


# Statements that cannot change a row. Anything else (INSERT, UPDATE, DELETE, WITH ..., DDL, a statement this
# list does not know) counts as a possible write.
_READS = ("SELECT", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET", "SHOW", "LISTEN",
          "UNLISTEN", "NOTIFY")


class Snapshots:
    """Reads of the database (the fingerprint, the highest ids, a record's row) taken again only when a statement
    that may write has run on the app's engine since they were taken. A fuzzer submits hundreds of refused values
    in a row and a refusal writes nothing, so reading every row before and after each of them was most of its
    time. The watch sees every statement the app's engine runs (the fuzzers' requests run in this process, on
    this engine); a write that was rolled back still counts, so the reads are taken again and compared as before."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.writes = 0
        self._cache: dict = {}
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_args) -> None:
        if not statement.lstrip()[:10].upper().startswith(_READS):
            self.writes += 1

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)

    def read(self, key, take):
        """What `take()` answers, from the cache while nothing may have written since it was taken."""
        found = self._cache.get(key)
        if found is None or found[0] != self.writes:
            at = self.writes
            found = self._cache[key] = (at, take())
        return found[1]

    def fingerprint(self) -> dict:
        return self.read("fingerprint", fingerprint)
