"""Direct references: ``name @ URL`` and bare paths, brought onto this machine.

A reference points at a wheel, an sdist or a source tree, reached as a
local path, an HTTP(S) URL (downloaded into the store, checked against its
``#sha256=``) or a git repository (``git+URL@rev#subdirectory=``, checked
out with ``git`` from PATH into the cache once per commit; a short commit
hash is expanded once, by a clone, and remembered). What comes out
is the file the resolver and the installer use in place of an index's, its
core metadata, and the PEP 610 ``direct_url.json`` an install records.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import msgspec
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from freewheel.cache import NO_PROJECT
from freewheel.config.indexes import Index
from freewheel.dists.builds.project import BuildError
from freewheel.dists.builds.sdist import Buildable, SdistBuilds
from freewheel.dists.downloads import DistStore
from freewheel.dists.metadata import (
    CoreMetadata,
    DynamicMetadata,
    parse_core_metadata,
    sdist_static_metadata,
    wheel_metadata_bytes,
)
from freewheel.errors import MetadataError, UsageError
from freewheel.index.models import DistFile
from freewheel.util.fs import atomic_write_bytes, file_url_path
from freewheel.util.urls import strip_credentials

if TYPE_CHECKING:
    from freewheel.cache import Cache
    from freewheel.config.settings import Settings


class Materialized(msgspec.Struct, frozen=True):
    """A direct reference on this machine.

    ``dist`` stands for it in a resolution: its ``index`` is the reference
    itself (``format="direct"``, the URL as given, a git one pinned to its
    commit, for output), its ``url``
    where the file is. ``path`` is the wheel, sdist or source tree;
    ``direct_url`` the PEP 610 record of where it came from.
    """

    dist: DistFile
    path: Path
    metadata: CoreMetadata
    direct_url: Mapping[str, Any]


_FULL_COMMIT = re.compile(r"[0-9a-fA-F]{40}")
# Git abbreviates to at least 4 hex digits.
_SHORT_COMMIT = re.compile(r"[0-9a-fA-F]{4,39}")


def _no_revision(url: str, revision: str) -> UsageError:
    return UsageError(
        f"The git repository of {strip_credentials(url)} has no revision {revision!r}.",
        hint="give a tag, a branch or a commit hash",
    )


def _fragment(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).fragment))


def _without_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


class DirectReferences:
    """Brings direct references here: downloads into *store*, git checkouts
    into *git_dir*, metadata read or built through *builds* (``None`` when
    building is off)."""

    def __init__(self, store: DistStore, builds: SdistBuilds | None, git_dir: Path) -> None:
        self.store = store
        self.builds = builds
        self.git_dir = git_dir

    async def materialize(self, url: str, name: NormalizedName | None) -> Materialized:
        """The distribution *url* points at; *name*, when the requirement gave
        one, must be the name its metadata declares."""
        try:
            fragment = _fragment(url)
        except ValueError:
            raise UsageError(f"The direct reference {strip_credentials(url)} is not a valid URL.") from None
        subdirectory = fragment.get("subdirectory")
        direct_url: dict[str, Any] = {"url": strip_credentials(_without_fragment(url))}
        sha256 = fragment.get("sha256")
        written = url
        if url.startswith("git+"):
            checkout, info = await asyncio.to_thread(self._git, url)
            path = checkout / subdirectory if subdirectory else checkout
            # Written pinned to the commit, as uv writes it: a tag or a
            # branch may move, and a short hash is the full one abbreviated.
            tail = urlsplit(url).fragment
            written = f"{info['url']}@{info['commit_id']}" + (f"#{tail}" if tail else "")
            direct_url["url"] = strip_credentials(info.pop("url"))
            direct_url["vcs_info"] = info
        elif file_url_path(url) is not None:
            path = file_url_path(_without_fragment(url))
            assert path is not None
            if subdirectory:
                path = path / subdirectory
            if not path.exists():
                raise UsageError(f"The direct reference {strip_credentials(url)} points at {path}, which does not exist.")
        else:
            path = await self._download(url, name, sha256)
        if subdirectory:
            direct_url["subdirectory"] = subdirectory
        if "vcs_info" in direct_url:
            pass
        elif path.is_dir():
            direct_url["dir_info"] = {}
        else:
            direct_url["archive_info"] = {"hashes": {"sha256": sha256}} if sha256 else {}
        metadata = await self._metadata(path, name, url)
        if name is not None and metadata.name != name:
            raise MetadataError(
                f"The direct reference {strip_credentials(url)} is for {name}, but it holds {metadata.name}."
            )
        wheel = path.is_file() and path.name.endswith(".whl")
        dist = DistFile(
            filename=path.name,
            url=path.as_uri(),
            index=Index(url=written, name="direct reference", format="direct", origin=strip_credentials(written)),
            name=metadata.name,
            version=metadata.version,
            kind="wheel" if wheel else "sdist",
            tags=parse_wheel_filename(path.name)[3] if wheel else frozenset(),
            hashes={"sha256": sha256} if sha256 else {},
            requires_python=metadata.requires_python,
        )
        return Materialized(dist, path, metadata, direct_url)

    async def _download(self, url: str, name: NormalizedName | None, sha256: str | None) -> Path:
        location = _without_fragment(url)
        filename = unquote(urlsplit(location).path.rsplit("/", 1)[-1])
        try:
            if filename.endswith(".whl"):
                parsed_name, version, _, tags = parse_wheel_filename(filename)
                kind = "wheel"
            else:
                parsed_name, version = parse_sdist_filename(filename)
                tags = frozenset()
                kind = "sdist"
        except (InvalidWheelFilename, InvalidSdistFilename):
            raise UsageError(
                f"The direct reference {strip_credentials(url)} is not a wheel or an sdist by its file name."
            ) from None
        dist = DistFile(
            filename=filename,
            url=location,
            index=Index(url=url, format="direct"),
            name=name or parsed_name,
            version=version or Version("0"),
            kind=kind,
            tags=tags,
            hashes={"sha256": sha256} if sha256 else {},
        )
        return await self.store.fetch(dist)

    async def _metadata(self, path: Path, name: NormalizedName | None, url: str) -> CoreMetadata:
        label = name or strip_credentials(url)
        if path.is_file() and path.name.endswith(".whl"):
            try:
                with zipfile.ZipFile(path) as archive:
                    data = wheel_metadata_bytes(archive, path.name)
            except zipfile.BadZipFile:
                raise MetadataError(f"{path.name} is not a valid wheel: it is not a zip file.") from None
            return parse_core_metadata(data, source=path.name)
        if path.is_file():
            try:
                return parse_core_metadata(sdist_static_metadata(path, path.name), source=path.name)
            except DynamicMetadata:
                pass
        if self.builds is None:
            raise BuildError(
                f"The metadata of {label} ({strip_credentials(url)}) is only known after building it, "
                "and building is disabled (--no-build)."
            )
        what = Buildable(path, str(label), name)
        data = await asyncio.to_thread(self.builds.metadata, what)
        return parse_core_metadata(data, source=str(label))

    def _git(self, url: str) -> tuple[Path, dict[str, Any]]:
        """A checkout of the git reference *url*, and its PEP 610 ``vcs_info`` (plus ``url``)."""
        location = _without_fragment(url)[len("git+"):]
        parts = urlsplit(location)
        repository, at, revision = parts.path.rpartition("@")
        if not at or "/" in revision:
            repository, revision = parts.path, ""
        remote = urlunsplit((parts.scheme, parts.netloc, repository, parts.query, ""))
        git = shutil.which("git")
        if git is None:
            raise UsageError(f"The direct reference {strip_credentials(url)} needs git, which is not on PATH.")
        commit = self._resolve_revision(git, remote, revision, url)
        checkout = None if commit is None else self.git_dir / NO_PROJECT / f"git-{commit}"
        if checkout is None or not checkout.is_dir():
            (self.git_dir / NO_PROJECT).mkdir(parents=True, exist_ok=True)
            # Cloned beside its place and renamed into it: never half there.
            staging = Path(tempfile.mkdtemp(prefix=".git-", suffix=".tmp", dir=self.git_dir / NO_PROJECT))
            try:
                self._run(git, ["clone", "--quiet", remote, str(staging)], url)
                if commit is None:
                    commit = self._short_commit(git, staging, remote, revision, url)
                    checkout = self.git_dir / NO_PROJECT / f"git-{commit}"
                if not checkout.is_dir():
                    self._run(git, ["-C", str(staging), "checkout", "--quiet", commit], url)
                    shutil.rmtree(staging / ".git")
                    os.replace(staging, checkout)
            except OSError:
                if checkout is None or not checkout.is_dir():
                    raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        info: dict[str, Any] = {"url": f"git+{remote}", "vcs": "git", "commit_id": commit}
        if revision:
            info["requested_revision"] = revision
        return checkout, info

    def _short_commit_record(self, remote: str, revision: str) -> Path:
        key = hashlib.sha256(f"{strip_credentials(remote)}@{revision.lower()}".encode()).hexdigest()
        return self.git_dir / NO_PROJECT / "git-short-commits" / key

    def _resolve_revision(self, git: str, remote: str, revision: str, url: str) -> str | None:
        """The full commit *revision* names in *remote*; ``None`` for what
        may be a short commit hash never seen before, which only a clone
        can expand (:meth:`_short_commit`)."""
        if _FULL_COMMIT.fullmatch(revision):
            return revision.lower()
        if _SHORT_COMMIT.fullmatch(revision):
            # What a short hash named once it names for good: a later run
            # needs neither the repository nor the network.
            record = self._short_commit_record(remote, revision)
            if record.is_file():
                return record.read_text().strip()
        out = self._run(git, ["ls-remote", remote], url)
        refs = dict(line.split("\t")[::-1] for line in out.splitlines() if "\t" in line)
        # An annotated tag names a tag object; ``^{}`` is the commit it points at.
        wanted = (f"refs/tags/{revision}^{{}}", f"refs/tags/{revision}", f"refs/heads/{revision}") if revision else ("HEAD",)
        for ref in wanted:
            if ref in refs:
                return refs[ref]
        if _SHORT_COMMIT.fullmatch(revision):
            return None
        raise _no_revision(url, revision)

    def _short_commit(self, git: str, clone: Path, remote: str, revision: str, url: str) -> str:
        """The full commit that the short hash *revision* names in *clone*, remembered."""
        try:
            commit = self._run(git, ["-C", str(clone), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], url)
        except UsageError:
            raise _no_revision(url, revision) from None
        commit = commit.strip()
        atomic_write_bytes(self._short_commit_record(remote, revision), commit.encode(), private=True)
        return commit

    @staticmethod
    def _run(git: str, args: list[str], url: str) -> str:
        done = subprocess.run(
            [git, *args], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
        if done.returncode:
            raise UsageError(
                f"git failed for {strip_credentials(url)} (git {args[0]}): {done.stderr.strip() or done.returncode}"
            )
        return done.stdout



def materialize_all(
    wanted: Sequence[tuple[str, NormalizedName | None]],
    *,
    settings: Settings,
    cache: Cache,
    builds: SdistBuilds | None,
) -> list[Materialized]:
    """Each ``(url, name)`` of *wanted* brought here at once (see
    :meth:`DirectReferences.materialize`), through a client of *settings*
    over *cache*; *builds* reads metadata that needs a build (``None``:
    building is off)."""
    from freewheel.cache.http import open_fetcher

    if not wanted:
        return []

    async def every() -> list[Materialized]:
        fetcher = open_fetcher(settings, cache)
        try:
            references = DirectReferences(DistStore(cache.bucket("wheels"), fetcher), builds, cache.bucket("builds"))
            return list(await asyncio.gather(*(references.materialize(url, name) for url, name in wanted)))
        finally:
            await fetcher.aclose()

    return asyncio.run(every())
