"""A small PNG writer (RFC 2083 / ISO 15948): 8-bit RGB or grayscale, no filtering, zlib from the standard library.
Deterministic: the same pixels give the same bytes."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(width: int, height: int, rows: list[bytes], color: bool = True, scale: int = 1) -> bytes:
    """`rows`: `height` rows of `width` pixels, 3 bytes each (RGB) or 1 (gray). `scale` repeats each pixel."""
    channels = 3 if color else 1
    if len(rows) != height or any(len(r) != width * channels for r in rows):
        raise ValueError("encode_png: rows do not match the image size")
    if scale > 1:
        scaled = []
        for r in rows:
            wide = b"".join(r[i:i + channels] * scale for i in range(0, len(r), channels))
            scaled.extend([wide] * scale)
        rows, width, height = scaled, width * scale, height * scale
    raw = b"".join(b"\x00" + r for r in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2 if color else 0, 0, 0, 0)
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def decode_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, channels, rows) of a PNG this module wrote (unfiltered 8-bit RGB or gray): for tests."""
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG")
    pos, width, height = len(SIGNATURE), 0, 0
    idat = b""
    channels = 3
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, _, ctype = struct.unpack(">IIBB", body[:10])
            channels = 3 if ctype == 2 else 1
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels + 1
    return width, height, channels, [raw[i * stride + 1:(i + 1) * stride] for i in range(height)]


def write_png(path: str | Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return path
