"""A small ESC/POS reader for tests: what a thermal printer would make of the bytes it received (the lines
of text with their magnification, the QR codes stored with GS ( k, the cuts). Only the commands our
renderer (python-escpos) sends are understood; anything else fails loudly rather than being guessed."""
from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, DLE = 0x1B, 0x1D, 0x10
ESC_THREE = set(b"E!atdM-GJ")  # ESC c n
GS_THREE = set(b"!BbhwHfL")  # GS c n


@dataclass
class Printed:
    lines: list[tuple[str, int]] = field(default_factory=list)  # (text, magnification: 1 normal, 2+ larger)
    qr: list[str] = field(default_factory=list)
    cuts: int = 0

    def text(self) -> str:
        return "\n".join(line for line, _ in self.lines)

    def magnification(self, text: str) -> int:
        return max((size for line, size in self.lines if text in line), default=0)


def read(data: bytes) -> Printed:
    out = Printed()
    i, line, size, line_size = 0, bytearray(), 1, 1
    while i < len(data):
        byte = data[i]
        if byte == ESC:
            command = data[i + 1]
            if command == ord("@"):
                i += 2
            elif command in ESC_THREE:
                if command == ord("!"):
                    mode = data[i + 2]
                    size = 2 if mode & 0x30 else 1
                i += 3
            else:
                raise ValueError(f"unknown ESC {command:#x} at {i}")
        elif byte == GS:
            command = data[i + 1]
            if command == ord("V"):
                out.cuts += 1
                i += 4 if data[i + 2] in (65, 66, 97, 98) else 3
            elif command == ord("("):
                length = data[i + 3] | data[i + 4] << 8
                body = data[i + 5:i + 5 + length]
                if data[i + 2] == ord("k") and body[:2] == b"1P":  # store the QR symbol's data
                    out.qr.append(body[3:].decode())
                i += 5 + length
            elif command in GS_THREE:
                if command == ord("!"):
                    mode = data[i + 2]
                    size = max((mode >> 4) + 1, (mode & 0x0F) + 1)
                i += 3
            else:
                raise ValueError(f"unknown GS {command:#x} at {i}")
        elif byte == DLE:
            i += 3
        elif byte == 0x0A:
            out.lines.append((line.decode("ascii", "replace"), line_size))
            line, line_size = bytearray(), 1
            i += 1
        else:
            if not line:
                line_size = size
            line_size = max(line_size, size)
            line.append(byte)
            i += 1
    if line:
        out.lines.append((line.decode("ascii", "replace"), line_size))
    return out
