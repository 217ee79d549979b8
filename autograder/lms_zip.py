"""Reading an LMS export zip so that no entry can stop the others.

:func:`members` lists every file of a zip as :class:`Member` records, each with
a ``read()`` that returns the file's bytes or raises :class:`Unreadable` with
the reason; what cannot be listed at all comes back as ``(path, reason)``.

* A bad CRC, corrupt compressed data, an encrypted or unsupported entry: that
  entry's ``read()`` raises :class:`Unreadable`; the others read normally.
* A zip bomb: nothing is ever decompressed past a cap (``read(limit)``
  streams and stops at ``limit + 1`` bytes), whatever size an entry declares,
  and a zip whose entries declare more than :data:`MAX_LISTED_BYTES` in all is
  read only up to that budget.
* A zip inside the zip (an LMS that wraps each student's upload, a student who
  uploads a zip): expanded in place, up to :data:`MAX_DEPTH` levels, each read
  into memory only up to :data:`MAX_NESTED_BYTES`.
* A truncated zip (the download stopped): the central directory at the end is
  missing, so Python's :mod:`zipfile` refuses the whole file. The local headers
  that precede each entry's data are still there; :func:`_salvage` walks them
  and recovers every entry whose data is complete. Python's zipfile cannot do
  this and Info-ZIP's ``zip -FF`` is not installed everywhere, hence these few
  lines of our own.
"""
from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

MAX_DEPTH = 2  #: a zip in a zip in the export is expanded; one level deeper is left out
MAX_NESTED_BYTES = 256 << 20  #: a nested zip is read into memory up to this size
MAX_LISTED_BYTES = 4 << 30  #: total uncompressed size one export may declare
MAX_ENTRIES = 100_000
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError,
                ValueError, struct.error)


class Unreadable(Exception):
    """An entry that cannot be read; the message says why."""


@dataclass
class Member:
    """One file of the export: its path inside, declared size, modification time (naive, as the
    zip stores it: the local time of whoever made the zip) and a reader capped at ``limit``."""

    parts: tuple[str, ...]
    size: int
    when: dt.datetime | None
    read: Callable[[int], bytes]


def _safe_parts(name: str) -> tuple[str, ...] | None:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts:
        return None
    return p.parts


def read_capped(opener: Callable[..., io.BufferedIOBase], limit: int, declared: int) -> bytes:
    """At most ``limit`` bytes of the binary stream ``opener("rb")`` or ``opener()``, or :class:`Unreadable`
    (never more is read or decompressed)."""
    try:
        with opener("rb") as f:
            data = f.read(limit + 1)
    except _READ_ERRORS as e:
        raise Unreadable(f"damaged entry ({type(e).__name__}: {str(e)[:120]})") from None  # (a file: unreadable)
    if len(data) > limit:
        raise Unreadable(f"uncompressed size over the {limit >> 20} MiB limit (declares {declared} bytes)")
    return data


def _when(date_time: tuple) -> dt.datetime | None:
    try:
        return dt.datetime(*date_time)
    except (TypeError, ValueError):
        return None


def _from_zipfile(zf: zipfile.ZipFile, prefix: tuple[str, ...], depth: int,
                  out: list[Member], bad: list[tuple[str, str]]) -> None:
    budget = MAX_LISTED_BYTES
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        bad.append(("/".join(prefix) or "(the zip)", f"{len(infos)} entries: only the first {MAX_ENTRIES} are read"))
        infos = infos[:MAX_ENTRIES]
    for info in infos:
        if info.is_dir():
            continue
        parts = _safe_parts(info.filename)
        shown = "/".join(prefix + (parts or (info.filename,)))
        mode = (info.external_attr >> 16) & 0o170000
        if parts is None or mode == 0o120000:
            bad.append((shown, "unsafe path or link in the zip"))
            continue
        budget -= info.file_size
        if budget < 0:
            bad.append((shown, f"the zip declares more than {MAX_LISTED_BYTES >> 30} GiB in all (a zip bomb?)"))
            continue
        read = (lambda limit, i=info: read_capped(lambda mode: zf.open(i), limit, i.file_size))
        _add(Member(prefix + parts, info.file_size, _when(info.date_time), read), depth, out, bad)


def _add(m: Member, depth: int, out: list[Member], bad: list[tuple[str, str]]) -> None:
    """Keep ``m``, or expand it when it is a zip itself."""
    if not m.parts[-1].lower().endswith(".zip"):
        out.append(m)
        return
    shown = "/".join(m.parts)
    if depth >= MAX_DEPTH:
        bad.append((shown, f"a zip nested more than {MAX_DEPTH} levels deep"))
        return
    try:
        data = m.read(MAX_NESTED_BYTES)
    except Unreadable as e:
        bad.append((shown, str(e)))
        return
    _open_bytes(data, m.parts, depth + 1, out, bad)


