"""/metrics (botram/metrics.py) in one process: who may read it, requests counted by URL rule, unit-of-work
retries and failures, open streams, the queue's figures read from the database, the outbox when there is one,
and never a name, NIK, phone, ticket code or token in the scrape. Two gunicorn workers adding up their counters:
tests/e2e/test_metrics_served.py."""
from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import OperationalError

from botram import create_app, metrics
from botram.domain import queue
from botram.domain.tokens import issue_token
from botram.domain.uow import unit_of_work
from botram.extensions import db
from botram.models import Visit

from .factories import make_desk, make_event, make_user

NIK = "3216014508950001"
NAME = "Siti Rahmawati Kusumadewi"
PHONE = "081234567890"


def scrape(client, **kwargs) -> str:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    assert response.content_type.startswith("text/plain; version=")
    return response.get_data(as_text=True)


def value(text: str, sample: str, **labels) -> float | None:
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == sample and all(found.labels.get(k) == v for k, v in labels.items()):
                return found.value
    return None


@pytest.fixture
def monitored(app):
    app.config["BOTRAM_METRICS_ADDRESSES"] = "127.0.0.1, 10.20.0.0/24"
    app.config["BOTRAM_METRICS_TOKEN"] = "pantau-rahasia-123"
    return app


def test_closed_unless_an_address_or_a_token_is_configured(app, client):
    assert app.config["BOTRAM_METRICS_ADDRESSES"] == "" and app.config["BOTRAM_METRICS_TOKEN"] == ""
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize("address, authorization, status", [
    ("127.0.0.1", None, 200),
    ("10.20.0.77", None, 200),  # inside the monitoring network
    ("10.20.1.77", None, 403),
    ("192.168.1.10", None, 403),
    ("192.168.1.10", "Bearer pantau-rahasia-123", 200),
    ("192.168.1.10", "Bearer pantau-rahasia-124", 403),
    ("192.168.1.10", "Basic pantau-rahasia-123", 403),
])
def test_only_the_monitoring_address_or_the_token(monitored, client, address, authorization, status):
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": address}, headers=headers)
    assert response.status_code == status


def test_requests_are_counted_by_url_rule_and_status_never_by_path(monitored, client):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/status/tokenRahasiaWarga123").status_code == 404
    assert client.get("/tidak-ada/sama-sekali").status_code == 404
    after = scrape(client)

    def moved(**labels) -> float:
        key = "botram_http_requests_total"
        return (value(after, key, **labels) or 0) - (value(before, key, **labels) or 0)

    assert moved(route="/healthz", method="GET", status="200") == 3
    assert moved(route="/status/<token>", method="GET", status="404") == 1
    assert moved(route="<unmatched>", method="GET", status="404") == 1
    assert value(after, "botram_http_request_duration_seconds_count", route="/healthz", method="GET") >= 3
    assert "tokenRahasiaWarga123" not in after and "tidak-ada" not in after


def test_the_queue_figures_come_from_the_database_and_no_citizen_is_named(monitored, client):
    event = make_event()
    desk = make_desk(event, service_codes=["KTP-REKAM"])
    reception = make_user("resepsionis")
    officer = make_user("petugas", agency_code="DISDUKCAPIL")
    service_id = desk.services[0].id
    first = queue.issue_visit(event.id, [service_id], name=NAME, nik=NIK, phone=PHONE, by_user_id=reception.id)
    queue.issue_visit(event.id, [service_id], name="Budi Santoso", nik="3216010101900002", phone="081311112222",
                      by_user_id=reception.id)
    _token, raw_token = issue_token(reception, "kiosk")
    visit = db.session.get(Visit, first.visit.id)
    assert client.get(f"/status/{visit.public_token}").status_code == 200

    text = scrape(client)
    labels = {"event_id": str(event.id), "service": "KTP-REKAM"}
    assert value(text, "botram_people_waiting", **labels) == 2
    assert value(text, "botram_longest_wait_seconds", **labels) >= 0
    assert value(text, "botram_calls_total", event_id=str(event.id)) == 0
    assert value(text, "botram_database_up") == 1

    assert queue.call_next(desk.id, by_user_id=officer.id) is not None
    text = scrape(client)
    assert value(text, "botram_people_waiting", **labels) == 1
    assert value(text, "botram_calls_total", event_id=str(event.id)) == 1
    assert value(text, "botram_calls_per_minute", event_id=str(event.id)) == 1 / metrics.CALL_RATE_MINUTES

    for secret in (NAME, "Siti", NIK, PHONE, "Budi", visit.public_token, visit.code, raw_token):
        assert secret not in text, f"{secret!r} in the scrape"


def test_open_board_streams_are_counted_while_open(monitored, client):
    event = make_event()

    def streams() -> float:
        return value(scrape(client), "botram_open_streams", kind="board") or 0

    before = streams()
    stream = client.get(f"/board/{event.id}/stream", buffered=False)
    assert next(stream.response)  # the greeting: the stream is open now
    assert streams() == before + 1
    stream.close()
    assert streams() == before


