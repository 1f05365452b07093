"""Source distributions into metadata and wheels, each built once.

What a build produced is kept in the cache's ``builds`` bucket, per project,
under the sdist's sha256 and a digest of the ``--config-settings``::

    builds-v1/<project>/<sdist sha256>/<settings digest>/METADATA
    builds-v1/<project>/<sdist sha256>/<settings digest>/<wheel>

so a second resolution or install of the same file builds nothing, and
``freewheel cache clean PKG`` removes the lot.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from freewheel.dists.builds.frontend import Frontend, Source
from freewheel.dists.builds.project import BuildError
from freewheel.dists.hashing import sha256_file
from freewheel.index.models import DistFile
from freewheel.util.fs import atomic_write_bytes


def unpack_sdist(path: Path, into: Path) -> Path:
    """Extract the sdist at *path* into *into*; return its source tree.

    Members that would land outside *into* (absolute paths, ``..``, links
    pointing out, device files) make the archive invalid rather than
    being skipped.
    """
    invalid = f"{path.name} is not a valid source distribution"
    try:
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                _check_members(invalid, names)
                archive.extractall(into)
        else:
            with tarfile.open(path) as archive:
                members = archive.getmembers()
                names = [m.name for m in members]
                _check_members(invalid, names)
                for member in members:
                    if member.issym() or member.islnk():
                        _check_members(invalid, [str(PurePosixPath(member.name).parent / member.linkname)])
                    elif not (member.isfile() or member.isdir()):
                        raise BuildError(f"{invalid}: {member.name} is a special file.")
                archive.extractall(into, members=members)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as error:
        raise BuildError(f"{invalid}: {error}") from None
    tops = {PurePosixPath(name).parts[0] for name in names}
    if len(tops) != 1:
        raise BuildError(f"{invalid}: it has no single top directory.")
    return into / tops.pop()


def _check_members(invalid: str, names: list[str]) -> None:
    for name in names:
        parts = PurePosixPath(name).parts
        if not parts or PurePosixPath(name).is_absolute() or ".." in parts:
            raise BuildError(f"{invalid}: the member {name!r} escapes it.")


class SdistBuilds:
    """Metadata and wheels of sdists, from the build cache or built by *frontend*.

    *bucket* is the cache's ``builds`` bucket; *on_build* is told each time
    a build really runs (``-v``, and what tests count).
    """

    def __init__(self, frontend: Frontend, bucket: Path, on_build: Callable[[str], None] | None = None) -> None:
        self.frontend = frontend
        self.bucket = bucket
        self.on_build = on_build

    def _entry(self, dist: DistFile, sdist: Path) -> Path:
        digest = dist.hashes.get("sha256") or sha256_file(sdist)
        settings = json.dumps(dict(self.frontend.options.config_settings), sort_keys=True)
        return self.bucket / dist.name / digest.lower() / hashlib.sha256(settings.encode()).hexdigest()[:16]

    def metadata(self, dist: DistFile, sdist: Path) -> bytes:
        """The core metadata of *dist* (whose file is at *sdist*), as its backend prepares it."""
        entry = self._entry(dist, sdist)
        cached = entry / "METADATA"
        if cached.is_file():
            return cached.read_bytes()
        with tempfile.TemporaryDirectory(prefix="freewheel-sdist-") as scratch:
            source = self._source(dist, sdist, Path(scratch))
            self._announce(dist, "to read its metadata")
            dist_info = self.frontend.prepare_metadata(source, Path(scratch) / "metadata")
            data = (dist_info / "METADATA").read_bytes()
        atomic_write_bytes(cached, data)
        return data

    def wheel(self, dist: DistFile, sdist: Path) -> Path:
        """A wheel built from *dist* (whose file is at *sdist*)."""
        entry = self._entry(dist, sdist)
        built = sorted(entry.glob("*.whl")) if entry.is_dir() else []
        if built:
            return built[0]
        with tempfile.TemporaryDirectory(prefix="freewheel-sdist-") as scratch:
            source = self._source(dist, sdist, Path(scratch))
            self._announce(dist, "to install it")
            wheel = self.frontend.build(source, "wheel", Path(scratch) / "wheel")
            entry.mkdir(parents=True, exist_ok=True)
            # Renamed into place whole: a concurrent reader sees no wheel or all of it.
            staged = entry / f".{wheel.name}.tmp"
            shutil.copyfile(wheel, staged)
            os.replace(staged, entry / wheel.name)
        return entry / wheel.name

    def _source(self, dist: DistFile, sdist: Path, scratch: Path) -> Source:
        tree = unpack_sdist(sdist, scratch / "src")
        return Source(tree, f"{dist.name} {dist.version}", dist.name, origin=str(sdist))

    def _announce(self, dist: DistFile, why: str) -> None:
        if self.on_build is not None:
            self.on_build(f"Building {dist.name} {dist.version} from {dist.filename} {why}")
