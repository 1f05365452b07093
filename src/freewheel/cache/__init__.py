"""freewheel's on-disk cache: one root directory of versioned buckets.

Layout::

    <root>/CACHEDIR.TAG
    <root>/http-v1/<project>/<key>.rec              HTTP responses (freewheel.cache.http)
    <root>/http-v1/<project>/<key>.offline.rec      no-store responses, for --offline only
    <root>/wheels-v1/<project>/<sha256>/<filename>  whole distribution files, by content hash
    <root>/archive-v1/<project>/...                 unpacked wheels (the installer's)
    <root>/metadata-v1/<project>/<key>.rec          small records keyed by a string
    <root>/derived-v5/<project>/<key>.rec           values derived from HTTP responses (parsed index pages),
                                                    kept instead of the responses
    <root>/derived-v5/<project>/<key>.offline.rec   the same, from no-store responses, for --offline only
    <root>/builds-v1/<project>/<sha256>/<settings>/ what building an sdist produced (freewheel.dists.builds.sdist)

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

May import :mod:`freewheel.net` and below.
"""

from __future__ import annotations

import atexit
import collections
import hashlib
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import ClassVar, TypeVar

import msgspec
import platformdirs

from freewheel.errors import UsageError
from freewheel.util.fs import NotARegularFile, atomic_write_bytes, read_regular
from freewheel.util.writer import WriterProcess

