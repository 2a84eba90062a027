"""Log lines BOTRAM writes (the app's own and gunicorn's): never a query string or a status-page token, as text
(the default) or, with BOTRAM_LOG_FORMAT=json, one JSON object per line for the regency's log collector."""
from __future__ import annotations

import json
import logging
import re
import sys
from datetime import datetime, timezone

_QUERY = re.compile(r"\?[^\s'\"]+")
_STATUS_TOKEN = re.compile(r"(/status/)[^\s/?'\"]+")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")

TEXT_FORMAT = "[%(asctime)s] %(levelname)s in %(module)s: %(message)s"


def scrub(text: str) -> str:
    """A log line without query strings (searches by name, ticket codes), status-page tokens or bearer tokens."""
    return _BEARER.sub(r"\1…", _STATUS_TOKEN.sub(r"\1…", _QUERY.sub("?…", text)))


class Scrub(logging.Filter):
    """Scrubs the message once, with its arguments merged in (an argument is where a path usually comes in)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage()), ()
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message and, for an error, its traceback,
    every text scrubbed (a traceback quotes the values it failed on)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    return JsonLines() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def install(logger: logging.Logger, log_format: str, stream=None) -> logging.Handler:
    """Replace `logger`'s handlers by one scrubbed handler in the chosen format (stderr unless `stream`)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(log_format))
    handler.addFilter(Scrub())
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    return handler


def init_app(app) -> None:
    """The app's logger (warnings such as "database unreachable on GET /status/…", errors with tracebacks)."""
    install(app.logger, app.config.get("BOTRAM_LOG_FORMAT", "text"))  # its level stays Flask's (warnings up)
