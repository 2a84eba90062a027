"""`botram serve --processes N`: the gunicorn settings that keep board streams alive and logs clean, the
workers' numbers, the log scrubbing. Running servers are tested in tests/e2e/test_serve.py."""
import logging
import sys
from types import SimpleNamespace

import pytest

if sys.platform == "win32":  # pragma: no cover - gunicorn is POSIX-only; waitress serves there
    pytest.skip("gunicorn runs on POSIX only", allow_module_level=True)

from botram import create_app  # noqa: E402
from botram.serving_gunicorn import Log, Server, Worker, _number_the_worker, bind_address, scrub  # noqa: E402


def test_the_settings_keep_streams_alive_and_log_no_requests():
    server = Server(create_app, host="::1", port=0, threads=48, processes=3)
    cfg = server.cfg
    assert cfg.worker_class is Worker and cfg.workers == 3 and cfg.threads == 48
    assert cfg.address == [("::1", 0)]
    assert cfg.accesslog is None  # request lines carry status tokens and search terms
    assert cfg.forwarded_allow_ips == []  # proxies are trusted through BOTRAM_PROXY_HOPS only
    assert cfg.preload_app is False  # every worker builds its own app after the fork
    assert cfg.timeout >= 30 and cfg.graceful_timeout >= 30
    assert cfg.control_socket_disable


def test_bind_address_brackets_ipv6():
    assert bind_address("127.0.0.1", 5000) == "127.0.0.1:5000"
    assert bind_address("::", 0) == "[::]:0"


def test_a_replacement_takes_the_number_of_the_worker_it_replaces():
    arbiter = SimpleNamespace(WORKERS={})
    numbered = []
    for pid in (11, 12, 13):
        worker = SimpleNamespace()
        _number_the_worker(arbiter, worker)
        arbiter.WORKERS[pid] = worker
        numbered.append(worker.slot)
    assert numbered == [1, 2, 3]
    del arbiter.WORKERS[12]  # worker 2 died
    replacement = SimpleNamespace()
    _number_the_worker(arbiter, replacement)
    assert replacement.slot == 2


@pytest.mark.parametrize("line, kept, cut", [
    ("Invalid HTTP request line: 'GET /reception/?q=3216014508950001 HTTP/1.1'", "/reception/?", "3216014508950001"),
    ("Error handling request GET /status/Xy3_tokenRahasia", "/status/", "Xy3_tokenRahasia"),
    ("Error handling request GET /status/abc123?v=4", "/status/", "abc123"),
    ("Worker (pid:7) was sent SIGKILL! Perhaps out of memory?", "out of memory?", None),
])
def test_scrub_cuts_query_strings_and_status_tokens(line, kept, cut):
    scrubbed = scrub(line)
    assert kept in scrubbed
    if cut:
        assert cut not in scrubbed


def test_the_error_log_is_scrubbed_once_even_after_reloads():
    server = Server(create_app, host="127.0.0.1", port=0, threads=4, processes=2)
    log = Log(server.cfg)
    log.setup(server.cfg)  # a HUP sets the logger up again
    assert log.error_log.filters.count(Log._scrub) == 1
    record = logging.LogRecord("gunicorn.error", logging.ERROR, __file__, 1, "Error handling request %s %s",
                               ("GET", "/admin/users?q=Siti"), None)
    Log._scrub.filter(record)
    assert "Siti" not in record.getMessage()
