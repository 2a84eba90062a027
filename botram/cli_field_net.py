"""`botram field pull` and `botram field push`: the laptop's side of field sync over the network
(docs/field-sync.md), through the documented API (blueprints/api/field_routes.py) with a device token.

Built for a mobile connection in a village hall: every transfer is resumable. A download continues with
`Range` from the bytes already on disk (also after the command itself was interrupted: the partial file is
kept under the instance folder); an upload goes in 1 MB chunks, and after a dropped connection the laptop
asks the server how much arrived and continues from there. A dropped connection or a busy server (502, 503,
504) is retried with growing pauses; a refusal (a wrong token, an event held by another laptop) is not.

The standard library's urllib is enough for this: no runtime dependency is added for it.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import click
from flask import current_app
from flask.cli import with_appcontext

from .cli_field import field
from .field_transfer import CHUNK_BYTES

RETRIES = 8
"""Attempts in a row without progress before giving up (pauses 0.5, 1, 2, 4, 8, 15, 15 s: about a minute)."""
TIMEOUT = 30
READ_BLOCK = 64 * 1024
RETRY_STATUSES = (502, 503, 504)
CONNECTION_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, socket.timeout,
                     TimeoutError)


class Refused(click.ClickException):
    """The server said no (4xx): retrying would not help."""


class Unreachable(click.ClickException):
    """The server could not be reached after every retry."""


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body or b"null")


def _pause(attempt: int, retry_after: str | None = None) -> float:
    if retry_after and retry_after.isdigit():
        return min(int(retry_after), 30)
    return min(0.5 * 2 ** (attempt - 1), 15) * random.uniform(0.8, 1.2)


class Server:
    """The regency server's API, with a device token; retries what a weak connection breaks."""

    def __init__(self, url: str, token: str, *, retries: int = RETRIES, sleep: Callable[[float], None] = time.sleep):
        self.base = url.rstrip("/")
        if not self.base.startswith(("http://", "https://")):
            self.base = "http://" + self.base
        self.token = token
        self.retries = retries
        self.sleep = sleep

    def _request(self, method: str, path: str, body: bytes | None, headers: dict | None):
        all_headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                       "User-Agent": "botram-field", **(headers or {})}
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=all_headers)
        return urllib.request.urlopen(request, timeout=TIMEOUT)

    def open(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """The open response (for streaming), retrying until it is opened; 4xx raises `Refused`."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._request(method, path, body, headers)
            except urllib.error.HTTPError as exc:
                raw = exc.read()
                if exc.code in RETRY_STATUSES and attempt < self.retries:
                    self.wait(attempt, f"server busy ({exc.code})", exc.headers.get("Retry-After"))
                    continue
                raise Refused(_refusal(exc.code, raw)) from None
            except CONNECTION_ERRORS as exc:
                if attempt >= self.retries:
                    raise Unreachable(f"Cannot reach {self.base}: {_reason(exc)}") from None
                self.wait(attempt, _reason(exc))

    def call(self, method: str, path: str, payload: dict | None = None, *, body: bytes | None = None,
             headers: dict | None = None) -> Answer:
        """One whole request and its whole answer, retried as a unit (for small JSON calls and chunks)."""
        if payload is not None:
            body = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        attempt = 0
        while True:
            attempt += 1
            response = self.open(method, path, body, headers)
            try:
                with response:
                    return Answer(response.status, response.headers, response.read())
            except CONNECTION_ERRORS as exc:  # cut while reading the answer
                if attempt >= self.retries:
                    raise Unreachable(f"Cannot reach {self.base}: {_reason(exc)}") from None
                self.wait(attempt, _reason(exc))

    def wait(self, attempt: int, why: str, retry_after: str | None = None) -> None:
        pause = _pause(attempt, retry_after)
        click.echo(f"\n  connection problem ({why}); retry {attempt}/{self.retries - 1} in {pause:.1f} s", err=True)
        self.sleep(pause)


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or exc) or type(exc).__name__


def _refusal(status: int, raw: bytes) -> str:
    try:
        body = json.loads(raw)
        detail, where = body.get("detail"), body.get("field")
    except (ValueError, AttributeError):
        detail, where = raw[:200].decode("utf-8", "replace"), None
    if status == 401:
        detail = f"{detail} (check --token: a device token of a koordinator, `botram create-token USERNAME`)"
    return f"The server refused ({status}): {detail}" + (f" [{where}]" if where else "")


# ------------------------------------------------------------------------------------------------ laptop state


def _field_dir() -> Path:
    path = Path(current_app.instance_path) / "field"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pulled_path() -> Path:
    return _field_dir() / "pulled.json"


def _pulled() -> dict:
    try:
        return json.loads(_pulled_path().read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _remember_pull(event_id: int, server: str, device: str, *, server_event_id: int) -> None:
    pulled = _pulled()
    pulled[str(event_id)] = {"server": server, "device": device, "server_event_id": server_event_id,
                             "pulled_at": time.time()}
    _pulled_path().write_text(json.dumps(pulled, indent=2, sort_keys=True))


def _key() -> str:
    key = current_app.config.get("BOTRAM_FIELD_KEY")
    if not key:
        raise click.ClickException("BOTRAM_FIELD_KEY is not set on this laptop: set the passphrase the regency "
                                   "server uses (docs/field-sync.md).")
    return key


def _report_lines(report: dict) -> list[str]:
    counts = ", ".join(f"{name} {count}" for name, count in sorted(report.get("counts", {}).items()))
    state = "nothing new (already there)" if report.get("unchanged") else "imported"
    return [f"event {report.get('event_id')} ({report.get('kind')}): {state}", f"  {counts or 'no rows'}"]


# ------------------------------------------------------------------------------------------------ transfers


def download(server: Server, bundle: dict, target: Path) -> bytes:
    """The bundle's bytes, continuing from `target` (a partial file) with Range; verified by sha256."""
    size, expected = bundle["size"], bundle["sha256"]
    have = target.stat().st_size if target.exists() else 0
    if have > size:
        target.unlink()
        have = 0
    failures = 0
    with click.progressbar(length=size, label=f"Downloading event {bundle['event_id']}", show_pos=True,
                           show_percent=True) as bar:
        bar.update(have)
        while have < size:
            headers = {"Range": f"bytes={have}-", "If-Range": f'"{expected}"'} if have else {}
            response = server.open("GET", urllib.parse.urlsplit(bundle["url"]).path, headers=headers)
            if have and response.status != 206:  # the server sent it all again: start over
                target.unlink(missing_ok=True)
                bar.update(-have)
                have = 0
            try:
                with response, open(target, "ab") as out:
                    while True:
                        # read1: what has arrived, so a cut keeps every byte that came before it
                        block = response.read1(READ_BLOCK)
                        if not block:
                            break
                        out.write(block)
                        have += len(block)
                        bar.update(len(block))
                        failures = 0
            except CONNECTION_ERRORS as exc:
                failures += 1
                if failures >= server.retries:
                    raise Unreachable(f"Download cut {failures} times in a row ({_reason(exc)}); run the "
                                      f"same command again to continue from byte {have}.") from None
                server.wait(failures, _reason(exc))
                continue
            if have < size:  # the answer ended early without an error: continue from where it stopped
                failures += 1
                if failures >= server.retries:
                    raise Unreachable(f"Download keeps ending early; run the same command again to continue "
                                      f"from byte {have}.")
                server.wait(failures, "answer ended early")
    data = target.read_bytes()
    if hashlib.sha256(data).hexdigest() != expected:
        target.unlink()
        raise click.ClickException("The downloaded bundle does not match its sha256 (damaged on the way); "
                                   "it was discarded: run the same command again.")
    return data


def upload(server: Server, data: bytes, *, chunk: int = CHUNK_BYTES) -> dict:
    """Send `data` in chunks with Content-Range, resuming after a cut; returns the upload as the server has it."""
    digest = hashlib.sha256(data).hexdigest()
    upload_state = server.call("POST", "/api/v1/field/uploads", {"size": len(data), "sha256": digest}).json()
    upload_id, sent = upload_state["id"], upload_state["received"]
    failures = 0
    with click.progressbar(length=len(data), label="Uploading check-in", show_pos=True, show_percent=True) as bar:
        bar.update(sent)
        while sent < len(data):
            end = min(sent + chunk, len(data)) - 1
            headers = {"Content-Type": "application/octet-stream",
                       "Content-Range": f"bytes {sent}-{end}/{len(data)}"}
            try:
                response = server._request("PUT", f"/api/v1/field/uploads/{upload_id}", data[sent:end + 1], headers)
                with response:
                    received = json.loads(response.read())["received"]
            except urllib.error.HTTPError as exc:
                raw = exc.read()
                if exc.code == 409 or exc.code in RETRY_STATUSES:  # a gap, or busy: ask where to continue
                    failures += 1
                    if failures >= server.retries:
                        raise Refused(_refusal(exc.code, raw)) from None
                    if exc.code != 409:
                        server.wait(failures, f"server busy ({exc.code})", exc.headers.get("Retry-After"))
                    received = _received(server, upload_id)
                else:
                    raise Refused(_refusal(exc.code, raw)) from None
            except CONNECTION_ERRORS as exc:
                failures += 1
                if failures >= server.retries:
                    raise Unreachable(f"Upload cut {failures} times in a row ({_reason(exc)}); run the same "
                                      f"command again to continue.") from None
                server.wait(failures, _reason(exc))
                received = _received(server, upload_id)
            else:
                failures = 0
            bar.update(received - sent)
            sent = received
    return upload_state | {"received": sent}


def _received(server: Server, upload_id: str) -> int:
    return server.call("GET", f"/api/v1/field/uploads/{upload_id}").json()["received"]


# ------------------------------------------------------------------------------------------------ commands

_server_option = click.option("--server", required=True, envvar="BOTRAM_FIELD_SERVER",
                              help="The regency server, e.g. https://botram.bekasikab.go.id")
_token_option = click.option("--token", required=True, envvar="BOTRAM_FIELD_TOKEN",
                             help="A koordinator's device token on that server (botram create-token).")


@field.command("pull")
@_server_option
@_token_option
@click.option("--event", "event_id", type=click.IntRange(min=1), required=True, help="The event's id on the server.")
@click.option("--device", default=socket.gethostname, show_default="this computer's name",
              help="The name the server shows while this laptop holds the event.")
@with_appcontext
def pull_command(server: str, token: str, event_id: int, device: str) -> None:
    """Check EVENT out from the regency server to this laptop and import it here."""
    from .domain import DomainError
    from .domain.field import import_bundle

    key = _key()
    remote = Server(server, token)
    bundle = remote.call("POST", f"/api/v1/events/{event_id}/checkout", {"device": device}).json()
    click.echo(f"Event {event_id} is checked out to {bundle['device']} ({bundle['size']} bytes).")
    target = _field_dir() / f"pull-{bundle['id']}.part"
    data = download(remote, bundle, target)
    try:
        report = import_bundle(data, key=key)
    except DomainError as exc:
        raise click.ClickException(f"Import refused: {exc.message}") from None
    target.unlink(missing_ok=True)
    # The event's id on this laptop may differ from the server's: push is given the laptop's.
    _remember_pull(report.event_id, remote.base, device, server_event_id=event_id)
    from .blueprints.field.sync import report_json

    for line in _report_lines(report_json(report)):
        click.echo(line)
    click.echo(f"Ready: serve the day with `botram serve`; bring it back with "
               f"`botram field push --server {remote.base} --token ...`.")


@field.command("push")
@_server_option
@_token_option
@click.option("--event", "event_id", type=click.IntRange(min=1), default=None,
              help="The event to check in, its id on this laptop (default: the one pulled from this server).")
@click.option("--chunk-size", type=click.IntRange(1024, 3 * 1024 * 1024), default=CHUNK_BYTES, hidden=True,
              help="Bytes per upload request (below the server's 4 MB limit).")
@with_appcontext
def push_command(server: str, token: str, event_id: int | None, chunk_size: int) -> None:
    """Send what this laptop recorded for an event to the regency server (again later: only what is new)."""
    from .domain import DomainError
    from .domain.field import export_checkin

    key = _key()
    remote = Server(server, token)
    if event_id is None:
        event_id = _pulled_event(remote.base)
    try:
        data = export_checkin(event_id, key=key)
    except DomainError as exc:
        raise click.ClickException(f"Export refused: {exc.message}") from None
    state = upload(remote, data, chunk=chunk_size)
    result = remote.call("POST", f"/api/v1/field/uploads/{state['id']}/import").json()
    for line in _report_lines(result["report"] or {}):
        click.echo(line)


def _pulled_event(base: str) -> int:
    pulled = [int(event) for event, info in _pulled().items() if info.get("server") == base]
    if len(pulled) == 1:
        return pulled[0]
    if not pulled:
        raise click.UsageError(f"No event was pulled from {base} on this laptop: give --event.")
    raise click.UsageError(f"Several events were pulled from {base} ({', '.join(map(str, sorted(pulled)))}): "
                           f"give --event.")
