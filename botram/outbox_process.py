"""The outbox worker as a process of its own beside the server (docs/outbox.md, "The worker").

`botram serve` (and so `botram run`) starts one outbox worker child per server, not per gunicorn worker: the
arbiter starts it once its socket is bound, starts it again if it dies, and stops it when the server stops.
On POSIX the child is a fork of the arbiter, whose app is already built: it sends within milliseconds of
its start (a kiosk's first ticket, a restart), where a fresh `botram outbox run` spent seconds importing;
it is named `botram-outbox` (what `ps -o comm` and /proc/PID/comm show). Windows (no fork) runs the
`botram outbox run` command instead.
A worker thread inside each server process competed with the desks' requests for that process's interpreter
lock (call-next p95 146 ms against 13 ms without, bench/notify.py); in a process of its own it competes for
nothing but a core and the database's writer lock, which it takes only for its short claim and settle units of
work (docs/unit-of-work.md), exactly as a thread did.

Two things a thread had for free are carried across the process boundary:

- **Waking at a commit.** A server process that commits an outbox row writes one byte into a pipe the child
  reads (`outbox.set_wake_pipe`), so a "called" message or a kiosk print leaves at once instead of at the
  next poll. The pipe exists where fork does (the gunicorn workers inherit its write end); elsewhere the child
  polls every second.
- **Dying with the server.** The child checks at every poll that its parent is still the server that started
  it (`--parent-pid`), and on Linux it is also sent SIGTERM the moment that parent dies (PR_SET_PDEATHSIG): a
  server killed with SIGKILL leaves no orphan sending messages.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time

log = logging.getLogger("botram.outbox")

STOP_SECONDS = 15.0  # what a stopping child gets to settle the rows it is sending (one send: apprise's 10 s)
RESTART_AFTER = (1.0, 2.0, 5.0, 15.0, 30.0)  # a child that keeps dying (a database away) is started less often


def _prctl():
    """Looked up before the fork: between fork and exec the child should only make the call."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _dying_with_parent():
    prctl = _prctl()
    if prctl is None:
        return None

    def preexec() -> None:
        # SIGTERM to the child as soon as the thread that started it ends: the server's main thread, which
        # lives as long as the server (PR_SET_PDEATHSIG)
        prctl(1, int(signal.SIGTERM))
    return preexec


NAME = b"botram-outbox"
_ARBITER_SIGNALS = ("SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGCHLD", "SIGTTIN", "SIGTTOU", "SIGUSR1", "SIGUSR2",
                    "SIGWINCH")


class _Forked:
    """A forked child with the few methods of Popen used here. Gunicorn's arbiter reaps every child with
    waitpid(-1): a child it reaped first is simply gone (ECHILD), which is all `poll` needs to know."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = 0
            else:
                if pid == self.pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def _signal(self, sig: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("botram-outbox", timeout)
            time.sleep(0.02)
        return self.returncode


class OutboxChild:
    """One outbox worker process started, watched and stopped by the server's main process. With `app` (and
    fork) a fork running that app's worker; otherwise the `botram outbox run` command. `listeners`: the
    server's sockets, which a forked child closes (it must never hold the port)."""

    def __init__(self, app=None, listeners=(), wake_pipe: bool = True) -> None:
        self.app = app if hasattr(os, "fork") else None
        self.listeners = tuple(listeners)
        self.process = None
        self.starts = 0
        self._failures = 0
        self._next_start = 0.0
        self._started_at = 0.0
        self.wake_read: int | None = None
        self.wake_write: int | None = None
        if wake_pipe and hasattr(os, "fork"):
            self.wake_read, self.wake_write = os.pipe()
            os.set_blocking(self.wake_write, False)  # a child that does not read must never block a commit

    def command(self) -> list[str]:
        argv = [sys.executable, "-m", "botram.cli", "outbox", "run", "--parent-pid", str(os.getpid())]
        if self.wake_read is not None:
            argv += ["--wake-fd", str(self.wake_read)]
        return argv

    def start(self) -> None:
        if self.app is not None:
            self.process = self._fork()
        else:
            self.process = subprocess.Popen(
                self.command(), pass_fds=(self.wake_read,) if self.wake_read is not None else (),
                preexec_fn=_dying_with_parent(), stdin=subprocess.DEVNULL)
        self.starts += 1
        self._started_at = time.monotonic()
        log.info("outbox worker process started (pid %s)", self.process.pid)

    def _fork(self) -> _Forked:
        parent = os.getpid()
        prctl = _prctl()
        pid = os.fork()
        if pid:
            return _Forked(pid)
        code = 0
        try:  # the child: never returns into the arbiter's code
            self._child(parent, prctl)
        except BaseException:  # noqa: BLE001 (logged; the arbiter starts another)
            log.exception("outbox worker process failed")
            code = 1
        finally:
            os._exit(code)

    def _child(self, parent: int, prctl) -> None:
        from .domain import outbox
        from .extensions import db
        from .outbox_worker import Worker, install_senders

        for name in _ARBITER_SIGNALS:  # the arbiter's handlers feed the arbiter's loop, which is not here
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_DFL)
        if prctl is not None:
            prctl(15, NAME)  # PR_SET_NAME: `botram-outbox` in ps and /proc
            prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the server died before the line above: nothing to serve
            return
        for listener in self.listeners:
            listener.close()
        if self.wake_write is not None:
            os.close(self.wake_write)
        outbox.set_wake_pipe(None)  # this process's own commits wake its own loop
        app = self.app
        with app.app_context():  # connections opened before the fork belong to the arbiter
            for engine in db.engines.values():
                engine.dispose(close=False)
        worker = Worker(app)
        install_senders(app, worker)
        signal.signal(signal.SIGTERM, lambda *_: worker.stop())  # settle the send in flight, then end
        signal.signal(signal.SIGINT, lambda *_: worker.stop())
        worker.run(parent_pid=parent, wake_fd=self.wake_read)

    def check(self) -> None:
        """Called from the server's main loop (about once a second): start the child again if it died."""
        if self.process is None or self.process.poll() is None:
            return
        if time.monotonic() - self._started_at > 60:
            self._failures = 0  # it ran a good while: a new death is a new story
        if not self._next_start:
            delay = RESTART_AFTER[min(self._failures, len(RESTART_AFTER) - 1)]
            self._failures += 1
            self._next_start = time.monotonic() + delay
            log.warning("outbox worker process %s ended (code %s); starting another in %.0f s",
                        self.process.pid, self.process.returncode, delay)
        if time.monotonic() >= self._next_start:
            self._next_start = 0.0
            self.start()

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()  # the child finishes the send in flight and settles it
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        for fd in (self.wake_read, self.wake_write):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.wake_read = self.wake_write = None


def parent_gone(parent_pid: int | None) -> bool:
    """The child's own check, at every poll: is the server that started it still its parent?"""
    if not parent_pid:
        return False
    if hasattr(os, "getppid") and os.name != "nt":
        return os.getppid() != parent_pid  # a dead parent's orphans are adopted by init or a subreaper
    return not _windows_process_alive(parent_pid)


def _windows_process_alive(pid: int) -> bool:  # pragma: no cover (Windows only)
    import ctypes

    synchronize, wait_timeout = 0x00100000, 0x102
    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(synchronize, False, pid)
    if not handle:
        return False
    try:
        return kernel32.WaitForSingleObject(handle, 0) == wait_timeout
    finally:
        kernel32.CloseHandle(handle)
