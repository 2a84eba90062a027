"""`botram ...` commands and seed scripts for the browser tests, started as forks of a process that has
already imported BOTRAM and its libraries.

A fresh `botram serve` spent about two CPU-seconds importing Flask, SQLAlchemy, psycopg, Babel and the
blueprints before it served anything; the browser tests start over a hundred servers and helper commands a
pass. Each one here is still a process of its own, with its own environment, database connection pool and
app (made by the command as `botram` makes it); only the imports are done once, in multiprocessing's fork
server, before any app or connection exists. tests/e2e/test_serve.py keeps the real executable (the command
itself is what it checks).
"""
from __future__ import annotations

import multiprocessing
import os
import sys

# Imported here so the fork server holds them (it preloads this module); nothing runs at import but imports.
import botram.cli  # noqa: F401
import botram.models  # noqa: F401
import botram.serving  # noqa: F401
import flask  # noqa: F401
import sqlalchemy  # noqa: F401
from botram import BLUEPRINTS

for _name in BLUEPRINTS:
    __import__(f"botram.blueprints.{_name}")
for _name in ("waitress", "gunicorn.app.base", "psycopg", "openpyxl", "xlsxwriter", "segno", "flask_migrate",
              "alembic.command"):
    try:
        __import__(_name)
    except ImportError:  # an optional driver: the command imports it itself if it needs it
        pass

_CONTEXT = None


def _context():
    global _CONTEXT
    if _CONTEXT is None:
        _CONTEXT = multiprocessing.get_context("forkserver")
        _CONTEXT.set_forkserver_preload([__name__])
    return _CONTEXT


def _child(kind: str, argv: list[str], env: dict, output: str, errors: str) -> None:
    """In the fork: the environment, stdout into `output` and stderr into `errors` (the same file for a
    server's log), then the command as its executable runs it."""
    os.environ.clear()
    os.environ.update(env)
    for target, path in ((1, output), (2, errors)):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, target)
        os.close(fd)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # line-buffered: the port line is read at once
    sys.stderr = open(2, "w", buffering=1, closefd=False)
    stdin = os.open(os.devnull, os.O_RDONLY)
    os.dup2(stdin, 0)
    if kind == "botram":
        sys.argv = ["botram", *argv]
        botram.cli.main()
    else:  # a Python script given as text, as `python -c script args...`
        sys.argv = ["-c", *argv[1:]]
        exec(compile(argv[0], "<script>", "exec"), {"__name__": "__main__"})


class Forked:
    """The subprocess.Popen calls the tests use (pid, poll, wait, send_signal, terminate, kill, returncode)."""

    def __init__(self, kind: str, argv: list[str], env: dict, output: str, errors: str | None = None):
        self._process = _context().Process(target=_child, daemon=False,
                                           args=(kind, list(argv), dict(env), str(output), str(errors or output)))
        self._process.start()
        self.pid = self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            import subprocess

            raise subprocess.TimeoutExpired(f"forked {self.pid}", timeout)
        return self._process.exitcode

    def send_signal(self, signum: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self._process.terminate()

    def kill(self) -> None:
        self._process.kill()


def run(kind: str, argv: list[str], env: dict, output: str, timeout: float = 300) -> tuple[int, str, str]:
    """Run to the end: (exit code, stdout, stderr)."""
    errors = output + ".err"
    process = Forked(kind, argv, env, output, errors)
    try:
        code = process.wait(timeout)
    except BaseException:
        process.kill()
        raise
    printed = []
    for path in (output, errors):
        with open(path, "a+", encoding="utf-8", errors="replace") as stream:
            stream.seek(0)
            printed.append(stream.read())
    return code, printed[0], printed[1]


def stop() -> None:
    """Stop the fork server and reap it, so the CPU time of everything it forked is counted in this
    process's children (what `/usr/bin/time make test` reports)."""
    if _CONTEXT is not None:
        from multiprocessing import forkserver

        forkserver._forkserver._stop()
