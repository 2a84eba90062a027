"""The `botram` command: a Flask CLI group (init, seed-demo, create-user, create-token, serve, run, backup,
restore, purge-pii)."""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from .extensions import db


def _create_app(*args, **kwargs) -> Flask:
    from . import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """BOTRAM: pop-up one-stop public service days (Kabupaten Bekasi)."""


def _fail(message: str) -> None:
    raise click.ClickException(message)


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database and seed the reference data (agencies, services, regions)."""
    from flask_migrate import upgrade

    from .domain.reference import seed_reference

    upgrade()
    seed_reference()
    from .domain.summaries import refresh_closed_events

    made = refresh_closed_events(only_missing=True)
    if made:
        click.echo(f"Summaries computed for {made} closed events.")
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


@click.command("seed-demo")
@click.option("--password", default=None, help="Password for every demo user (default: printed, random).")
@click.option("--if-empty", is_flag=True, help="Only seed when the database has no event yet.")
@with_appcontext
def seed_demo_command(password: str | None, if_empty: bool) -> None:
    """Seed the demo event, desks and users (admin, koordinator, resepsionis, petugas1-5, keuangan)."""
    import secrets

    from .domain.demo import seed_demo
    from .models import Event, User

    if if_empty and db.session.scalar(sa.select(sa.func.count(Event.id))):
        users = db.session.scalars(sa.select(User).order_by(User.id)).all()
        click.echo("Database already holds events; demo not re-seeded. Existing users:")
        for user in users:
            click.echo(f"  {user.username:<14} {user.role}")
        return
    password = password or secrets.token_urlsafe(9)
    logins = seed_demo(password)
    click.echo("Demo ready: BOTRAM Pasar Bersih Jababeka (today). Logins, all with password "
               f"'{password}':")
    for username, name in logins:
        click.echo(f"  {username:<14} {name}")


@click.command("create-user")
@click.argument("username")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "koordinator", "resepsionis", "petugas", "keuangan"]))
@click.option("--agency", default=None, help="Agency code, required for petugas (e.g. DISDUKCAPIL).")
@click.password_option()
@with_appcontext
def create_user_command(username: str, name: str, role: str, agency: str | None, password: str) -> None:
    """Create a user."""
    from .domain import DomainError
    from .domain.users import create_user
    from .models import Agency

    agency_id = None
    if agency:
        agency_id = db.session.scalar(sa.select(Agency.id).where(Agency.code == agency.upper()))
        if agency_id is None:
            _fail(f"Unknown agency {agency!r}.")
    try:
        create_user(username, name, password, role, agency_id=agency_id)
    except DomainError as exc:
        _fail(exc.message)
    click.echo(f"User {username} ({role}) created.")


@click.command("create-token")
@click.argument("username")
@click.option("--name", default="perangkat", help="What the token is for (e.g. 'kiosk pintu masuk').")
@with_appcontext
def create_token_command(username: str, name: str) -> None:
    """Issue a device token for USERNAME; it is printed once and stored hashed."""
    from .domain import DomainError
    from .domain.tokens import issue_token
    from .models import User

    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        _fail(f"No user {username!r}.")
    try:
        _token, raw = issue_token(user, name)
    except DomainError as exc:
        _fail(exc.message)
    click.echo(raw)


def _default_processes() -> int:
    from .serving import default_processes

    return default_processes()


def _serve_options(command):
    """The options `botram serve` and `botram run` share."""
    for option in reversed((
        click.option("--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), show_default="127.0.0.1"),
        click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), type=int, show_default="5000"),
        click.option("--threads", default=lambda: int(os.environ.get("BOTRAM_THREADS", "64")), type=int,
                     show_default="64", help="Worker threads per process; every open board stream holds one."),
        click.option("--processes",
                     default=lambda: int(os.environ.get("BOTRAM_PROCESSES", "0")) or _default_processes(),
                     type=click.IntRange(1, 64), show_default="one per CPU core (POSIX), 1 on Windows",
                     help="Server processes sharing the port (POSIX, gunicorn); one per CPU core serves desks "
                          "fastest."),
    )):
        command = option(command)
    return command


@click.command("serve")
@_serve_options
@with_appcontext
def serve_command(host: str, port: int, threads: int, processes: int) -> None:
    """Serve BOTRAM with a production WSGI server: gunicorn on POSIX, one worker process per CPU core by
    default (SIGHUP restarts the workers gracefully, SIGTERM or Ctrl-C stops them); waitress on Windows."""
    from .serving import can_fork, serve

    if processes > 1 and not can_fork():
        _fail("--processes above 1 needs a POSIX system (fork); use --processes 1 here.")
    app = current_app._get_current_object()

    def announce(bound: int) -> None:  # the bound port: `--port 0` lets the system choose one
        click.echo(f"BOTRAM serving on http://{host}:{bound}  (processes={processes}, threads={threads} each)")
        sys.stdout.flush()

    serve(app, host=host, port=port, threads=threads, processes=processes, announce=announce)


@click.command("run")
@_serve_options
@click.option("--password", envvar="DEMO_PASSWORD", default="botram-demo", show_default=True,
              help="Password of every demo user, when the demo is seeded (an empty database only).")
@click.pass_context
@with_appcontext
def run_command(ctx: click.Context, host: str, port: int, threads: int, processes: int, password: str) -> None:
    """Everything a laptop needs in one command, on Linux, macOS and Windows alike: create or upgrade the
    database, seed the demo if it holds no event yet, print the logins, and serve (what `make run` does)."""
    ctx.invoke(init_command)
    ctx.invoke(seed_demo_command, password=password, if_empty=True)
    click.echo(f"Demo password (unless changed): {password}")
    if port:  # with --port 0 the system picks it; the serving line below names it
        click.echo(f"Open http://{host}:{port}/login")
    ctx.invoke(serve_command, host=host, port=port, threads=threads, processes=processes)


@click.command("backup")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Target file (default: instance/backups/botram-<UTC time>.sqlite or .dump).")
@with_appcontext
def backup_command(output: Path | None) -> None:
    """Back up the database while the app runs (SQLite online backup; PostgreSQL through pg_dump)."""
    url = db.engine.url
    stamp = datetime.utcnow().strftime("%Y%m%d-%H%M%S")
    folder = Path(current_app.instance_path) / "backups"
    if url.get_backend_name() == "sqlite":
        target = output or folder / f"botram-{stamp}.sqlite"
        target.parent.mkdir(parents=True, exist_ok=True)
        source = sqlite3.connect(url.database)
        destination = sqlite3.connect(target)
        with destination:
            source.backup(destination)  # consistent copy even while desks are writing
        destination.close()
        source.close()
        click.echo(f"Backup written: {target}")
        click.echo(f"Restore: stop the server, then copy it over {url.database}.")
        return
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        _fail("pg_dump not found. Install the PostgreSQL client (apt-get install postgresql-client) "
              "or run: pg_dump --format=custom --file=botram.dump <database URL>")
    target = output or folder / f"botram-{stamp}.dump"
    target.parent.mkdir(parents=True, exist_ok=True)
    plain_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    result = subprocess.run([pg_dump, "--format=custom", f"--file={target}", plain_url],
                            capture_output=True, text=True)
    if result.returncode != 0:
        _fail(f"pg_dump failed: {result.stderr.strip()}")
    click.echo(f"Backup written: {target}")
    click.echo("Restore: pg_restore --clean --if-exists --dbname <database URL> " + str(target))


@click.command("restore")
@click.argument("backup", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm: the database is replaced by the backup.")
@with_appcontext
def restore_command(backup: Path, yes: bool) -> None:
    """Replace the database with a file made by `botram backup`. Stop the server first."""
    if not yes:
        _fail("Restoring replaces every row of the database. Stop the server, then run again with --yes.")
    url = db.engine.url
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        try:
            with sqlite3.connect(backup) as probe:
                found = probe.execute("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
            probe.close()
        except sqlite3.DatabaseError:
            found = (0,)
        if found[0] != 1:
            _fail(f"{backup} is not a BOTRAM SQLite backup.")
        source = sqlite3.connect(backup)
        destination = sqlite3.connect(url.database)
        with destination:
            source.backup(destination)
        destination.close()
        source.close()
        click.echo(f"Restored {backup} into {url.database}.")
        _after_restore()
        return
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        _fail("pg_restore not found. Install the PostgreSQL client (apt-get install postgresql-client).")
    plain_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    result = subprocess.run([pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction",
                             f"--dbname={plain_url}", str(backup)], capture_output=True, text=True)
    if result.returncode != 0:
        _fail(f"pg_restore failed: {result.stderr.strip()}")
    click.echo(f"Restored {backup} into {url.render_as_string(hide_password=True)}.")
    _after_restore()


def _after_restore() -> None:
    """A backup may come from an older version (upgrade it) and its event summaries may be older than its data
    or missing: every closed event's summary is computed again from the restored rows."""
    from flask_migrate import upgrade

    from .domain.summaries import refresh_closed_events

    upgrade()
    click.echo(f"Summaries computed again for {refresh_closed_events()} closed events.")