# Bucket family -> directory; bump a version when that bucket's format changes.
BUCKETS: Mapping[str, str] = {
    "http": "http-v1",
    "wheels": "wheels-v1",
    "archive": "archive-v1",
    "metadata": "metadata-v1",
    "derived": "derived-v5",
    "builds": "builds-v1",
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

_MAX_NAME = 128

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


def holds_responses(root: Path) -> bool:
    """Whether the cache at *root* may answer any request: a run with a cache
    that holds none will surely connect. Only looks; creates nothing."""
    return any((root / BUCKETS[bucket]).is_dir() for bucket in ("http", "derived"))


def is_temporary(path: Path) -> bool:
    """Whether *path* is a file being written, or left by an interrupted write.

    The names are those :func:`freewheel.util.fs.atomic_write_bytes` gives.
    """
    return path.name.startswith(".") and path.name.endswith(".tmp")


def entry_key(key: str) -> str:
    """A file name for the string *key*: any string, of bounded length."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def project_dirname(project: str) -> str:
    """The directory name of *project*'s entries in a bucket: the name itself,
    or, for a name too long to be a file name (PEP 508 sets no limit; file
    systems stop at 255 bytes), its start and a digest of the whole."""
    if len(project) <= _MAX_NAME:
        return project
    return f"{project[:64]}-{entry_key(project)}"


def read_record(path: Path, record_type: type[_Record]) -> _Record | None:
    """The record stored at *path*, or ``None`` if absent or undecodable.

    An undecodable record is removed, so that it is rewritten by the next
    write rather than decoded again by every reader.
    """
    try:
        data = read_regular(path)
    except OSError:
        # Absent, unreadable (a name too long for this file system), or not
        # a file (a pipe in its place would never end): a miss.
        return None
    try:
        return msgspec.msgpack.decode(data, type=record_type)
    except msgspec.DecodeError:
        path.unlink(missing_ok=True)
        return None


class _Removal:
    """What :class:`_RecordWriter` holds for a file it is to remove."""


_REMOVAL = _Removal()


class _RecordWriter:
    """Writes and removes files in the order given, in a process of its own
    (:class:`~freewheel.util.writer.WriterProcess`, which says why).

    What is put is what readers see (:meth:`pending`) until the process
    confirms it done on disk. A write that fails (a full or read-only disk)
    only costs a later miss. :meth:`close`, or the end of the run, waits for
    the rest. Where no process can be started, or the one started is gone,
    the work it did not confirm, and all later work, is done here instead.

    Requests are sent by a thread of its own, not the caller's: copying
    megabytes into the pipe (a cold resolution keeps its index pages, 20 MB
    for scrapy), and waiting for room in it, would hold up the thread that
    fetches.

    :meth:`pending` takes no lock, only a single dictionary look-up (atomic
    under the GIL): a reader never waits behind the sending thread.
    """

    #: Every writer made, to start afresh in a forked child.
    _every: ClassVar[weakref.WeakSet[_RecordWriter]] = weakref.WeakSet()

    def __init__(self) -> None:
        self._start_afresh()
        self._every.add(self)

    @classmethod
    def _start_every_one_afresh(cls) -> None:
        for writer in cls._every:
            writer._start_afresh()

    def _start_afresh(self) -> None:
        """Start with nothing queued, no process and no thread; also in a
        forked child, whose parent's requests and its own would interleave
        in one pipe, and whose copy of the lock may be held by a thread of
        the parent's that the child does not have."""
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._queued: dict[Path, bytes | _Removal] = {}
        self._sent: collections.deque[tuple[Path, bytes | _Removal]] = collections.deque()
        # What the sending thread has to send, the one it is sending first.
        self._outbox: collections.deque[tuple[Path, bytes | _Removal]] = collections.deque()
        self._sender: threading.Thread | None = None
        self._process: WriterProcess | None = None
        self._use_process = True

    def put(self, path: Path, data: bytes | _Removal) -> None:
        """Have *data* written to *path*, or *path* removed (:data:`_REMOVAL`)."""
        with self._lock:
            if self._use_process and self._process is None:
                try:
                    self._process = WriterProcess.start()
                except OSError:
                    self._use_process = False
                else:
                    atexit.register(self.close)
            if not self._use_process:
                _carry_out(path, data)
                return
            self._queued[path] = data
            self._outbox.append((path, data))
            if self._sender is None:
                # A daemon: it only ever waits between requests once close()
                # (run at exit) has seen the outbox empty.
                sender = threading.Thread(target=self._send_outbox, name="freewheel-cache-sender", daemon=True)
                try:
                    sender.start()
                except RuntimeError:  # no thread to be had (a limit on processes)
                    self._write_here()
                    return
                self._sender = sender
            self._changed.notify_all()

    def pending(self, path: Path) -> bytes | _Removal | None:
        """What is put for *path* and not yet done; ``None`` when nothing is (the disk tells)."""
        # Hashing a path costs more than the look-up; a run reading
        # thousands of records mostly has nothing pending.
        return self._queued.get(path) if self._queued else None

    def close(self) -> None:
        with self._lock:
            while self._outbox:
                self._changed.wait()
            process, self._process = self._process, None
            if process is None:
                return
            atexit.unregister(self.close)
            try:
                self._confirmed(process.close())
            except OSError:
                pass
            # Anything left unconfirmed, the process did not do.
            self._write_here(keep_using_process=True)

    def _send_outbox(self) -> None:
        while True:
            with self._lock:
                while not self._outbox:
                    self._changed.wait()
                path, data = self._outbox[0]
                # Not None: close() waits for the outbox to be empty.
                process = self._process
            done: int | None
            try:
                process.send(path, None if isinstance(data, _Removal) else data)  # type: ignore[union-attr]
                done = process.done()  # type: ignore[union-attr]
            except Exception:  # not only OSError: a sender gone would leave close() waiting forever
                done = None
            with self._lock:
                self._outbox.popleft()
                self._sent.append((path, data))
                if done is None:
                    self._write_here()
                else:
                    self._confirmed(done)
                self._changed.notify_all()

    def _confirmed(self, count: int) -> None:
        for _ in range(count):
            path, data = self._sent.popleft()
            if self._queued.get(path) is data:
                del self._queued[path]

    def _write_here(self, *, keep_using_process: bool = False) -> None:
        """Do here the work sent and not confirmed, and the work not sent;
        unless *keep_using_process*, all later work too, the process being
        unusable."""
        self._use_process = keep_using_process
        for work in (self._sent, self._outbox):
            while work:
                path, data = work.popleft()
                if self._queued.get(path) is data:
                    _carry_out(path, data)
                    del self._queued[path]


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_RecordWriter._start_every_one_afresh)


