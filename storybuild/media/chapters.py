"""Chapter marks in an mp4 as a Nero ``chpl`` box, and nothing else.

FFmpeg's mp4 muxer writes chapters twice: a ``chpl`` box and a QuickTime text track that every
other track references (``tref/chap``). Readers then meet a data stream they cannot decode
(ffprobe 5.1: "Unsupported codec with id 98314 for input stream 3") or, when a tool drops that
track, a reference to nothing ("Referenced QT chapter track not found"). So the final mux
writes no chapters, and this module adds the ``chpl`` box to ``moov/udta`` afterwards: every
FFmpeg, ffprobe, VLC and mpv read it, and no track references a chapter track.

``chpl`` holds starts only (100 ns units) and at most 255 chapters; a chapter ends where the
next starts, the last where the file ends, which is what storybuild's scene chapters are.
Inserting the box into a faststart file moves ``mdat``, so every chunk offset (``stco``,
``co64``) that points past ``moov`` is shifted by the box's size.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from ..errors import MediaError

__all__ = ["MAX_CHAPTERS", "add_chapters"]

#: ``chpl`` counts its chapters in one byte.
MAX_CHAPTERS = 255

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts", b"dinf"}
_TICKS = 10_000_000  # chpl's time unit: 100 ns


def _boxes(data: bytes | bytearray, start: int, end: int) -> list[tuple[bytes, int, int, int]]:
    """(type, offset, header size, total size) of each box in ``data[start:end]``."""
    found = []
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            raise MediaError(f"malformed mp4 box {kind!r} at byte {at}")
        found.append((kind, at, header, size))
        at += size
    return found


def _chpl(chapters: Sequence[tuple[float, str]]) -> bytes:
    body = bytearray(struct.pack(">BxxxIB", 1, 0, len(chapters)))  # version 1, flags, reserved, count
    for start, title in chapters:
        name = title.encode("utf-8")[:255].decode("utf-8", errors="ignore").encode("utf-8")
        body += struct.pack(">QB", round(start * _TICKS), len(name)) + name
    return struct.pack(">I4s", 8 + len(body), b"chpl") + bytes(body)


def _shift_offsets(moov: bytearray, delta: int, after: int) -> None:
    """Add ``delta`` to every chunk offset at or past ``after`` (the old start of the media data)."""

    def visit(start: int, end: int) -> None:
        for kind, at, header, size in _boxes(moov, start, end):
            if kind in _CONTAINERS:
                visit(at + header, at + size)
            elif kind in (b"stco", b"co64"):
                wide = kind == b"co64"
                count = struct.unpack_from(">I", moov, at + header + 4)[0]
                first = at + header + 8
                for i in range(count):
                    where = first + i * (8 if wide else 4)
                    offset = struct.unpack_from(">Q" if wide else ">I", moov, where)[0]
                    if offset >= after:
                        offset += delta
                        if not wide and offset > 0xFFFFFFFF:
                            raise MediaError("chapters would push a chunk past 4 GiB in a 32-bit stco")
                        struct.pack_into(">Q" if wide else ">I", moov, where, offset)

    visit(8, len(moov))


def _grow(moov: bytearray, path: Sequence[int], delta: int) -> None:
    """Add ``delta`` to the 32-bit sizes of the boxes at the offsets in ``path``."""
    for at in path:
        size = struct.unpack_from(">I", moov, at)[0]
        if size == 1:
            struct.pack_into(">Q", moov, at + 8, struct.unpack_from(">Q", moov, at + 8)[0] + delta)
        else:
            struct.pack_into(">I", moov, at, size + delta)


def _top_level(handle: BinaryIO) -> list[tuple[bytes, int, int, int]]:
    """The file's top-level boxes, read header by header (the media data is never loaded)."""
    handle.seek(0, os.SEEK_END)
    end, at, found = handle.tell(), 0, []
    while at + 8 <= end:
        handle.seek(at)
        header = handle.read(16)
        size, kind = struct.unpack_from(">I4s", header)
        length = 8
        if size == 1:
            size, length = struct.unpack_from(">Q", header, 8)[0], 16
        elif size == 0:
            size = end - at
        if size < length:
            raise MediaError(f"malformed mp4 box {kind!r} at byte {at}")
        found.append((kind, at, length, size))
        at += size
    return found


def add_chapters(mp4: Path, chapters: Sequence[tuple[float, str]]) -> None:
    """Add ``chapters`` (start seconds, title) to the mp4 at ``mp4`` as its ``moov/udta/chpl``.

    Meant for a file still under its temporary name: it is rewritten beside itself and replaced.
    """
    if not chapters:
        return
    mp4 = Path(mp4)
    if len(chapters) > MAX_CHAPTERS:
        raise MediaError(f"{mp4}: {len(chapters)} chapters; an mp4 chapter list holds at most {MAX_CHAPTERS}")
    box = _chpl(chapters)
    rewritten = mp4.with_name(f".{mp4.name}.chpl.tmp")
    try:
        with open(mp4, "rb") as source:
            moovs = [entry for entry in _top_level(source) if entry[0] == b"moov"]
            if len(moovs) != 1 or moovs[0][2] != 8:
                raise MediaError(f"{mp4}: expected one moov box to add chapters to")
            _, at, _, size = moovs[0]
            source.seek(at)
            moov = bytearray(source.read(size))
            children = _boxes(moov, 8, size)
            udta = [(start, length) for kind, start, _, length in children if kind == b"udta"]
            if udta:
                if any(kind == b"chpl" for kind, *_ in _boxes(moov, udta[0][0] + 8, sum(udta[0]))):
                    raise MediaError(f"{mp4} already has chapters")
                moov[sum(udta[0]) : sum(udta[0])] = box
                _grow(moov, [udta[0][0]], len(box))
            else:
                box = struct.pack(">I4s", 8 + len(box), b"udta") + box
                moov += box
            _grow(moov, [0], len(box))
            # Media data after moov (faststart) moves by the inserted bytes; data before it does not.
            _shift_offsets(moov, len(box), at + size)
            with open(rewritten, "wb") as target:
                source.seek(0)
                target.write(source.read(at))
                target.write(moov)
                source.seek(at + size)
                shutil.copyfileobj(source, target, 1 << 20)
        os.replace(rewritten, mp4)
    except OSError as exc:
        raise MediaError(f"cannot add chapters to {mp4}: {exc}") from exc
    finally:
        rewritten.unlink(missing_ok=True)
