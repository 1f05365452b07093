"""Whole distribution files, downloaded once and kept in the cache.

Files are stored under the cache's ``wheels`` bucket, per project, by their sha256 when
the index gave one (so the same file reached through two mirrors is kept
once) and by their credential-free URL otherwise. A file is checked against
its hash before it is moved into place, and again each time it is used for
an install: a copy damaged since (a truncated or garbled file) is removed
and downloaded anew, so one bad copy never fails every later install. Local
files (``file://`` URLs, find-links directories) are used where they are,
after the same check.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Collection
from pathlib import Path

from freewheel.dists.hashing import sha256_file
from freewheel.errors import MetadataError
from freewheel.index.models import DistFile
from freewheel.net.response import FetchError, Getter
from freewheel.util.fs import file_url_path
from freewheel.util.urls import strip_credentials


class HashMismatch(MetadataError):
    """A downloaded file is not the file the index or the user vouched for."""


def check_sha256(path: Path, expected: str | None, what: str) -> None:
    if expected is not None:
        actual = sha256_file(path)
        if actual != expected.lower():
            raise HashMismatch(
                f"The sha256 of {what} is {actual}, but {expected} was expected. "
                "The file may be corrupt or tampered with; nothing was installed.",
            )


def _intact(dist: DistFile, path: Path) -> bool:
    """Whether the stored copy of *dist* is still the file that was stored."""
    expected = dist.hashes.get("sha256")
    try:
        if expected is not None:
            return sha256_file(path) == expected.lower()
        import zipfile  # only for a file without a hash to check

        return dist.kind != "wheel" or zipfile.is_zipfile(path)
    except OSError:
        return False


def _remove(path: Path) -> None:
    """Remove what stands where a stored file belongs (a damaged file, or
    a directory put there by mistake)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class DistStore:
    """Distribution files in *bucket*, fetched through *fetcher* on demand."""

    def __init__(self, bucket: Path, fetcher: Getter) -> None:
        self.bucket = bucket
        self._fetcher = fetcher

    def path_for(self, dist: DistFile) -> Path:
        if "sha256" in dist.hashes:
            key = dist.hashes["sha256"].lower()
        else:
            key = hashlib.sha256(strip_credentials(dist.url).encode()).hexdigest()
        # Per project, as every cache bucket, so `cache clean PKG` finds it.
        return self.bucket.joinpath(dist.name, key, dist.filename)

    def existing(self, dist: DistFile) -> Path | None:
        """The local copy of *dist*'s file, if there is one already."""
        path = file_url_path(dist.url) or self.path_for(dist)
        return path if path.is_file() else None

    async def fetch(self, dist: DistFile, *, allowed_sha256: Collection[str] = ()) -> Path:
        """The local path of *dist*'s file, downloading it if needed.

        The index's sha256 must match, and when *allowed_sha256* (a
        requirement's ``--hash`` values) is given, the file's sha256 must be
        one of them. A file already in the store was checked when stored.
        """
        path = file_url_path(dist.url)
        if path is not None:
            check_sha256(path, dist.hashes.get("sha256"), dist.filename)
        else:
            path = self.path_for(dist)
            damaged = os.path.lexists(path) and not (path.is_file() and _intact(dist, path))
            if damaged:
                _remove(path)
            if not path.is_file():
                try:
                    await self._download(dist)
                except MetadataError as error:
                    if not damaged:
                        raise
                    raise MetadataError(
                        f"The cached copy of {dist.filename} was damaged and has been removed, "
                        f"and downloading it again failed: {error.message} Run online, or clear "
                        f"it with `freewheel cache clean {dist.name}`."
                    ) from None
        if allowed_sha256 and sha256_file(path) not in allowed_sha256:
            raise HashMismatch(
                f"{dist.filename} matches none of the hashes the requirements give for it "
                "(--hash); nothing was installed."
            )
        return path

    def spool_path(self, dist: DistFile) -> Path:
        """A temporary name, next to *dist*'s place, to stream its file into."""
        final = self.path_for(dist)
        return final.with_name(f".{final.name}.{uuid.uuid4().hex}.tmp")

    def adopt(self, dist: DistFile, spooled: Path) -> Path:
        """Check a file streamed to :meth:`spool_path` and move it into place."""
        try:
            check_sha256(spooled, dist.hashes.get("sha256"), dist.filename)
            path = self.path_for(dist)
            os.replace(spooled, path)
            return path
        finally:
            spooled.unlink(missing_ok=True)

    async def _download(self, dist: DistFile) -> None:
        spooled = self.spool_path(dist)
        try:
            response = await self._fetcher.get(dist.url, spool_to=spooled)
        except FetchError as error:
            raise MetadataError.download_failed(dist.filename, error.reason) from None
        if response.status != 200 or response.path is None:
            spooled.unlink(missing_ok=True)
            raise MetadataError(
                f"Could not download {dist.filename} from {strip_credentials(dist.url)}: HTTP {response.status}."
            )
        self.adopt(dist, spooled)
