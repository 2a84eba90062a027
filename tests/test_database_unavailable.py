"""A lost database is a 503 with Retry-After, never a 500; a write that lost its connection before the commit
is retried once on a fresh connection."""
import pytest
import sqlalchemy as sa

from botram import create_app
from botram.domain import events as event_rules
from botram.domain.uow import DatabaseUnavailable, unit_of_work
from botram.extensions import db
from botram.models import AuditLog, Event

from .conftest import count
from .factories import make_event, make_user

NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:9/botram_nowhere"  # port 9 (discard): nothing answers


@pytest.fixture
def lost(tmp_path):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": NOWHERE, "INSTANCE_PATH": str(tmp_path),
                      "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    return app.test_client()


@pytest.mark.parametrize("path", ["/board/1", "/status/abcdef", "/reception/", "/desk/1"])
def test_pages_answer_503_with_a_page_that_retries(lost, path):
    with lost.session_transaction() as session:  # a desk that was signed in before the database went away
        session["_user_id"], session["sid"] = "1", "raw-session-id"
    response = lost.get(path)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    body = response.get_data(as_text=True)
    assert "Menyambung kembali" in body
    assert 'http-equiv="refresh"' in body


def test_a_sign_in_answers_503_not_500(lost):
    response = lost.post("/login", data={"username": "admin", "password": "rahasia-123"})
    assert response.status_code == 503


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/v1/events"), ("GET", "/api/v1/events/1/board"), ("POST", "/api/v1/events/1/visits"),
    ("POST", "/api/v1/desks/1/call-next"), ("GET", "/api/v1/funding"),
])
def test_the_api_answers_json_503(lost, method, path):
    response = lost.open(path, method=method, json={"services": [1]},
                         headers={"Authorization": "Bearer btr_whatever"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["error"] == "unavailable"


def _terminate_own_connection() -> None:
    """Ask PostgreSQL to end the session's own backend, as a server restart would."""
    pid = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as other:
        other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_a_write_whose_connection_died_before_the_commit_is_retried_once(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("only a server database can lose its connection")
    coordinator_id = make_user("koordinator").id
    event = make_event(status="draft")
    db.session.commit()
    loaded = db.session.get(Event, event.id)  # what a view loads before calling the domain
    _terminate_own_connection()  # the request's connection is now dead; the unit of work finds out
    event_rules.set_running_text(loaded, "Loket 3 buka sampai 17.00", by_user_id=coordinator_id)
    assert db.session.get(Event, event.id).running_text == "Loket 3 buka sampai 17.00"
    assert count(AuditLog, AuditLog.action == "event.running_text") == 1


def test_a_write_that_keeps_losing_its_connection_is_a_clear_error(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("only a server database can lose its connection")
    make_user("koordinator")
    attempts = []

    @unit_of_work
    def doomed():
        attempts.append(1)
        _terminate_own_connection()
        db.session.execute(sa.text("SELECT 1"))

    with pytest.raises(DatabaseUnavailable):
        doomed()
    assert len(attempts) == 2  # the first try and one retry on a fresh connection

