"""Reading one member of a remote zip file with HTTP range requests.

A wheel's ``METADATA`` is a few KiB inside an archive that can weigh
gigabytes. When an index offers no PEP 658 metadata file, two small
requests usually find it: the file's last 16 KiB, and the member itself.
The tail holds the end-of-central-directory record and the end of the
central directory; wheel writers put ``.dist-info`` last, so the entry for
``METADATA`` is among the last few, and a central directory of thousands
of entries (botocore's is hundreds of KiB) need not be read whole. Only
when the entry is not there is the rest of the directory fetched. In a
small wheel the member itself is in the tail: one request. The parsing
here is pure; :func:`read_member` does the fetching.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Awaitable, Callable

import msgspec

TAIL_SIZE = 16 * 1024

_EOCD = struct.Struct("<4sHHHHIIH")
_ZIP64_LOCATOR = struct.Struct("<4sIQI")
_ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class BadZip(Exception):
    """The bytes are not the zip archive they claim to be."""


class Member(msgspec.Struct, frozen=True):
    """Where a member's local header starts, and how its data is stored."""

    name: str
    offset: int
    compressed_size: int
    method: int


def content_range(header: str | None) -> tuple[int, int]:
    """``(first byte, total size)`` of a ``Content-Range`` header."""
    match = _CONTENT_RANGE.fullmatch((header or "").strip())
    if match is None:
        raise BadZip(f"unusable Content-Range {header!r}")
    return int(match[1]), int(match[3])


def central_directory(tail: bytes, tail_start: int) -> tuple[int, int]:
    """``(offset, size)`` of the central directory, from the archive's tail."""
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        raise BadZip("no end-of-central-directory record")
    *_, size, offset, _comment = _EOCD.unpack_from(tail, at)
    if offset == 0xFFFFFFFF or size == 0xFFFFFFFF:
        locator = at - _ZIP64_LOCATOR.size
        if locator < 0 or tail[locator : locator + 4] != b"PK\x06\x07":
            raise BadZip("zip64 archive without a zip64 locator")
        _, _, record_offset, _ = _ZIP64_LOCATOR.unpack_from(tail, locator)
        record = record_offset - tail_start
        if record < 0 or tail[record : record + 4] != b"PK\x06\x06":
            raise BadZip("zip64 end-of-central-directory record not found")
        *_, size, offset = _ZIP64_EOCD.unpack_from(tail, record)
    return offset, size


def entries_ending_at(data: bytes, end: int) -> int | None:
    """Where, in *data*, the first whole central-directory entry of a run
    that ends exactly at *end* starts; ``None`` if no such run exists.

    *data* is the tail of a central directory cut at an arbitrary point:
    candidate entry signatures are tried from the front, and one is taken
    only when entry after entry parses up to *end*, which a signature that
    merely appears inside a file name cannot do.
    """
    position = data.find(b"PK\x01\x02")
    while 0 <= position < end:
        cursor = position
        while cursor + _CENTRAL.size <= end and data[cursor : cursor + 4] == b"PK\x01\x02":
            fields = _CENTRAL.unpack_from(data, cursor)
            cursor += _CENTRAL.size + fields[10] + fields[11] + fields[12]
        if cursor == end:
            return position
        position = data.find(b"PK\x01\x02", position + 1)
    return None


def _zip64_values(extra: bytes, fields: list[bool]) -> list[int]:
    """The 8-byte values of the zip64 extra field, for the *fields* that need one."""
    pos = 0
    while pos + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, pos)
        if kind == 1:
            values = []
            data = pos + 4
            for needed in fields:
                if needed:
                    values.append(struct.unpack_from("<Q", extra, data)[0])
                    data += 8
            return values
        pos += 4 + length
    raise BadZip("zip64 sizes without a zip64 extra field")


def _entry(directory: bytes, pos: int, wanted: Callable[[str], bool]) -> tuple[Member | None, int]:
    """The central-directory entry at *pos*, as a :class:`Member` if *wanted*
    accepts its name (else ``None``), and where the next entry starts."""
    fields = _CENTRAL.unpack_from(directory, pos)
    if fields[0] != b"PK\x01\x02":
        raise BadZip("corrupt central directory")
    method, compressed, uncompressed = fields[4], fields[8], fields[9]
    name_len, extra_len, comment_len, offset = fields[10], fields[11], fields[12], fields[16]
    name_start = pos + _CENTRAL.size
    following = name_start + name_len + extra_len + comment_len
    name = directory[name_start : name_start + name_len].decode("utf-8", "replace")
    if not wanted(name):
        return None, following
    if 0xFFFFFFFF in (compressed, uncompressed, offset):
        extra = directory[name_start + name_len : name_start + name_len + extra_len]
        needs = [uncompressed == 0xFFFFFFFF, compressed == 0xFFFFFFFF, offset == 0xFFFFFFFF]
        values = iter(_zip64_values(extra, needs))
        if needs[0]:
            next(values)
        compressed = next(values) if needs[1] else compressed
        offset = next(values) if needs[2] else offset
    return Member(name, offset, compressed, method), following


