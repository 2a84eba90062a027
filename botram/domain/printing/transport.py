"""Bytes to a thermal printer: raw TCP (host:9100, what network ESC/POS printers speak), a USB printer's
device file (the kernel's usblp driver, e.g. /dev/usb/lp0), or a CUPS queue through `lp -o raw`.

A printer that does not answer, refuses, or says its paper ran out raises PrinterProblem with a message in
words for reception and the kiosk; nothing is retried here (a reprint is a person's decision)."""
from __future__ import annotations

import shutil
import socket
import subprocess

from flask_babel import lazy_gettext as _l

from ...models import Printer, PrinterConnection

CONNECT_TIMEOUT = 3.0
STATUS_TIMEOUT = 0.8  # a printer that does not answer the status query is asked nothing more
PAPER_STATUS = b"\x10\x04\x04"  # DLE EOT 4: the roll paper sensor (ESC/POS real-time status)
NO_PAPER = 0x60  # bits 5 and 6 of the answer: paper end


class PrinterProblem(Exception):
    def __init__(self, message):
        super().__init__(str(message))
        self._message = message

    @property
    def message(self) -> str:
        return str(self._message)


def parse_network_target(target: str) -> tuple[str, int]:
    host, _, port = (target or "").strip().rpartition(":")
    if not host:
        return target.strip(), 9100
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(port)
    return host.strip("[]"), int(port)


def send(printer: Printer, data: bytes) -> None:
    if printer.connection == PrinterConnection.NETWORK:
        _send_network(printer.target, data)
    elif printer.connection == PrinterConnection.USB:
        _send_device(printer.target, data)
    elif printer.connection == PrinterConnection.CUPS:
        _send_cups(printer.target, data)
    else:
        raise PrinterProblem(_l("Jenis sambungan printer tidak dikenal."))


def _send_network(target: str, data: bytes) -> None:
    host, port = parse_network_target(target)
    try:
        conn = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT)
    except OSError:
        raise PrinterProblem(_l("Printer tidak menjawab (%(target)s). Periksa daya dan kabel jaringannya.",
                                target=target)) from None
    with conn:
        try:
            conn.sendall(PAPER_STATUS)
            conn.settimeout(STATUS_TIMEOUT)
            try:
                answer = conn.recv(1)
            except socket.timeout:
                answer = b""  # some printers do not answer status queries: print anyway
            if answer and answer[0] & NO_PAPER == NO_PAPER:
                raise PrinterProblem(_l("Kertas printer habis. Ganti gulungan kertas, lalu cetak ulang."))
            conn.settimeout(CONNECT_TIMEOUT)
            conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            raise PrinterProblem(_l("Sambungan ke printer terputus saat mencetak (%(target)s).",
                                    target=target)) from None


def _send_device(path: str, data: bytes) -> None:
    try:
        with open(path, "wb", buffering=0) as device:
            device.write(data)
    except OSError:
        raise PrinterProblem(_l("Printer USB tidak ditemukan atau tidak siap (%(path)s). Periksa kabel, daya "
                                "dan kertasnya.", path=path)) from None


def _send_cups(queue: str, data: bytes) -> None:
    lp = shutil.which("lp")
    if lp is None:
        raise PrinterProblem(_l("CUPS tidak terpasang di komputer server (perintah lp tidak ada)."))
    try:
        done = subprocess.run([lp, "-d", queue, "-o", "raw", "-t", "botram"], input=data,
                              capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        done = None
    if done is None or done.returncode != 0:
        raise PrinterProblem(_l("Antrean CUPS %(queue)s menolak cetakan.", queue=queue))
