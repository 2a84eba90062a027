"""Import time of a 1,000-visit check-in bundle on the regency server (target under 10 s).

    .venv/bin/python bench/field_import.py [--visits 1000] [--server-url postgresql+psycopg://postgres@127.0.0.1:5432/botram_field_bench]

A laptop (SQLite, temporary) serves the visits through the domain, exactly as tests/test_field_sync.py does
(it reuses that test's helpers), then the server imports the check-in once (all new rows) and again (nothing
new). Prints the bundle size, export time and both import times. The server database is emptied first.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

from tests import field_sync_helpers as h  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--server-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/botram_field_bench")
    args = parser.parse_args()

    import psycopg
    from sqlalchemy.engine import make_url

    from botram.domain.field import export_checkin, export_checkout, import_bundle

    url = make_url(args.server_url)
    if url.get_backend_name() == "postgresql":
        admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{url.database}"')
    work = Path(tempfile.mkdtemp(prefix="botram-field-bench-"))
    server = h.make_install(args.server_url, str(work / "server"))
    laptop = h.make_install(f"sqlite:///{work / 'laptop.sqlite'}", str(work / "laptop"))
    with h.on(server):
        server_event = h.prepare_event()
        checkout = export_checkout(server_event, device="LAPTOP-BENCH", key=h.KEY)
    with h.on(laptop):
        laptop_event = import_bundle(checkout, key=h.KEY).event_id
        started = time.perf_counter()
        h.serve(laptop_event, args.visits, random.Random(1))
        served = time.perf_counter() - started
        started = time.perf_counter()
        bundle = export_checkin(laptop_event, key=h.KEY)
        exported = time.perf_counter() - started
    timings = []
    with h.on(server):
        for _ in range(2):
            started = time.perf_counter()
            report = import_bundle(bundle, key=h.KEY)
            timings.append((time.perf_counter() - started, report))
    first, again = timings
    print(f"server: {url.get_backend_name()}, laptop: sqlite; {args.visits} visits served in {served:.1f} s")
    print(f"check-in bundle: {len(bundle) / 1024:.0f} KiB, exported in {exported:.2f} s")
    print(f"import (new rows {sum(first[1].counts.values()):,}: {first[1].counts}): {first[0]:.2f} s")
    print(f"import again (unchanged={again[1].unchanged}): {again[0]:.2f} s")


if __name__ == "__main__":
    main()
