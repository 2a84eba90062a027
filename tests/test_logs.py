"""BOTRAM_LOG_FORMAT=json: one JSON object per line, from the app's logger and gunicorn's alike, scrubbed of
query strings, status-page tokens and bearer tokens as the text lines are. (A served worker's log in JSON:
tests/e2e/test_metrics_served.py.)"""
from __future__ import annotations

import json
import logging
import sys

import pytest

from botram import create_app
from botram.extensions import db
from botram.logs import JsonLines, scrub

NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:9/botram_nowhere"  # port 9 (discard): nothing answers
TOKEN = "Xy3_tokenRahasiaWarga"


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_line_is_one_json_object_scrubbed_with_its_traceback():
    try:
        raise ValueError(f"bad lookup /reception/?q=3216014508950001 for /status/{TOKEN}")
    except ValueError:
        record = logging.LogRecord("botram", logging.ERROR, __file__, 1, "failed on %s %s with %s",
                                   ("GET", f"/status/{TOKEN}?v=4", "Authorization: Bearer btr_rahasia"),
                                   sys.exc_info())
    line = JsonLines().format(record)
    assert "\n" not in line  # a traceback stays inside its one line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "botram"
    assert entry["time"].endswith("+00:00")
    assert entry["message"].startswith("failed on GET /status/…")
    assert "ValueError" in entry["exception"]
    for secret in (TOKEN, "3216014508950001", "btr_rahasia", "v=4"):
        assert secret not in line


def test_the_apps_own_warnings_in_json(tmp_path, capsys):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": NOWHERE, "INSTANCE_PATH": str(tmp_path),
                      "SECRET_KEY": "x", "BOTRAM_LOG_FORMAT": "json",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    capsys.readouterr()
    assert app.test_client().get(f"/status/{TOKEN}?lang=en").status_code == 503
    entries = json_lines(capsys.readouterr().err)
    assert [e["message"] for e in entries] == ["database unreachable on GET /status/…"]
    assert entries[0]["level"] == "WARNING"
    with app.app_context():
        db.engine.dispose()


def test_text_lines_are_scrubbed_too(tmp_path, capsys):
    """Before, only gunicorn's lines were scrubbed: the app's warning named the status token it failed on."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": NOWHERE, "INSTANCE_PATH": str(tmp_path),
                      "SECRET_KEY": "x", "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 2}}})
    capsys.readouterr()
    assert app.test_client().get(f"/status/{TOKEN}").status_code == 503
    err = capsys.readouterr().err
    assert "database unreachable on GET /status/…" in err and TOKEN not in err
    with app.app_context():
        db.engine.dispose()


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn runs on POSIX only")
def test_gunicorn_lines_in_json(monkeypatch, capsys):
    from botram.serving_gunicorn import Log, Server

    monkeypatch.setenv("BOTRAM_LOG_FORMAT", "json")
    server = Server(create_app, host="127.0.0.1", port=0, threads=4, processes=1)
    log = Log(server.cfg)
    log.setup(server.cfg)
    capsys.readouterr()
    log.error("Error handling request GET /admin/users?q=Siti")
    log.info("Booting worker with pid: %s", 4242)
    entries = json_lines(capsys.readouterr().err)
    assert [e["message"] for e in entries] == ["Error handling request GET /admin/users?…",
                                               "Booting worker with pid: 4242"]
    assert scrub("Bearer abc") == "Bearer …"
