"""Removing cache entries: ``freewheel cache clean`` and ``freewheel cache prune``.

Removals hold the lock file ``<root>/.lock`` (with :mod:`filelock`), the one
place the cache needs a lock: removing a directory tree is not atomic, and
two removals of one tree at once trip over each other. Commands using the
cache meanwhile are safe without it: an entry removed under a reader reads
as absent, and a write into a removed directory recreates it (or, if its
temporary file was removed, is lost, which costs a download).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import filelock
import msgspec

from freewheel.cache import (
    BUCKETS,
    CACHEDIR_TAG,
    OFFLINE_SUFFIX,
    RECORD_SUFFIX,
    is_temporary,
    project_dirname,
)
from freewheel.errors import UsageError

LOCK_NAME = ".lock"
_KEPT = frozenset((CACHEDIR_TAG, LOCK_NAME))
_BUCKET_NAME = re.compile(r"(?P<family>.+)-v(?P<version>\d+)")


class Removal(msgspec.Struct):
    """How much was removed: files and their bytes."""

    files: int = 0
    bytes: int = 0

    def remove(self, path: Path) -> None:
        """Remove the file or tree *path*, counting what it held."""
        for file in _files(path):
            try:
                self.bytes += file.lstat().st_size
                self.files += 1
            except FileNotFoundError:
                pass
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)

    def __iadd__(self, other: Removal) -> Removal:
        self.files += other.files
        self.bytes += other.bytes
        return self


class Pruned(msgspec.Struct):
    """What :func:`prune` removed, by reason."""

    temporary: Removal = msgspec.field(default_factory=Removal)
    old_buckets: Removal = msgspec.field(default_factory=Removal)
    undecodable: Removal = msgspec.field(default_factory=Removal)
    offline_copies: Removal = msgspec.field(default_factory=Removal)

    @property
    def total(self) -> Removal:
        total = Removal()
        for part in (self.temporary, self.old_buckets, self.undecodable, self.offline_copies):
            total += part
        return total


def _files(path: Path) -> Iterator[Path]:
    if not path.is_dir() or path.is_symlink():
        yield path
        return
    for directory, _, names in os.walk(path):
        for name in names:
            yield Path(directory, name)


def _check_is_cache(root: Path) -> None:
    """Refuse to remove anything from a directory freewheel did not create.

    ``--cache-dir`` pointing at the wrong directory must not cost the user
    their files.
    """
    if root.is_dir() and not (root / CACHEDIR_TAG).is_file() and any(root.iterdir()):
        raise UsageError(
            f"{root} is not a freewheel cache (it has no {CACHEDIR_TAG} file), so nothing was removed.",
            hint="Check --cache-dir and FREEWHEEL_CACHE_DIR.",
        )


def _lock(root: Path) -> filelock.FileLock:
    return filelock.FileLock(root / LOCK_NAME)


def clean(root: Path, packages: Iterable[str] = ()) -> Removal:
    """Remove the whole cache at *root*, or only the entries of *packages*
    (canonical names) from every bucket."""
    removal = Removal()
    if not root.is_dir():
        return removal
    _check_is_cache(root)
    names = tuple(packages)
    with _lock(root):
        if not names:
            for child in root.iterdir():
                if child.name not in _KEPT:
                    removal.remove(child)
            return removal
        for bucket in root.iterdir():
            if bucket.is_dir() and _family_version(bucket.name):
                for name in names:
                    entries = bucket / project_dirname(name)
                    if entries.exists():
                        removal.remove(entries)
    return removal


def _family_version(name: str) -> tuple[str, int] | None:
    """``("http", 1)`` for ``http-v1``; ``None`` for what is not a bucket's name."""
    match = _BUCKET_NAME.fullmatch(name)
    return None if match is None else (match.group("family"), int(match.group("version")))


_CURRENT_VERSIONS = dict(filter(None, map(_family_version, BUCKETS.values())))


def _is_old_bucket(path: Path) -> bool:
    """A bucket of a known family with a version older than the current one.

    Newer versions are left alone: they belong to a newer freewheel sharing
    the cache.
    """
    parsed = _family_version(path.name)
    if parsed is None or not path.is_dir():
        return False
    family, version = parsed
    return family in _CURRENT_VERSIONS and version < _CURRENT_VERSIONS[family]


def _decodes(path: Path) -> bool:
    try:
        msgspec.msgpack.decode(path.read_bytes())
    except msgspec.DecodeError:
        return False
    except FileNotFoundError:
        pass
    return True


def prune(root: Path, *, offline_max_age: float, now: float) -> Pruned:
    """Remove what no command will use from the cache at *root*.

    That is: temporary files left by interrupted writes, and the staging
    directories of unpacks killed midway (untouched for
    :data:`STAGING_MAX_AGE` seconds: a younger one may be in use); buckets of
    older format versions; records that do not decode; and offline-only
    copies of ``no-store`` responses last written more than
    *offline_max_age* seconds before *now*. Entries that are merely stale
    are kept: they are revalidated cheaply online and still serve
    ``--offline``.
    """
    pruned = Pruned()
    if not root.is_dir():
        return pruned
    _check_is_cache(root)
    with _lock(root):
        for child in root.iterdir():
            if _is_old_bucket(child):
                pruned.old_buckets.remove(child)
            elif child.is_dir() and not child.is_symlink():
                for staging in _abandoned_staging(child, now):
                    pruned.temporary.remove(staging)
        for file in list(_files(root)):
            if is_temporary(file):
                pruned.temporary.remove(file)
            elif file.name.endswith(RECORD_SUFFIX) and not _decodes(file):
                pruned.undecodable.remove(file)
            elif file.name.endswith(OFFLINE_SUFFIX) and _age(file, now) > offline_max_age:
                pruned.offline_copies.remove(file)
    return pruned


#: Seconds after which a staging directory (``.unpacking-*``, ``.damaged-*``)
#: belongs to no running command: unpacking the largest wheels takes minutes.
STAGING_MAX_AGE = 3600.0

_STAGING_PREFIXES = (".unpacking-", ".damaged-")


def _abandoned_staging(bucket: Path, now: float) -> list[Path]:
    """The staging directories in *bucket* that no running command uses."""
    return [
        child
        for child in bucket.iterdir()
        if child.name.startswith(_STAGING_PREFIXES)
        and child.is_dir()
        and not child.is_symlink()
        and _age(child, now) > STAGING_MAX_AGE
    ]


def _age(path: Path, now: float) -> float:
    try:
        return now - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
