"""Prometheus metrics at `/metrics` (prometheus-client; docs/operations.md, "Monitoring").

Two kinds of figures:

- **Counted as they happen**, in the process that served the request: requests by route (the URL rule such as
  `/status/<token>`, never the path a client sent) and status with their latency, unit-of-work retries and
  failures, database outages met, open board and desk streams. Under gunicorn every worker writes these to
  files in `PROMETHEUS_MULTIPROC_DIR` (prometheus-client's multiprocess mode: `botram serve` makes a fresh
  directory per start and removes it at the end), and whichever worker answers a scrape adds them all up.
- **Read from the database on each scrape**: people waiting per event and service, the longest current wait,
  calls in the last minutes, the notification outbox by state. The database is the truth every worker
  shares, so these never need adding up; only open events are reported, which keeps the series few.

No label ever carries a name, NIK, phone, ticket code or token: labels are URL rules, methods, status codes,
event ids, service codes and fixed words (tests/test_metrics.py seeds a visitor and greps the scrape).

The instruments are made on first use, not at import: the `botram serve` arbiter imports this module before
it forks, and only instruments made after `use_multiprocess_dir` write to the shared directory.
"""
from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from datetime import timedelta
from typing import Iterator

ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CALL_RATE_MINUTES = 5  # "calls per minute" averages this many minutes: one minute of a slow desk is noise


# ------------------------------------------------------------------------------------------ process set-up

def use_multiprocess_dir() -> str:
    """A fresh, empty directory for this server's metric files, named in the environment the workers inherit.
    Called by the gunicorn arbiter before it forks; `remove_multiprocess_dir` when it stops."""
    path = tempfile.mkdtemp(prefix="botram-metrics-")
    os.environ[ENV] = path
    from prometheus_client import values

    # prometheus-client picks its value store at import; the arbiter may have imported it already.
    values.ValueClass = values.get_value_class()
    return path


def remove_multiprocess_dir(path: str) -> None:
    shutil.rmtree(path, ignore_errors=True)
    if os.environ.get(ENV) == path:
        del os.environ[ENV]


def worker_gone(pid: int) -> None:
    """A worker exited: its open-stream gauge must stop counting (its counters stay, as Prometheus expects)."""
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


# ------------------------------------------------------------------------------------------- instruments

@functools.cache
def _instruments():
    from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

    disable_created_metrics()  # `*_created` series double the scrape and no dashboard here reads them
    return {
        "requests": Counter("botram_http_requests_total", "Requests answered, by URL rule, method and status.",
                            ["route", "method", "status"]),
        "latency": Histogram("botram_http_request_duration_seconds",
                             "Time to the answer's headers, by URL rule and method (a stream counts until it opens).",
                             ["route", "method"], buckets=LATENCY_BUCKETS),
        "uow_retries": Counter("botram_unit_of_work_retries_total",
                               "Units of work run again: conflict (deadlock, serialization, lock), locked "
                               "(SQLite busy), reconnect (connection lost before the commit).", ["reason"]),
        "uow_failures": Counter("botram_unit_of_work_failures_total",
                                "Units of work that failed for the database's sake (a refused rule is not one): "
                                "unavailable, retries_exhausted, error.", ["reason"]),
        "db_unavailable": Counter("botram_database_unavailable_total",
                                  "Requests answered 503 because the database could not be reached.", ["surface"]),
        "streams": Gauge("botram_open_streams", "Server-sent-event streams open now (board projectors, desk consoles, coordinators' live views).",
                         ["kind"], multiprocess_mode="livesum"),
    }


