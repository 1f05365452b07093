"""An sdist's ``PKG-INFO``, found while the ``.tar.gz`` is still arriving.

``PKG-INFO`` is usually among an sdist's first members: reading the stream
as it comes, and stopping the transfer once it is found, costs kilobytes of
a file that may weigh hundreds of megabytes. Only what the current member
needs is buffered, so memory stays flat whatever the archive's size.
"""

from __future__ import annotations

import zlib

_BLOCK = 512
# Headers and PKG-INFO are small; a larger one is not what is looked for,
# and buffering it would break the promise of flat memory.
_MAX_MEMBER = 1 << 20


def _field(header: bytes, start: int, end: int) -> str:
    return header[start:end].split(b"\0", 1)[0].decode("utf-8", "replace")


def _size(header: bytes) -> int:
    raw = header[124:136]
    if raw[0] & 0x80:
        # GNU base-256 for sizes past 8 GiB.
        return int.from_bytes(raw[1:], "big")
    text = raw.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _pax_path(data: bytes) -> str | None:
    """The ``path`` record of a PAX extended header, if it has one."""
    while data:
        length, _, rest = data.partition(b" ")
        try:
            size = int(length)
        except ValueError:
            return None
        record = rest[: size - len(length) - 2]
        key, _, value = record.partition(b"=")
        if key == b"path":
            return value.decode("utf-8", "replace")
        data = data[size:]
    return None


def is_top_pkg_info(name: str) -> bool:
    """Whether *name* is the ``PKG-INFO`` at the top of an sdist (``pkg-1.0/PKG-INFO``)."""
    return name.count("/") == 1 and name.endswith("/PKG-INFO")


class PkgInfoScanner:
    """Feed it a ``.tar.gz`` chunk by chunk: :meth:`feed` returns the
    top-level ``PKG-INFO`` once it has passed, else ``None``.

    Once the archive is known not to hold one where expected (it ended, it
    is not a gzip tar, or a member is too large to be a header), every
    later call returns ``None``: the caller reads the whole file instead.
    """

    def __init__(self) -> None:
        self._inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        self._buffer = bytearray()
        self._skip = 0
        self._next_name: str | None = None
        self.given_up = False

    def feed(self, chunk: bytes) -> bytes | None:
        if self.given_up:
            return None
        try:
            self._buffer += self._inflate.decompress(chunk)
        except zlib.error:
            self.given_up = True
            return None
        try:
            return self._scan()
        except ValueError:
            self.given_up = True
            return None

    def _scan(self) -> bytes | None:
        while True:
            if self._skip:
                dropped = min(self._skip, len(self._buffer))
                del self._buffer[:dropped]
                self._skip -= dropped
                if self._skip:
                    return None
            if len(self._buffer) < _BLOCK:
                return None
            header = bytes(self._buffer[:_BLOCK])
            if not header.strip(b"\0"):
                self.given_up = True
                return None
            if header[257:262] != b"ustar" and header[148:156].strip(b" \0") == b"":
                raise ValueError("not a tar header")
            size = _size(header)
            padded = -(-size // _BLOCK) * _BLOCK
            kind = header[156:157]
            name = self._next_name
            if name is None:
                prefix = _field(header, 345, 500) if header[257:262] == b"ustar" else ""
                base = _field(header, 0, 100)
                name = f"{prefix}/{base}" if prefix else base
            wanted = kind in (b"x", b"L") or (kind in (b"0", b"\0") and is_top_pkg_info(name))
            if not wanted:
                del self._buffer[:_BLOCK]
                self._skip = padded
                self._next_name = None
                continue
            if size > _MAX_MEMBER:
                raise ValueError("member too large")
            if len(self._buffer) < _BLOCK + padded:
                return None
            content = bytes(self._buffer[_BLOCK : _BLOCK + size])
            del self._buffer[: _BLOCK + padded]
            if kind == b"x":
                self._next_name = _pax_path(content)
            elif kind == b"L":
                self._next_name = content.rstrip(b"\0").decode("utf-8", "replace")
            elif content:
                return content
            else:
                raise ValueError("empty PKG-INFO")