@click.command("refresh-summaries")
@with_appcontext
def refresh_summaries_command() -> None:
    """Compute the summary of every closed event again (after data was loaded outside the app)."""
    from .domain.summaries import refresh_closed_events

    click.echo(f"Summaries computed for {refresh_closed_events()} closed events.")


@click.command("purge-pii")
@click.option("--older-than", "older_than", default="90d", show_default=True,
              help="Age of closed events whose personal data goes: 90d (days) or 13w (weeks).")
@click.option("--dry-run", is_flag=True, help="Only count what would be removed.")
@with_appcontext
def purge_pii_command(older_than: str, dry_run: bool) -> None:
    """Remove names, NIK and phone numbers of closed events older than --older-than; statistics stay."""
    from .domain import DomainError
    from .domain.privacy import parse_age, purge_pii

    try:
        result = purge_pii(parse_age(older_than), dry_run=dry_run)
    except DomainError as exc:
        _fail(exc.message)
    if dry_run:
        click.echo(f"Would clear personal data of {result.visits} visits ({result.notes} step notes, "
                   f"{result.comments} survey comments redacted, {result.bookings} bookings) "
                   f"in {result.events} closed events.")
        return
    click.echo(f"Cleared personal data of {result.visits} visits ({result.notes} step notes, "
               f"{result.comments} survey comments redacted, {result.bookings} bookings) "
               f"in {result.events} closed events older than {older_than}.")


