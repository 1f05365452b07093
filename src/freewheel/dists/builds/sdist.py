"""Source distributions and source trees into metadata and wheels, each built once.

What a build produced is kept in the cache's ``builds`` bucket, per project,
under the sdist's sha256 (a tree's fingerprint: its files' paths, sizes and
modification times) and a digest of the ``--config-settings`` and the
build constraints::

    builds-v1/<project>/<sdist sha256>/<settings digest>/METADATA
    builds-v1/<project>/tree-<fingerprint>/<settings digest>/<wheel>

so a second resolution or install of the same file builds nothing, and
``freewheel cache clean PKG`` removes the lot.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Collection
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import msgspec
from packaging.utils import NormalizedName

from freewheel.cache import NO_PROJECT, project_dirname
from freewheel.dists.builds.frontend import Frontend, Source
from freewheel.dists.builds.project import BuildError, static_metadata
from freewheel.dists.hashing import sha256_file
from freewheel.index.models import DistFile
from freewheel.util.fs import atomic_write_bytes

if TYPE_CHECKING:
    from freewheel.dists.downloads import DistStore


def unpack_sdist(path: Path, into: Path) -> Path:
    """Extract the sdist at *path* into *into*; return its source tree.

    Members that would land outside *into* (absolute paths, ``..``, links
    pointing out, device files) make the archive invalid rather than
    being skipped.
    """
    # Imported here, as json below: resolving needs this module, but only
    # building unpacks or keys anything.
    import tarfile
    import zipfile

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


# What a build writes into a source tree, and what never goes into a wheel:
# left out of a tree's fingerprint, or every build would invalidate itself.
_NOT_SOURCE = frozenset({".git", ".hg", "__pycache__", "build", "dist", ".tox", ".nox", ".venv"})


def tree_fingerprint(tree: Path) -> str:
    """A digest of the paths, sizes and modification times of *tree*'s files.

    Cheap next to hashing contents, and what an edit changes; build
    outputs (``build/``, ``*.egg-info``) are left out.
    """
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(tree):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_SOURCE and not d.endswith(".egg-info"))
        for name in sorted(files):
            path = Path(root, name)
            stat = path.stat()
            digest.update(f"{path.relative_to(tree).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class Buildable(msgspec.Struct, frozen=True):
    """An sdist file or a source tree at *path* to build.

    ``label`` names it in messages (``name version``, or a path); ``name``
    is its project when known (the cache keeps builds per project);
    ``sha256`` is an sdist's digest when an index or a URL vouched for it.
    """

    path: Path
    label: str
    name: NormalizedName | None = None
    sha256: str | None = None

    @classmethod
    def of(cls, dist: DistFile, path: Path) -> Buildable:
        """The sdist *dist*, whose file is at *path*."""
        return cls(path, f"{dist.name} {dist.version}", dist.name, dist.hashes.get("sha256"))


class SdistBuilds:
    """Metadata and wheels of sdists and source trees, from the build cache
    or built by *frontend*.

    *bucket* is the cache's ``builds`` bucket; *on_build* is told each time
    a build really runs (``-v``, and what tests count).
    """

    def __init__(self, frontend: Frontend, bucket: Path, on_build: Callable[[str], None] | None = None) -> None:
        self.frontend = frontend
        self.bucket = bucket
        self.on_build = on_build

    def _entry(self, what: Buildable) -> Path:
        if what.path.is_dir():
            key = f"tree-{tree_fingerprint(what.path)}"
        else:
            key = (what.sha256 or sha256_file(what.path)).lower()
        import json

        options = self.frontend.options
        settings = json.dumps(options.settings_for(what.name), sort_keys=True)
        if options.environment_key:
            # Other build constraints can fill the environment with other
            # versions of the backend, which build another wheel. (Without
            # any, the digest is the settings' alone, as before.)
            settings += f"\n{options.environment_key}"
        project = project_dirname(what.name or NO_PROJECT)
        return self.bucket / project / key / hashlib.sha256(settings.encode()).hexdigest()[:16]

    def metadata(self, what: Buildable) -> bytes:
        """The core metadata of *what*: its static ``[project]`` table when
        that says all, else what its backend prepares."""
        entry = self._entry(what)
        cached = entry / "METADATA"
        if cached.is_file():
            return cached.read_bytes()
        with tempfile.TemporaryDirectory(prefix="freewheel-sdist-") as scratch:
            source = self._source(what, Path(scratch))
            data = static_metadata(source.tree)
            if data is None:
                self._announce(what, "to read its metadata")
                dist_info = self.frontend.prepare_metadata(source, Path(scratch) / "metadata")
                data = (dist_info / "METADATA").read_bytes()
        atomic_write_bytes(cached, data, private=True)
        return data

    def wheel(self, what: Buildable) -> Path:
        """A wheel built from *what*."""
        entry = self._entry(what)
        built = sorted(entry.glob("*.whl")) if entry.is_dir() else []
        if built:
            return built[0]
        with tempfile.TemporaryDirectory(prefix="freewheel-sdist-") as scratch:
            source = self._source(what, Path(scratch))
            self._announce(what, "to install it")
            wheel = self.frontend.build(source, "wheel", Path(scratch) / "wheel")
            entry.mkdir(parents=True, exist_ok=True)
            # Renamed into place whole: a concurrent reader sees no wheel or all of it.
            staged = entry / f".{wheel.name}.tmp"
            shutil.copyfile(wheel, staged)
            os.replace(staged, entry / wheel.name)
        return entry / wheel.name

    def _source(self, what: Buildable, scratch: Path) -> Source:
        if what.path.is_dir():
            return Source(what.path, what.label, what.name)
        tree = unpack_sdist(what.path, scratch / "src")
        return Source(tree, what.label, what.name, origin=str(what.path))

    def _announce(self, what: Buildable, why: str) -> None:
        if self.on_build is not None:
            self.on_build(f"Building {what.label} from {what.path.name} {why}")


async def fetch_wheel(
    store: DistStore, dist: DistFile, builds: SdistBuilds | None, *, allowed_sha256: Collection[str] = ()
) -> Path:
    """The local path of a wheel that installs *dist*: its file, fetched
    into *store* and checked against its hashes (and *allowed_sha256*), or
    for an sdist the wheel *builds* makes of that file.

    :raises BuildError: for an sdist when building is off (*builds* is ``None``).
    """
    path = await store.fetch(dist, allowed_sha256=allowed_sha256)
    if dist.kind != "sdist":
        return path
    if builds is None:
        raise BuildError(
            f"{dist.name} {dist.version} has only a source distribution ({dist.filename}), and building is disabled."
        )
    import asyncio  # here: resolving from the cache alone imports none

    return await asyncio.to_thread(builds.wheel, Buildable.of(dist, path))
