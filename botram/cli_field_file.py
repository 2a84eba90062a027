"""`botram field export` and `botram field import`: an event carried on a USB stick (docs/field-sync.md).

    botram field export EVENT_ID --output F [--device NAME]   (server: lends the event to a laptop)
    botram field export EVENT_ID --output F --checkin         (laptop: the event's day, for the server)
    botram field import F                                     (either side)

The key is the regency's passphrase: BOTRAM_FIELD_KEY, or the first line of --key-file.
"""
from __future__ import annotations

import os
import socket
from pathlib import Path

import click
from flask.cli import with_appcontext

from .cli_field import field


def _key(key_file: str | None) -> str:
    from .domain.field import field_key

    if key_file:
        try:
            lines = Path(key_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise click.ClickException(f"Cannot read the key file: {exc.strerror}") from None
        return lines[0].strip() if lines else ""
    return field_key()


def _write(path: str, data: bytes) -> None:
    """Write beside the target and rename: a stick pulled out mid-copy leaves no half bundle under the name."""
    target = Path(path)
    partial = target.with_name(target.name + ".part")
    try:
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except OSError as exc:
        raise click.ClickException(f"Cannot write {path}: {exc.strerror}") from None


@field.command("export")
@click.argument("event_id", type=int)
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="Bundle file to write.")
@click.option("--device", default=None, help="Server: the laptop's name, shown while the event is out "
                                             "(default: 'laptop lapangan').")
@click.option("--checkin", is_flag=True, help="Laptop: the event's day for the server (default on a laptop "
                                              "that holds the event).")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False), help="File whose first line is the key "
                                                                                "(instead of BOTRAM_FIELD_KEY).")
@with_appcontext
def export_command(event_id: int, output: str, device: str | None, checkin: bool, key_file: str | None) -> None:
    """Write EVENT_ID's bundle: a checkout on the server, a check-in on the laptop that holds it."""
    from .domain import DomainError
    from .domain.field import export_checkin, export_checkout, held_checkout

    key = _key(key_file)
    try:
        if checkin or held_checkout(event_id) is not None:
            data = export_checkin(event_id, key=key)
            kind = "check-in"
        else:
            data = export_checkout(event_id, device=device or "laptop lapangan", key=key)
            kind = "checkout"
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    _write(output, data)
    click.echo(f"Wrote the {kind} bundle of event {event_id} to {output} ({len(data):,} bytes, encrypted).")


@field.command("import")
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False))
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False), help="File whose first line is the key "
                                                                                "(instead of BOTRAM_FIELD_KEY).")
@with_appcontext
def import_command(bundle: str, key_file: str | None) -> None:
    """Apply a bundle (checkout on the laptop, check-in on the server); the same file twice changes nothing."""
    from .domain import DomainError
    from .domain.field import import_bundle

    key = _key(key_file)
    try:
        report = import_bundle(Path(bundle).read_bytes(), key=key)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    if report.unchanged:
        click.echo(f"Nothing new: event {report.event_id} already has everything in {bundle}.")
        return
    new = ", ".join(f"{name} {count}" for name, count in sorted(report.counts.items())) or "none"
    updated = ", ".join(f"{name} {count}" for name, count in sorted(report.updated.items())) or "none"
    click.echo(f"Imported the {report.kind} of event {report.event_id} on {socket.gethostname()}: "
               f"new rows: {new}; updated: {updated}.")
    if report.released:
        click.echo("The laptop closed the event: it is back on the server.")
