"""freewheel's on-disk cache: one root directory of versioned buckets.

Layout::

    <root>/CACHEDIR.TAG
    <root>/http-v1/<project>/<key>.rec              HTTP responses (freewheel.net.caching)
    <root>/http-v1/<project>/<key>.offline.rec      no-store responses, for --offline only
    <root>/wheels-v1/<project>/<sha256>/<filename>  whole distribution files, by content hash
    <root>/archive-v1/<project>/...                 unpacked wheels (the installer's)
    <root>/metadata-v1/<project>/<key>.rec          small records keyed by a string

The first level of every bucket is a project's canonical name, or
:data:`NO_PROJECT` for entries that belong to none, so that removing one
project's entries is removing one directory per bucket. A bucket's version is
bumped whenever its format changes; ``freewheel cache prune`` removes the
buckets of older versions.

Concurrency: every file is written whole to a temporary file in its final
directory and renamed over the old one, so readers see the old content or
the new, never a mix, and processes writing the same entry at once merely
race to store equal content. No lock is taken on this path. A process killed
mid-write leaves only a temporary file (see :func:`is_temporary`), which
nothing reads. Records that fail to decode anyway (a damaged disk, a format
change without a version bump) read as absent and are removed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import msgspec
import platformdirs

from freewheel.errors import UsageError
from freewheel.fsutil import atomic_write_bytes

# Bucket family -> directory; bump a version when that bucket's format changes.
BUCKETS: Mapping[str, str] = {
    "http": "http-v1",
    "wheels": "wheels-v1",
    "archive": "archive-v1",
    "metadata": "metadata-v1",
}

# The project directory of entries that belong to no project (an index's root
# page, a flat page of links). Canonical names never contain "_".
NO_PROJECT = "_other"

RECORD_SUFFIX = ".rec"
OFFLINE_SUFFIX = ".offline.rec"

CACHEDIR_TAG = "CACHEDIR.TAG"
_TAG_CONTENT = (
    b"Signature: 8a477f597d28d172789f06886806bc55\n"
    b"# This file is a cache directory tag created by freewheel.\n"
    b"# For information about cache directory tags, see https://bford.info/cachedir/\n"
)

ENV_CACHE_DIR = "FREEWHEEL_CACHE_DIR"

_Record = TypeVar("_Record", bound=msgspec.Struct)


def cache_root(cache_dir: str | os.PathLike[str] | None = None, environ: Mapping[str, str] = os.environ) -> Path:
    """Where the cache lives: *cache_dir* (``--cache-dir``), else
    ``FREEWHEEL_CACHE_DIR``, else the platform's user cache directory.

    Computes the path only; nothing is created.
    """
    if cache_dir:
        return Path(cache_dir).expanduser().absolute()
    if environ.get(ENV_CACHE_DIR):
        return Path(environ[ENV_CACHE_DIR]).expanduser().absolute()
    return Path(platformdirs.user_cache_dir("freewheel", appauthor=False))


def is_temporary(path: Path) -> bool:
    """Whether *path* is a file being written, or left by an interrupted write.

    The names are those :func:`freewheel.fsutil.atomic_write_bytes` gives.
    """
    return path.name.startswith(".") and path.name.endswith(".tmp")


def entry_key(key: str) -> str:
    """A file name for the string *key*: any string, of bounded length."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def read_record(path: Path, record_type: type[_Record]) -> _Record | None:
    """The record stored at *path*, or ``None`` if absent or undecodable.

    An undecodable record is removed, so that it is rewritten by the next
    write rather than decoded again by every reader.
    """
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        return msgspec.msgpack.decode(data, type=record_type)
    except msgspec.DecodeError:
        path.unlink(missing_ok=True)
        return None


def write_record(path: Path, record: msgspec.Struct) -> None:
    """Store *record* at *path*, atomically."""
    atomic_write_bytes(path, msgspec.msgpack.encode(record))


class Cache:
    """The cache directory at *root*, created with its ``CACHEDIR.TAG`` if
    missing.

    A *temporary* cache (:meth:`temporary`, for ``--no-cache``) is removed by
    :meth:`close`. Raises :class:`~freewheel.errors.UsageError` when *root*
    cannot be created or written.
    """

    def __init__(self, root: Path, *, temporary: bool = False) -> None:
        self.root = root
        self.is_temporary = temporary
        tag = root / CACHEDIR_TAG
        try:
            if not tag.is_file():
                atomic_write_bytes(tag, _TAG_CONTENT)
        except OSError as error:
            raise UsageError(
                f"The cache directory {root} cannot be used: {error.strerror or error}.",
                hint="Choose another with --cache-dir or FREEWHEEL_CACHE_DIR, or run without a cache with --no-cache.",
            ) from None

    @classmethod
    def temporary(cls) -> Cache:
        """A fresh cache in a temporary directory, removed on :meth:`close`."""
        return cls(Path(tempfile.mkdtemp(prefix="freewheel-cache-")), temporary=True)

    @classmethod
    def open(
        cls,
        cache_dir: str | os.PathLike[str] | None = None,
        *,
        no_cache: bool = False,
        environ: Mapping[str, str] = os.environ,
    ) -> Cache:
        """The cache the options ``--cache-dir`` and ``--no-cache`` ask for."""
        if no_cache:
            return cls.temporary()
        return cls(cache_root(cache_dir, environ))

    def bucket(self, name: str) -> Path:
        """The directory of the bucket family *name* (a key of :data:`BUCKETS`)."""
        return self.root / BUCKETS[name]

    def project_dir(self, bucket: str, project: str | None) -> Path:
        """The directory of *project*'s entries in *bucket*."""
        return self.bucket(bucket) / (project or NO_PROJECT)

    def record_path(self, bucket: str, key: str, project: str | None, suffix: str = RECORD_SUFFIX) -> Path:
        """Where the record for the string *key* of *project* lives."""
        return self.project_dir(bucket, project) / (entry_key(key) + suffix)

    def read(self, bucket: str, key: str, record_type: type[_Record], *, project: str | None = None) -> _Record | None:
        """The record stored under *key*, or ``None`` (see :func:`read_record`)."""
        return read_record(self.record_path(bucket, key, project), record_type)

    def write(self, bucket: str, key: str, record: msgspec.Struct, *, project: str | None = None) -> None:
        """Store *record* under *key*; *project* lets ``cache clean NAME`` find it."""
        write_record(self.record_path(bucket, key, project), record)

    def close(self) -> None:
        """Remove the directory of a temporary cache; keep any other."""
        if self.is_temporary:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Cache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