@click.group("outbox")
def outbox_group() -> None:
    """The outbox of messages and prints (docs/outbox.md)."""


@outbox_group.command("run")
@click.option("--once", is_flag=True, help="Send what is due now, then stop.")
@click.option("--parent-pid", type=int, default=None, hidden=True,
              help="Stop when this process (the server that started this worker) is gone.")
@click.option("--wake-fd", type=int, default=None, hidden=True,
              help="A pipe the server's processes write to when they commit an outbox row.")
@with_appcontext
def outbox_run_command(once: bool, parent_pid: int | None, wake_fd: int | None) -> None:
    """Send what the outbox holds, until stopped (`botram serve` starts one itself unless BOTRAM_OUTBOX_WORKER=0)."""
    import signal

    from flask import current_app

    from .outbox_worker import Worker, install_senders

    app = current_app._get_current_object()
    worker = Worker(app)
    install_senders(app, worker)
    if once:
        click.echo(f"Claimed {worker.run_once()} rows.")
        return
    # TERM (the server stopping it) ends the loop after the send in flight is settled: nothing left claimed
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    if parent_pid is None:
        click.echo("Outbox worker running; Ctrl-C stops it (claimed rows are retried by the next worker).")
    try:
        worker.run(parent_pid=parent_pid, wake_fd=wake_fd)
    except KeyboardInterrupt:
        pass


@outbox_group.command("status")
@with_appcontext
def outbox_status_command() -> None:
    """Rows pending, failing and given up: what the admin page warns about."""
    from .domain.outbox import health

    state = health()
    click.echo(f"pending {state.pending}, failing {state.failing}, given up in the last hour "
               f"{state.given_up_recently}" + (f"; last error: {state.last_error}" if state.last_error else ""))


COMMANDS = (outbox_group, init_command, seed_demo_command, create_user_command, create_token_command, serve_command,
            backup_command, restore_command, purge_pii_command, refresh_summaries_command)


def _field_group() -> click.Group:
    from .cli_field import field

    return field


# Flask's own `run` (its development server) would otherwise answer `botram run`: ours replaces it on `botram`.
main.add_command(run_command)


def init_app(app: Flask) -> None:
    """Put the commands on the app's CLI group, where both `botram` and `flask --app botram` find them."""
    for command in (*COMMANDS, _field_group()):
        app.cli.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