def _open_bytes(data: bytes, prefix: tuple[str, ...], depth: int,
                out: list[Member], bad: list[tuple[str, str]]) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _READ_ERRORS:
        salvaged, why = _salvage(data, prefix)
        if not salvaged and why:
            bad.append(("/".join(prefix) or "(the zip)", why))
            return
        if why:
            bad.append(("/".join(prefix) or "(the zip)", why))
        for m in salvaged:
            _add(m, depth, out, bad)
        return
    _from_zipfile(zf, prefix, depth, out, bad)


def _dos_time(t: int, d: int) -> dt.datetime | None:
    return _when(((d >> 9) + 1980, (d >> 5) & 15, d & 31, t >> 11, (t >> 5) & 63, (t & 31) * 2))


def _inflate(body: bytes, method: int, limit: int, crc: int | None) -> bytes:
    if method == zipfile.ZIP_STORED:
        data = body
    elif method == zipfile.ZIP_DEFLATED:
        d = zlib.decompressobj(-15)
        try:
            data = d.decompress(body, limit + 1)
        except zlib.error as e:
            raise Unreadable(f"damaged entry (zlib: {e})") from None
        if len(data) <= limit and not d.eof:
            raise Unreadable("cut off: the zip ends inside this entry")
    else:
        raise Unreadable(f"compression method {method} is not supported in a damaged zip")
    if len(data) > limit:
        raise Unreadable(f"uncompressed size over the {limit >> 20} MiB limit")
    if crc is not None and zlib.crc32(data) != crc:
        raise Unreadable("bad CRC-32: the entry is damaged")
    return data


def _salvage(data: bytes, prefix: tuple[str, ...]) -> tuple[list[Member], str]:
    """Entries found by their local headers in a zip without a readable central directory."""
    out: list[Member] = []
    pos = data.find(b"PK\x03\x04")
    if pos < 0:
        return [], "not a zip file"
    while pos >= 0 and len(out) < MAX_ENTRIES:
        try:
            (_, _, flag, method, mtime, mdate, crc, csize, usize, nlen, xlen) = struct.unpack_from(
                "<IHHHHHIIIHH", data, pos)
        except struct.error:
            break
        raw_name = data[pos + 30:pos + 30 + nlen]
        name = raw_name.decode("utf-8" if flag & 0x800 else "cp437", errors="replace")
        start = pos + 30 + nlen + xlen
        parts = _safe_parts(name)
        descriptor = bool(flag & 0x08)  # sizes and CRC come after the data: deflate finds its own end
        body = data[start:] if descriptor else data[start:start + csize]
        if parts is not None and not name.endswith("/"):
            if not descriptor and len(body) < csize:
                def read(limit, why="cut off: the zip ends inside this entry"):
                    raise Unreadable(why)
            elif descriptor and method != zipfile.ZIP_DEFLATED:
                def read(limit, why="sizes unknown in a damaged zip (stored entry with a data descriptor)"):
                    raise Unreadable(why)
            else:
                read = (lambda limit, b=body, m=method, c=(None if descriptor else crc): _inflate(b, m, limit, c))
            out.append(Member(prefix + parts, usize, _dos_time(mtime, mdate), read))
        pos = data.find(b"PK\x03\x04", start + (0 if descriptor else csize))
    why = "the zip is truncated or its directory is damaged: entries were recovered from their local headers"
    return out, why


def members(src: Path) -> tuple[list[Member], list[tuple[str, str]]]:
    """Every file of the zip ``src`` (nested zips expanded) and what was left out, with why."""
    out: list[Member] = []
    bad: list[tuple[str, str]] = []
    try:
        zf = zipfile.ZipFile(src)
    except _READ_ERRORS:
        size = src.stat().st_size
        if size > MAX_NESTED_BYTES * 8:
            return [], [(src.name, "a damaged zip too large to salvage")]
        _open_bytes(src.read_bytes(), (), 0, out, bad)
        return out, bad
    _from_zipfile(zf, (), 0, out, bad)  # left open: the members read from it later
    return out, bad


def looks_like_zip(src: Path) -> bool:
    """A file named ``.zip`` or starting with a zip's local header (even if damaged)."""
    if not src.is_file():
        return False
    with src.open("rb") as f:
        head = f.read(4)
    return src.suffix.lower() == ".zip" or head == b"PK\x03\x04" or zipfile.is_zipfile(src)