def _hinted_member(directory: bytes, wanted: Callable[[str], bool], hint: bytes) -> Member | None:
    """The first entry whose name holds *hint* and that *wanted* accepts,
    found by searching for *hint*; ``None`` when none is found so."""
    at = directory.find(hint)
    while at >= 0:
        start = directory.rfind(b"PK\x01\x02", 0, at)
        if start >= 0 and start + _CENTRAL.size <= len(directory):
            name_end = start + _CENTRAL.size + _CENTRAL.unpack_from(directory, start)[10]
            if start + _CENTRAL.size <= at and at + len(hint) <= name_end:
                try:
                    member, _ = _entry(directory, start, wanted)
                except BadZip:
                    member = None
                if member is not None:
                    return member
        at = directory.find(hint, at + 1)
    return None


def find_member(directory: bytes, wanted: Callable[[str], bool], hint: bytes = b"") -> Member | None:
    """The first member of the central *directory* whose name *wanted* accepts.

    *hint*, if given, is bytes that every name *wanted* accepts contains: the
    entries holding it are found by search rather than by reading every
    entry before them (botocore's directory lists thousands of files before
    its ``.dist-info``). The whole directory is read when that finds none.
    """
    if hint:
        member = _hinted_member(directory, wanted, hint)
        if member is not None:
            return member
    pos = 0
    while pos + _CENTRAL.size <= len(directory):
        member, pos = _entry(directory, pos, wanted)
        if member is not None:
            return member
    return None


def member_data(local: bytes, member: Member) -> bytes:
    """Decompress *member* from bytes starting at its local header."""
    if len(local) < _LOCAL.size or local[:4] != b"PK\x03\x04":
        raise BadZip(f"no local header for {member.name}")
    name_len, extra_len = _LOCAL.unpack_from(local)[9:11]
    start = _LOCAL.size + name_len + extra_len
    data = local[start : start + member.compressed_size]
    if len(data) < member.compressed_size:
        raise BadZip(f"{member.name} is truncated")
    if member.method == 0:
        return data
    if member.method == 8:
        try:
            return zlib.decompressobj(-15).decompress(data)
        except zlib.error as error:
            raise BadZip(f"{member.name} does not decompress: {error}") from None
    raise BadZip(f"{member.name} uses unsupported compression method {member.method}")


# Local headers may carry a different extra field than the central one; this
# much slack covers every writer seen in practice, and a short read is
# retried with the exact size.
_LOCAL_SLACK = 1024

Fetch = Callable[[int, int | None], Awaitable[tuple[int, bytes, str | None]]]


class WholeFile(msgspec.Struct, frozen=True):
    """The server ignored the range request and sent everything."""

    content: bytes


async def read_member(fetch: Fetch, wanted: Callable[[str], bool], hint: bytes = b"") -> bytes | WholeFile | None:
    """Read the member *wanted* selects, fetching byte ranges with *fetch*
    (*hint* as for :func:`find_member`).

    ``fetch(start, end)`` fetches ``bytes=start-end`` (``end=None``: a suffix
    of ``-start`` bytes) and returns ``(status, body, Content-Range)``.
    Returns the member's bytes, ``None`` if there is no such member, or
    :class:`WholeFile` when the server answers with the whole file.
    """
    status, tail, range_header = await fetch(TAIL_SIZE, None)
    if status == 200:
        return WholeFile(tail)
    tail_start, total = content_range(range_header)
    offset, size = central_directory(tail, tail_start)
    directory_end = offset + size - tail_start
    if offset >= tail_start:
        directory = tail[offset - tail_start : directory_end]
    else:
        directory = b""
        if directory_end <= len(tail):
            first = entries_ending_at(tail[:directory_end], directory_end)
            if first is not None and find_member(tail[first:directory_end], wanted, hint) is not None:
                directory = tail[first:directory_end]
        if not directory:
            _, head, _ = await fetch(offset, tail_start - 1)
            directory = head + tail[:directory_end]
    member = find_member(directory, wanted, hint)
    if member is None:
        return None
    end = min(member.offset + _LOCAL.size + len(member.name.encode()) + member.compressed_size + _LOCAL_SLACK, total)
    if member.offset >= tail_start and end <= tail_start + len(tail):
        local = tail[member.offset - tail_start : end - tail_start]
    else:
        _, local, _ = await fetch(member.offset, end - 1)
    if len(local) >= _LOCAL.size:
        name_len, extra_len = _LOCAL.unpack_from(local)[9:11]
        needed = _LOCAL.size + name_len + extra_len + member.compressed_size
        if len(local) < needed:
            _, local, _ = await fetch(member.offset, member.offset + needed - 1)
    return member_data(local, member)