def test_unit_of_work_retries_and_failures_are_counted(monitored, client):
    sqlite = db.engine.dialect.name == "sqlite"
    reason = "locked" if sqlite else "conflict"

    def busy() -> OperationalError:
        if sqlite:
            return OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
        from psycopg import errors as pg

        return OperationalError("UPDATE desk", {}, pg.DeadlockDetected("deadlock detected"))

    tries = []

    @unit_of_work(audited=False)
    def busy_once():
        tries.append(1)
        if len(tries) == 1:
            raise busy()

    @unit_of_work(audited=False)
    def always_busy():
        raise busy()

    before = scrape(client)
    busy_once()
    with pytest.raises(OperationalError):
        always_busy()
    after = scrape(client)

    def moved(sample, **labels) -> float:
        return (value(after, sample, **labels) or 0) - (value(before, sample, **labels) or 0)

    assert moved("botram_unit_of_work_retries_total", reason=reason) == 1 + 4  # once, then four before giving up
    assert moved("botram_unit_of_work_failures_total", reason="retries_exhausted") == 1


@pytest.fixture
def scratch_engine(database_url, tmp_path):
    """An empty database of the kind the run uses (a scratch PostgreSQL database, or an SQLite file), where a
    test may create the outbox table the shared test schema does not have."""
    if not database_url.startswith("postgresql"):
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'outbox.sqlite'}")
        yield engine
        engine.dispose()
        return
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    scratch = f"{url.database}_outbox"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{scratch}"')
    engine = sa.create_engine(url.set(database=scratch))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    admin.dispose()


def test_the_outbox_is_counted_by_state_when_it_exists(scratch_engine):
    engine = scratch_engine
    with engine.connect() as conn:
        families = {f.name: f for f in metrics._outbox_figures(conn)}
    assert families["botram_outbox_present"].samples[0].value == 0  # no notification work merged: said so
    assert "botram_notifications" not in families
    with engine.begin() as conn:
        # the columns helper notify's outbox has (botram/models/outbox.py there): status, kind, payload
        sa.Table("outbox", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("kind", sa.String(40)), sa.Column("status", sa.String(10)),
                 sa.Column("payload", sa.Text)).create(conn)
        conn.execute(sa.text("INSERT INTO outbox (kind, status, payload) VALUES ('message.near', 'pending', :p), "
                             "('message.near', 'pending', :p), ('message.called', 'sent', :p), "
                             "('print.ticket', 'sent', :p), ('message.near', 'given_up', :p)"),
                     {"p": f'{{"to": "{PHONE}", "text": "Yth. {NAME}, nomor Anda A-001"}}'})
    with engine.connect() as conn:
        families = {f.name: f for f in metrics._outbox_figures(conn)}
    assert families["botram_outbox_present"].samples[0].value == 1
    found = {(s.labels["state"], s.labels["kind"]): s.value for s in families["botram_notifications"].samples}
    assert found == {("pending", "message"): 2, ("sent", "message"): 1, ("sent", "print"): 1,
                     ("given_up", "message"): 1}


NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:9/botram_nowhere"  # port 9 (discard): nothing answers


def test_a_lost_database_is_counted_and_the_scrape_still_answers(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": NOWHERE, "INSTANCE_PATH": str(tmp_path),
                      "SECRET_KEY": "x", "BOTRAM_METRICS_ADDRESSES": "127.0.0.1",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    client = app.test_client()
    before = value(client.get("/metrics").get_data(as_text=True), "botram_database_unavailable_total",
                   surface="page") or 0
    assert client.get("/board/1").status_code == 503
    text = client.get("/metrics").get_data(as_text=True)
    assert value(text, "botram_database_unavailable_total", surface="page") == before + 1
    assert value(text, "botram_database_up") == 0
    with app.app_context():
        db.engine.dispose()


def test_the_dashboard_and_the_alert_rules_name_only_metrics_that_exist(monitored, client):
    """A renamed metric must not leave an alert that can never fire or an empty dashboard panel."""
    import json
    import re
    from pathlib import Path

    import yaml

    samples = {"botram_notifications"}  # only with an outbox table (test_the_outbox_is_counted_by_state...)
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", scrape(client), re.M):
        samples.update(name.removesuffix("_total") + suffix for suffix in suffixes.get(kind, ("",)))
    docs = Path(__file__).resolve().parents[1] / "docs" / "monitoring"
    rules = yaml.safe_load((docs / "prometheus-alerts.yml").read_text())["groups"][0]["rules"]
    dashboard = json.loads((docs / "grafana-dashboard.json").read_text())
    expressions = [rule["expr"] for rule in rules] + [
        target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    named = {name for expr in expressions for name in re.findall(r"\bbotram_\w+", expr)}
    assert named and named <= samples, named - samples
    assert {"BotramNoCallsWhilePeopleWait", "BotramServerErrors", "BotramDatabaseUnavailable"} <= {
        rule["alert"] for rule in rules}
