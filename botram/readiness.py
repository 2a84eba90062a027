"""`/readyz`: may the load balancer send requests here? Yes when the database answers and its schema is at the
migrations' head (a server started against a database `botram init` has not upgraded yet would fail on the
first query that touches a new column). `/healthz` stays the liveness check that touches nothing."""
from __future__ import annotations

import functools
import os

import sqlalchemy as sa

MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "migrations")


@functools.cache
def migration_heads(directory: str = MIGRATIONS) -> frozenset[str]:
    """The revisions `botram init` upgrades to (read from the files once per process)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


PROBE_TIMEOUT = 5  # seconds: a load balancer's probe must get its answer before its own timeout


@functools.cache
def _probe_engine(url: str):
    """An engine without a pool: every probe opens a connection of its own, as a new worker would. A pooled
    connection can outlive what it points at (an SQLite file on a pulled USB disk stays readable through a
    descriptor opened before), and proves nothing about the next connection."""
    options = {"poolclass": sa.pool.NullPool}
    if url.startswith("postgresql"):
        options["connect_args"] = {"connect_timeout": PROBE_TIMEOUT}
    elif url.startswith("sqlite"):
        options["connect_args"] = {"timeout": PROBE_TIMEOUT}
    return sa.create_engine(url, **options)


def check(engine) -> tuple[bool, str]:
    """(ready, why) — `why` is a fixed word a monitor can alert on: ok, database_unreachable, migrations_behind."""
    from alembic.runtime.migration import MigrationContext

    try:
        with _probe_engine(engine.url.render_as_string(hide_password=False)).connect() as conn:
            conn.execute(sa.text("SELECT 1"))
            current = frozenset(MigrationContext.configure(conn).get_current_heads())
    except Exception:  # whatever the driver raises for a server that is down, the answer is "not ready"
        return False, "database_unreachable"
    if current != migration_heads():
        return False, "migrations_behind"
    return True, "ok"