def _carry_out(path: Path, data: bytes | _Removal) -> None:
    try:
        if isinstance(data, _Removal):
            path.unlink(missing_ok=True)
        else:
            atomic_write_bytes(path, data, private=True)
    except OSError:
        pass


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
        self._writer = _RecordWriter()
        self._project_dirs: dict[tuple[str, str | None], Path] = {}
        tag = root / CACHEDIR_TAG
        try:
            if not tag.is_file():
                atomic_write_bytes(tag, _TAG_CONTENT, private=True)
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
        """The directory of *project*'s entries in *bucket*.

        See :func:`project_dirname`.
        """
        # Remembered: a warm resolution reads thousands of records of a few
        # projects, and each path join parses the path again.
        directory = self._project_dirs.get((bucket, project))
        if directory is None:
            directory = self.bucket(bucket) / project_dirname(project or NO_PROJECT)
            self._project_dirs[(bucket, project)] = directory
        return directory

    def record_path(self, bucket: str, key: str, project: str | None, suffix: str = RECORD_SUFFIX) -> Path:
        """Where the record for the string *key* of *project* lives."""
        return self.project_dir(bucket, project) / (entry_key(key) + suffix)

    def read(
        self,
        bucket: str,
        key: str,
        record_type: type[_Record],
        *,
        project: str | None = None,
        suffix: str = RECORD_SUFFIX,
    ) -> _Record | None:
        """The record stored under *key*, or ``None`` (see :func:`read_record`)."""
        return self.read_path(self.record_path(bucket, key, project, suffix), record_type)

    def read_path(self, path: Path, record_type: type[_Record]) -> _Record | None:
        """The record in the file *path*, or ``None`` (see :func:`read_record`),
        counting what is queued for it."""
        pending = self._writer.pending(path)
        if pending is None:
            return read_record(path, record_type)
        if isinstance(pending, _Removal):
            return None
        try:
            return msgspec.msgpack.decode(pending, type=record_type)
        except msgspec.DecodeError:
            return None

    def read_bytes(self, path: Path) -> bytes | None:
        """The content of the file *path*, counting what is queued for it;
        ``None`` when it is absent, or not a regular file."""
        pending = self._writer.pending(path)
        if pending is None:
            try:
                return read_regular(path)
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError, NotARegularFile):
                return None
        return None if isinstance(pending, _Removal) else pending

    def exists(self, path: Path) -> bool:
        """Whether the file *path* exists, or is queued to."""
        pending = self._writer.pending(path)
        return path.is_file() if pending is None else not isinstance(pending, _Removal)

    def has(self, bucket: str, key: str, *, project: str | None = None) -> bool:
        """Whether a record is stored under *key* (it may still not decode)."""
        return self.exists(self.record_path(bucket, key, project))

    def write(
        self,
        bucket: str,
        key: str,
        record: msgspec.Struct,
        *,
        project: str | None = None,
        suffix: str = RECORD_SUFFIX,
    ) -> None:
        """Store *record* under *key*; *project* lets ``cache clean NAME`` find it.

        The file is written by a process of its own (see :class:`_RecordWriter`):
        a cold resolution stores thousands of records, which the threads that
        resolve and fetch would otherwise wait for. :meth:`read` sees the
        record at once; :meth:`close` waits for the disk.
        """
        self.write_path(self.record_path(bucket, key, project, suffix), msgspec.msgpack.encode(record))

    def write_path(self, path: Path, data: bytes) -> None:
        """Store *data* as the file *path*, as :meth:`write` stores records."""
        self._writer.put(path, data)

    def remove_path(self, path: Path) -> None:
        """Remove the file *path*, in turn with the writes queued before it."""
        self._writer.put(path, _REMOVAL)

    def close(self) -> None:
        """Finish pending writes; remove the directory of a temporary cache, keep any other."""
        self._writer.close()
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
