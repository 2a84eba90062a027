"""Shared by the benchmarks: a fresh database, a served app (`botram serve`) and HTTP helpers.

Benchmarks print figures; they assert nothing about speed (that belongs in the README, not in tests).
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOTRAM = str(Path(sys.executable).with_name("botram"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(url: str | None) -> tuple[str, str]:
    """A database URL to use and the instance folder: a new SQLite file, or the given PostgreSQL database
    emptied first."""
    workdir = tempfile.mkdtemp(prefix="botram-bench-")
    if not url:
        return f"sqlite:///{workdir}/bench.sqlite", workdir
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')
    return url, workdir


def env_for(url: str, workdir: str) -> dict:
    env = dict(os.environ)
    env.update(BOTRAM_DATABASE_URL=url, BOTRAM_INSTANCE_PATH=f"{workdir}/instance", BOTRAM_SECRET_KEY="bench")
    return env


def botram(env: dict, *args: str) -> str:
    return subprocess.run([BOTRAM, *args], env=env, check=True, capture_output=True, text=True).stdout


def demo_database(url: str | None, password: str = "bench-sandi-1", **settings: str) -> tuple[str, dict]:
    """A fresh database (see fresh_database) migrated and holding the demo event, its users signing in with
    `password`; the URL and the environment a `botram` command or server runs with (`settings`: BOTRAM_*
    variables of this bench)."""
    url, workdir = fresh_database(url)
    env = env_for(url, workdir)
    env.update(settings)
    botram(env, "init")
    botram(env, "seed-demo", "--password", password)
    return url, env


class Server:
    def __init__(self, env: dict, threads: int | None = 64, processes: int | None = 1):
        """`None` leaves the option to `botram serve`'s own default."""
        self.env = env
        self.port = free_port()
        self.threads = threads
        self.processes = processes
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        self.log_path = Path(self.env["BOTRAM_INSTANCE_PATH"]).parent / "server.log"
        self.process = subprocess.Popen(
            [BOTRAM, "serve", "--host", "127.0.0.1", "--port", str(self.port),
             *(["--threads", str(self.threads)] if self.threads is not None else []),
             *(["--processes", str(self.processes)] if self.processes is not None else [])],
            env=self.env, stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120  # a loaded machine takes its time to import and fork
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login", timeout=1)
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(60)  # gunicorn lets its workers finish first

    def pids(self) -> list[int]:
        """The server process and its workers (`--processes`), read from Linux /proc."""
        found = [self.process.pid]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def worker_pids(self) -> list[int]:
        """The request processes only: without the server's outbox process (botram/outbox_process.py)."""
        found = []
        for pid in self.pids()[1:]:
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() != "botram-outbox":
                    found.append(pid)
            except OSError:
                continue
        return found

    def cpu_seconds(self) -> float:
        """User + system CPU time the server's processes have used so far."""
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def memory_mb(self) -> dict[str, float]:
        """What the summed RSS double-counts, apart: the request workers' own RSS (the biggest of them), and
        the proportional set size of all the server's processes together (pages the forked processes still
        share with the arbiter counted once, split between them), from Linux /proc/<pid>/smaps_rollup."""
        worker = pss = 0
        workers = set(self.worker_pids())
        for pid in self.pids():
            try:
                fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text()
                              .splitlines()[1:] if ":" in line)
            except OSError:
                continue
            pss += int(fields["Pss"].split()[0])
            if pid in workers:
                worker = max(worker, int(fields["Rss"].split()[0]))
        return {"worker": worker / 1024, "pss": pss / 1024}

    def rss_mb(self) -> float:
        """Resident memory of the server's processes together."""
        total = 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total / 1024


class Client:
    """One keep-alive HTTP connection, like a desk's laptop or a device."""

    def __init__(self, port: int, token: str | None = None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None, float]:
        started = time.perf_counter()
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=self.headers)
        response = self.conn.getresponse()
        raw = response.read()
        elapsed = time.perf_counter() - started
        data = json.loads(raw) if raw and response.headers.get("Content-Type", "").startswith("application/json") else None
        return response.status, data, elapsed


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def describe(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"n={len(ms)} p50={percentile(ms, 50):.1f} ms p95={percentile(ms, 95):.1f} ms "
            f"p99={percentile(ms, 99):.1f} ms max={max(ms) if ms else float('nan'):.1f} ms")