def request_done(route: str | None, method: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "OTHER"
    route = route or "<unmatched>"
    parts = _instruments()
    parts["requests"].labels(route, method, str(status)).inc()
    parts["latency"].labels(route, method).observe(seconds)


def unit_of_work_noted(kind: str, reason: str) -> None:
    """The unit of work's observer (botram/domain/uow.py `observe`): kind is "retry" or "failure"."""
    _instruments()["uow_retries" if kind == "retry" else "uow_failures"].labels(reason).inc()


def database_unavailable(surface: str) -> None:
    _instruments()["db_unavailable"].labels(surface).inc()


def stream_opened(kind: str) -> None:
    _instruments()["streams"].labels(kind).inc()


def stream_closed(kind: str) -> None:
    _instruments()["streams"].labels(kind).dec()


# ------------------------------------------------------------------------------- read on scrape from the db

class DatabaseFigures:
    """The service's own figures, read from the database when Prometheus scrapes (open events only)."""

    def __init__(self, engine):
        self.engine = engine

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily("botram_database_up", "1 when the scrape could read the database, else 0.")
        try:
            with self.engine.connect() as conn:
                families = list(_queue_figures(conn)) + list(_outbox_figures(conn))
        except Exception:  # a scrape must answer even when the database is away: that is what it reports
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def _queue_figures(conn) -> Iterator:
    import sqlalchemy as sa
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    from .domain.clock import now as utcnow
    from .models import Event, EventStatus, Service, Step, StepStatus

    now = utcnow()
    open_events = sa.select(Event.id).where(Event.status == EventStatus.OPEN)
    waiting = GaugeMetricFamily("botram_people_waiting", "Visitors waiting now, by open event and service code.",
                                labels=["event_id", "service"])
    longest = GaugeMetricFamily("botram_longest_wait_seconds",
                                "How long the visitor waiting longest has waited, by open event and service code.",
                                labels=["event_id", "service"])
    rows = conn.execute(
        sa.select(Step.event_id, Service.code, sa.func.count(Step.id), sa.func.min(Step.arrived_at))
        .join(Service, Service.id == Step.service_id)
        .where(Step.status == StepStatus.WAITING, Step.event_id.in_(open_events))
        .group_by(Step.event_id, Service.code).order_by(Step.event_id, Service.code)
    ).all()
    for event_id, code, count, oldest in rows:
        waiting.add_metric([str(event_id), code], count)
        longest.add_metric([str(event_id), code], max(0.0, (now - _aware(oldest)).total_seconds()))
    yield waiting
    yield longest

    calls = CounterMetricFamily("botram_calls", "Steps called so far (a recall is not a new call), by open event.",
                                labels=["event_id"])
    rate = GaugeMetricFamily("botram_calls_per_minute",
                             f"Calls per minute over the last {CALL_RATE_MINUTES} minutes, by open event.",
                             labels=["event_id"])
    since = now - timedelta(minutes=CALL_RATE_MINUTES)
    recent = sa.func.sum(sa.case((Step.called_at >= since, 1), else_=0))
    for event_id, total, last in conn.execute(
        sa.select(Event.id, sa.func.count(Step.called_at), recent)
        .select_from(Event).outerjoin(Step, Step.event_id == Event.id)
        .where(Event.status == EventStatus.OPEN).group_by(Event.id).order_by(Event.id)
    ).all():
        calls.add_metric([str(event_id)], total)
        rate.add_metric([str(event_id)], (last or 0) / CALL_RATE_MINUTES)
    yield calls
    yield rate


def _aware(moment):
    from datetime import timezone

    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


OUTBOX_TABLE = "outbox"
OUTBOX_STATE_COLUMNS = ("status", "state")


def _outbox_figures(conn) -> Iterator:
    """Notifications by state, from the `outbox` table when this install has one (the notification work may
    not be merged yet): `botram_outbox_present` says which, so a dashboard can tell "none queued" from "no
    outbox". The state column is read as it is named there (`status` or `state`)."""
    import sqlalchemy as sa
    from prometheus_client.core import GaugeMetricFamily

    present = GaugeMetricFamily("botram_outbox_present", "1 when the notification outbox table exists.")
    inspector = sa.inspect(conn)
    if not inspector.has_table(OUTBOX_TABLE):
        present.add_metric([], 0)
        yield present
        return
    columns = {column["name"] for column in inspector.get_columns(OUTBOX_TABLE)}
    state = next((name for name in OUTBOX_STATE_COLUMNS if name in columns), None)
    present.add_metric([], 1 if state else 0)
    yield present
    if state is None:
        return
    notifications = GaugeMetricFamily("botram_notifications",
                                      "Outbox rows by state (pending, sent, failed, given_up) and kind (message, print).",
                                      labels=["state", "kind"])
    table = sa.table(OUTBOX_TABLE, sa.column(state, sa.String), sa.column("kind", sa.String))
    # The kind's first word only ("message.near" -> message): a handful of series, whatever kinds come later.
    if "kind" not in columns:
        kind = sa.literal("")
    elif conn.dialect.name == "sqlite":
        kind = sa.func.substr(table.c.kind, 1, sa.func.instr(table.c.kind.concat("."), ".") - 1)
    else:
        kind = sa.func.split_part(table.c.kind, ".", 1)
    for value, first_word, count in conn.execute(
        sa.select(table.c[state], kind, sa.func.count()).group_by(table.c[state], kind)
        .order_by(table.c[state], kind)
    ).all():
        notifications.add_metric([str(value), first_word or ""], count)
    yield notifications


# ----------------------------------------------------------------------------------------------- exposition

class _ThisProcess:
    """The default registry's metrics (one process: the dev server, waitress, the tests)."""

    def collect(self):
        from prometheus_client import REGISTRY

        yield from REGISTRY.collect()


def exposition(engine) -> tuple[bytes, str]:
    """The scrape's body and content type: every process's counters, then the database's figures."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    _instruments()  # a scrape before any request still lists the families
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseFigures(engine))
    return generate_latest(registry), CONTENT_TYPE_LATEST


def started() -> float:
    return time.perf_counter()
