"""`botram serve`: one gunicorn worker per core by default on POSIX, the gunicorn settings that keep board streams alive and logs clean, the
workers' numbers, the log scrubbing. Running servers are tested in tests/e2e/test_serve.py."""
import logging
import sys
from types import SimpleNamespace

import pytest

if sys.platform == "win32":  # pragma: no cover - gunicorn is POSIX-only; waitress serves there
    pytest.skip("gunicorn runs on POSIX only", allow_module_level=True)

from botram import create_app, serving  # noqa: E402
from botram.cli import serve_command  # noqa: E402
from botram.serving_gunicorn import Log, Server, Worker, _number_the_worker, bind_address, scrub  # noqa: E402


@pytest.mark.db_independent
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


def test_streams_get_threads_of_their_own_beside_the_requests(app, monkeypatch):
    """`--threads` stays the requests' count: each stream a process may hold (BOTRAM_STREAMS) adds one."""
    from botram.serving import pool_size

    monkeypatch.setitem(app.config, "BOTRAM_STREAMS", 500)
    assert pool_size(app, 64) == 564
    server = Server(create_app, host="127.0.0.1", port=0, threads=pool_size(app, 64), processes=1)
    assert server.cfg.threads == 564 and server.cfg.worker_connections >= 2 * 564


@pytest.mark.db_independent
def test_bind_address_brackets_ipv6():
    assert bind_address("127.0.0.1", 5000) == "127.0.0.1:5000"
    assert bind_address("::", 0) == "[::]:0"


@pytest.mark.db_independent
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


@pytest.mark.db_independent
def test_the_error_log_is_scrubbed_once_even_after_reloads():
    server = Server(create_app, host="127.0.0.1", port=0, threads=4, processes=2)
    log = Log(server.cfg)
    log.setup(server.cfg)  # a HUP sets the logger up again
    assert log.error_log.filters.count(Log._scrub) == 1
    record = logging.LogRecord("gunicorn.error", logging.ERROR, __file__, 1, "Error handling request %s %s",
                               ("GET", "/admin/users?q=Siti"), None)
    Log._scrub.filter(record)
    assert "Siti" not in record.getMessage()


def test_one_process_per_usable_core_by_default_and_one_where_gunicorn_cannot_run(monkeypatch):
    monkeypatch.setattr(serving.os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert serving.default_processes() == 3
    monkeypatch.setattr(serving.os, "sched_getaffinity", lambda pid: set(range(200)), raising=False)
    assert serving.default_processes() == serving.MAX_PROCESSES  # what --processes accepts
    monkeypatch.setattr(serving, "can_fork", lambda: False)
    assert serving.default_processes() == 1


def test_posix_serves_with_gunicorn_even_in_one_process(monkeypatch):
    """One server on POSIX (issue 20): a single process is a gunicorn worker too, never waitress."""
    import botram.serving_gunicorn as prefork

    called = []
    monkeypatch.setattr(prefork, "serve", lambda app, **options: called.append(options))
    serving.serve(None, host="127.0.0.1", port=0, threads=8, processes=1)
    assert called and called[0]["processes"] == 1 and called[0]["threads"] == 8


@pytest.mark.parametrize("environ, expected", [({}, None), ({"BOTRAM_PROCESSES": "3"}, 3),
                                               ({"BOTRAM_PROCESSES": "0"}, None)])
def test_serve_defaults_to_a_process_per_core_and_keeps_its_options_and_line(app, monkeypatch, environ, expected):
    """`botram serve` keeps its options, variables and "BOTRAM serving on" line (a stable interface)."""
    monkeypatch.delenv("BOTRAM_PROCESSES", raising=False)
    monkeypatch.delenv("BOTRAM_THREADS", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(serving, "default_processes", lambda: 2)
    seen = {}

    def fake_serve(app, *, host, port, threads, processes, announce):
        seen.update(processes=processes, threads=threads)
        announce(5123)

    monkeypatch.setattr(serving, "serve", fake_serve)
    result = app.test_cli_runner().invoke(serve_command, ["--port", "0"])
    assert result.exit_code == 0, result.output
    processes = expected or 2
    assert seen == {"processes": processes, "threads": 64}
    assert f"BOTRAM serving on http://127.0.0.1:5123  (processes={processes}, threads=64 each)" in result.output
