"""Image, animation and sound files from plain pixel and sample data, with the standard library only.

``png(rows)`` writes an 8-bit PNG from rows of pixels (each a gray int, or a tuple of 3 or 4 ints);
``apng(frames, fps)`` an animated PNG from such frames; ``wav(samples, rate)`` a 16-bit PCM WAV
from floats in [-1, 1]. No numpy, no Pillow: a training
script's arrays arrive here as nested lists (``tolist()``).
"""

from __future__ import annotations

import io
import struct
import wave
import zlib
from collections.abc import Sequence

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNG colour type by channels per pixel: gray, gray+alpha, RGB, RGBA.
_COLOUR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def _channels(rows: Sequence[Sequence]) -> int:
    first = rows[0][0]
    return 1 if isinstance(first, int) else len(first)


def _scanlines(rows: Sequence[Sequence], channels: int) -> bytes:
    out = bytearray()
    for row in rows:
        out.append(0)  # filter type: none
        if channels == 1:
            out.extend(row)
        else:
            for pixel in row:
                out.extend(pixel)
    return bytes(out)


def _header(width: int, height: int, channels: int) -> bytes:
    return _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPE[channels], 0, 0, 0))


def png(rows: Sequence[Sequence]) -> bytes:
    """An 8-bit PNG of ``rows`` (height rows of width pixels; values 0..255)."""
    channels = _channels(rows)
    data = zlib.compress(_scanlines(rows, channels), 6)
    return (
        _PNG_SIGNATURE
        + _header(len(rows[0]), len(rows), channels)
        + _chunk(b"IDAT", data)
        + _chunk(b"IEND", b"")
    )


def apng(frames: Sequence[Sequence[Sequence]], fps: float = 4.0) -> bytes:
    """An animated PNG of equally sized ``frames`` shown at ``fps`` frames per second."""
    first = frames[0]
    height, width, channels = len(first), len(first[0]), _channels(first)
    delay = max(1, round(1000 / max(fps, 0.001)))
    out = [
        _PNG_SIGNATURE,
        _header(width, height, channels),
        _chunk(b"acTL", struct.pack(">II", len(frames), 0)),
    ]
    sequence = 0
    for index, frame in enumerate(frames):
        control = struct.pack(">IIIIIHHBB", sequence, width, height, 0, 0, delay, 1000, 0, 0)
        out.append(_chunk(b"fcTL", control))
        sequence += 1
        data = zlib.compress(_scanlines(frame, channels), 6)
        if index == 0:
            out.append(_chunk(b"IDAT", data))
        else:
            out.append(_chunk(b"fdAT", struct.pack(">I", sequence) + data))
            sequence += 1
    out.append(_chunk(b"IEND", b""))
    return b"".join(out)


def wav(samples: Sequence, rate: int) -> bytes:
    """A 16-bit PCM WAV of ``samples``: floats in [-1, 1] (mono), or one sequence per frame (a value
    per channel)."""
    multi = bool(samples) and isinstance(samples[0], (list, tuple))
    channels = len(samples[0]) if multi else 1
    frames = bytearray()
    for frame in samples:
        for value in frame if multi else (frame,):
            frames += struct.pack("<h", int(max(-1.0, min(1.0, float(value))) * 32767))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(int(rate))
        out.writeframes(bytes(frames))
    return buffer.getvalue()
