"""SQLite behaviour for a server with several writers (desks, reception) at once.

WAL lets the board read while a desk writes; the busy timeout makes writers wait instead of failing.
pysqlite's own implicit BEGIN is switched off so SQLAlchemy emits BEGIN itself, and a write
transaction can ask for BEGIN IMMEDIATE (see `write_transaction`): a deferred transaction that
reads and then tries to write can fail at once with "database is locked" when another writer got
there first, without waiting for the timeout.
"""
from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, connection_record):
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


@event.listens_for(Engine, "begin")
def _on_begin(conn):
    if conn.dialect.name == "sqlite":
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def write_transaction(session) -> None:
    """Start the session's transaction as a writer: BEGIN IMMEDIATE on SQLite, a no-op elsewhere.

    Call before the first statement of a unit of work that will write (call_next, issue a ticket).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
