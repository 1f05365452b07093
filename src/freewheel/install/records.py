"""Reading and writing ``RECORD`` files (PEP 376, binary distribution format).

A ``RECORD`` is a headerless CSV file with one row per installed file:
its path (``/``-separated, relative to the directory holding the
``.dist-info``), ``algorithm=urlsafe-base64-digest`` without padding, and the
size in bytes. The ``RECORD`` itself, and files such as ``.pyc`` caches whose
content is not fixed at install time, have empty hash and size.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
from collections.abc import Iterable

import msgspec

from .errors import InstallError

# The binary distribution format forbids md5 and sha1; anything at least as
# strong as sha256 that hashlib always offers is accepted.
STRONG_ALGORITHMS = frozenset(
    {"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512", "blake2b", "blake2s"}
)


class RecordEntry(msgspec.Struct, frozen=True):
    """One row of a ``RECORD``: a path with an optional hash and size."""

    path: str
    hash: str | None = None
    size: int | None = None

    @property
    def algorithm(self) -> str | None:
        """The hash algorithm's name, e.g. ``sha256``."""
        return self.hash.partition("=")[0] if self.hash else None


def encode_digest(digest: bytes) -> str:
    """The ``RECORD`` spelling of a raw digest: urlsafe base64, no padding."""
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def hash_bytes(data: bytes) -> str:
    """The ``sha256=...`` ``RECORD`` hash of *data*."""
    return "sha256=" + encode_digest(hashlib.sha256(data).digest())


def parse_record(text: str, *, source: str) -> list[RecordEntry]:
    """Parse the rows of a ``RECORD`` file.

    *source* names the file in error messages (a wheel or a directory).

    :raises InstallError: for a row that is not ``path,hash,size``, a size
        that is not a number, or a hash whose algorithm is weaker than sha256.
    """
    entries = []
    for line_number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row:
            continue
        if len(row) != 3 or not row[0]:
            raise InstallError(
                f"The RECORD of {source} is malformed: line {line_number} has "
                f"{len(row)} fields where 'path,hash,size' was expected."
            )
        path, hash_value, size_text = row
        if hash_value:
            algorithm, separator, digest = hash_value.partition("=")
            if not separator or not digest or algorithm not in STRONG_ALGORITHMS:
                raise InstallError(
                    f"The RECORD of {source} lists {path} with the hash {hash_value!r}; "
                    "only sha256 or stronger hashes are accepted."
                )
        if size_text and not size_text.isdigit():
            raise InstallError(
                f"The RECORD of {source} lists {path} with the size {size_text!r}, "
                "which is not a number."
            )
        entries.append(RecordEntry(path, hash_value or None, int(size_text) if size_text else None))
    return entries


def format_record(entries: Iterable[RecordEntry]) -> str:
    """Write *entries* as ``RECORD`` text, sorted by path as pip writes it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for entry in sorted(entries, key=lambda entry: entry.path):
        size = "" if entry.size is None else str(entry.size)
        writer.writerow((entry.path, entry.hash or "", size))
    return buffer.getvalue()
