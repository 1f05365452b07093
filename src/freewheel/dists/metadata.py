"""Core metadata of a distribution: what it requires.

Sources, cheapest first: the PEP 658 metadata file an index offers next to a
wheel; the ``METADATA`` inside the wheel; the ``PKG-INFO`` of an sdist when
PEP 643 says it is static; else what its build backend prepares
(:mod:`freewheel.dists.builds.sdist`), when builds are allowed.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from freewheel.dists.builds.sdist import Buildable, SdistBuilds
from freewheel.dists.pkginfo import PkgInfoScanner, is_top_pkg_info
from freewheel.dists.remotezip import BadZip, WholeFile, read_member
from freewheel.errors import MetadataError
from freewheel.index.models import DistFile
from freewheel.index.simple import parse_version
from freewheel.net.response import FetchError, Getter
from freewheel.util.fs import file_url_path
from freewheel.util.requirements import check_versions
from freewheel.util.urls import strip_credentials

if TYPE_CHECKING:
    import asyncio
    import zipfile

    from freewheel.cache import Cache
    from freewheel.dists.downloads import DistStore


class CoreMetadata(msgspec.Struct, frozen=True):
    """The parts of a distribution's core metadata the resolver needs."""

    name: NormalizedName
    version: Version
    requires_dist: tuple[Requirement, ...]
    requires_python: SpecifierSet | None
    provides_extra: frozenset[NormalizedName]


def parse_core_metadata(data: bytes, *, source: str) -> CoreMetadata:
    """Parse ``METADATA``/``PKG-INFO`` bytes; *source* names them in errors.

    Parsing is lenient where the resolver does not care (descriptions,
    classifiers) and strict where it does: a malformed ``Requires-Dist``
    makes the whole file unusable, because silently dropping a requirement
    would produce a wrong resolution.
    """
    return _core_metadata(header_fields(data), source=source)


def _core_metadata(fields: Mapping[str, list[str]], *, source: str) -> CoreMetadata:
    """:func:`parse_core_metadata` of the file whose :func:`header_fields` are *fields*."""
    try:
        name = canonicalize_name(fields["name"][0])
        version = parse_version(fields["version"][0])
    except KeyError as missing:
        raise MetadataError(f"The metadata of {source} has no {missing.args[0]} field.") from None
    except InvalidVersion:
        raise MetadataError(
            f"The metadata of {source} has an invalid version {fields['version'][0]!r}."
        ) from None
    requirements = []
    for line in fields.get("requires-dist", []):
        try:
            requirements.append(_requirement(line))
        except InvalidRequirement as error:
            raise MetadataError(
                f"The metadata of {source} has a malformed requirement {line!r}: {error}"
            ) from None
    requires_python = None
    if "requires-python" in fields:
        try:
            requires_python = _specifier_set(fields["requires-python"][0])
        except InvalidSpecifier:
            # Old uploads carry things like ">=2.7.*"; like pip, ignore it
            # rather than make the version unusable.
            requires_python = None
    extras = frozenset(canonicalize_name(e) for e in fields.get("provides-extra", []))
    return CoreMetadata(name, version, tuple(requirements), requires_python, extras)


# The line ends of RFC 822, not str.splitlines()'s, which also breaks at
# U+2028 and other characters a summary may contain.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Where the header ends: an empty line (atomic groups, so that one CRLF is
# not taken for a CR and a LF).
_HEADER_END = re.compile(rb"(?>\r\n|\r|\n)(?>\r\n|\r|\n)")
_WANTED = frozenset({"name", "version", "requires-dist", "requires-python", "provides-extra"})


def header_fields(data: bytes, wanted: frozenset[str] = _WANTED) -> dict[str, list[str]]:
    """The *wanted* fields of a core metadata file's header, lower-cased, each
    with its values in order.

    The format is an RFC 822 header ended by a blank line, then the
    description. The email parser that ``packaging.metadata.parse_email``
    runs on the whole file costs more than the rest of a warm resolution;
    the few fields the resolver reads are taken here line by line, and
    agree with ``parse_email`` (checked by a property test). A value folded
    over several lines is unfolded with single spaces.
    """
    # The description after the header, often most of the file, is neither
    # decoded nor split.
    end = _HEADER_END.search(data)
    text = (data if end is None else data[: end.start()]).decode("utf-8", "replace")
    fields: dict[str, list[str]] = {}
    key: str | None = None
    for line in _LINE_BREAK.split(text):
        if not line:
            # Only an empty line ends the header: one of spaces continues
            # a folded field (licence texts keep their blank lines so).
            break
        if line[0] in " \t":
            if key is not None:
                values = fields[key]
                values[-1] = f"{values[-1]} {line.strip()}".strip()
            continue
        name, colon, value = line.partition(":")
        key = name.strip().lower() if colon else None
        if key is not None and key in wanted:
            fields.setdefault(key, []).append(value.strip())
        else:
            key = None
    return fields


def _checked(metadata: CoreMetadata, dist: DistFile) -> CoreMetadata:
    if metadata.name != dist.name or metadata.version != dist.version:
        raise MetadataError(
            f"{dist.filename} says it is {metadata.name} {metadata.version}, "
            f"which does not match its file name."
        )
    return metadata


def essential_metadata(fields: Mapping[str, list[str]]) -> bytes:
    """What the resolver reads of a metadata file, from its
    :func:`header_fields`: one unfolded line per value.

    What the cache keeps: the description, classifiers and the rest are
    most of a file, and each warm resolution would read and skip them again
    (botocore's header is mostly classifiers).
    """
    return "".join(f"{name}: {value}\n" for name, values in fields.items() for value in values).encode()


@functools.lru_cache(maxsize=1 << 14)
def _requirement(line: str) -> Requirement:
    # Releases of one project repeat the same requirement lines: a walk
    # through a thousand botocore releases reads "jmespath<2.0.0,>=0.7.1"
    # a thousand times.
    requirement = Requirement(line)
    check_versions(requirement)
    return requirement



@functools.lru_cache(maxsize=1 << 12)
def _specifier_set(text: str) -> SpecifierSet:
    return SpecifierSet(text)


def is_metadata_member(name: str) -> bool:
    """Whether a wheel member is its top-level ``*.dist-info/METADATA``."""
    return name.count("/") == 1 and name.endswith(".dist-info/METADATA")


def wheel_metadata_bytes(archive: zipfile.ZipFile, filename: str) -> bytes:
    """The ``*.dist-info/METADATA`` member of a wheel."""
    candidates = [n for n in archive.namelist() if is_metadata_member(n)]
    if len(candidates) != 1:
        raise MetadataError(f"{filename} is not a valid wheel: it has no single .dist-info/METADATA file.")
    return archive.read(candidates[0])


def zip_pkg_info(archive: zipfile.ZipFile) -> bytes:
    """The top-level ``PKG-INFO`` of a ``.zip`` sdist, or ``b""``."""
    names = [n for n in archive.namelist() if is_top_pkg_info(n)]
    return archive.read(names[0]) if names else b""


def _sdist_pkg_info(path: Path, filename: str) -> bytes:
    """The top-level ``PKG-INFO`` of the sdist at *path*, or ``b""``.

    A tar is read as a stream and left at the first ``PKG-INFO``, usually
    among its first members: a large sdist is neither decompressed whole
    nor held in memory.
    """
    # Archives are opened only when the cache has no record of them: a run
    # it serves whole imports neither module.
    import tarfile
    import zipfile

    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                return zip_pkg_info(archive)
        with tarfile.open(path, mode="r|*") as archive:
            for member in archive:
                if is_top_pkg_info(member.name) and member.isfile():
                    extracted = archive.extractfile(member)
                    return extracted.read() if extracted else b""
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as error:
        raise MetadataError(f"{filename} is not a valid source distribution: {error}") from None
    return b""


class DynamicMetadata(MetadataError):
    """An sdist whose dependencies are only known after building it."""


def sdist_static_metadata(path: Path, filename: str) -> bytes:
    """The ``PKG-INFO`` of the sdist at *path* when its metadata is static (PEP 643).

    ``PKG-INFO`` before metadata 2.2, or one that lists ``Requires-Dist`` (or
    ``Requires-Python``) as dynamic, only says what the build produced on
    someone else's machine, so it cannot stand in for a build here.

    :raises DynamicMetadata: when the metadata is not static.
    """
    return static_pkg_info(_sdist_pkg_info(path, filename), filename)


def static_pkg_info(pkg_info: bytes, filename: str) -> bytes:
    """*pkg_info*, the ``PKG-INFO`` of the sdist *filename*, if its metadata is static.

    :raises DynamicMetadata: when it is not, or there is none.
    """
    if pkg_info:
        # Imported here: packaging.metadata and the email package it reads
        # with take 13 ms to import, and only sdists need them.
        from packaging.metadata import parse_email

        raw, _ = parse_email(pkg_info)
        dynamic = {d.lower() for d in raw.get("dynamic", [])}
        metadata_version = Version(raw.get("metadata_version", "1.0"))
        if metadata_version >= Version("2.2") and not {"requires-dist", "requires-python"} & dynamic:
            return pkg_info
    raise DynamicMetadata(
        f"{filename} is a source distribution whose dependencies are only known after "
        "building it, and building is disabled (--no-build).",
        hint="use a version that has a wheel, or allow builds",
    )


def _check_hashes(data: bytes, expected: Mapping[str, str], what: str) -> None:
    for algorithm, digest in expected.items():
        if algorithm not in hashlib.algorithms_guaranteed:
            continue
        actual = hashlib.new(algorithm, data).hexdigest()
        if actual != digest.lower():
            raise MetadataError(
                f"The {algorithm} hash of {what} does not match the index: expected {digest}, got {actual}."
            )
        return


class _WholeFileSpooled(Exception):
    """The server ignored a range request; the whole file is at ``path``."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


def _read_wheel_metadata(path: Path, filename: str) -> bytes:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return wheel_metadata_bytes(archive, filename)
    except zipfile.BadZipFile:
        raise MetadataError(f"{filename} is not a valid wheel: it is not a zip file.") from None


class MetadataRecord(msgspec.Struct, frozen=True):
    """A file's ``METADATA`` (or static ``PKG-INFO``), kept in the cache:
    the fields the resolver reads (older records: the whole header)."""

    metadata: bytes


def _record_key(dist: DistFile) -> str | None:
    """The cache key of *dist*'s metadata, or ``None`` not to cache it.

    Index files never change under their URL (and the sha256, when known,
    pins the content); local files can be rebuilt in place and are cheap to
    read again, so they are not cached.
    """
    if dist.url.startswith("file:"):
        return None
    return f"{strip_credentials(dist.url)}#{dist.hashes.get('sha256', '')}"


def _needed_a_build(task: asyncio.Task[CoreMetadata]) -> bool:
    return task.done() and not task.cancelled() and isinstance(task.exception(), DynamicMetadata)


class MetadataSource:
    """Fetches and memoizes :class:`CoreMetadata` per file URL.

    Concurrent requests for one file share a single fetch, so the resolver
    and the prefetcher never download the same thing twice. :attr:`builds`
    may be given once the target is known: metadata that only a build could
    give is then asked for again.
    """

    def __init__(
        self,
        fetcher: Getter,
        store: DistStore | None = None,
        cache: Cache | None = None,
        builds: SdistBuilds | None = None,
    ) -> None:
        self._fetcher = fetcher
        self.store = store
        self._cache = cache
        self.builds = builds
        self._tasks: dict[str, asyncio.Task[CoreMetadata]] = {}

    def get(self, dist: DistFile) -> asyncio.Task[CoreMetadata]:
        """The task reading *dist*'s metadata, started on the running loop
        unless one already is (see :meth:`cached` for a read without one)."""
        import asyncio  # a run the cache serves whole starts no loop

        task = self._tasks.get(dist.url)
        if task is None or (self.builds is not None and _needed_a_build(task)):
            task = asyncio.ensure_future(self._fetch(dist))
            self._tasks[dist.url] = task
        return task

    async def _download(self, url: str, what: str) -> bytes:
        try:
            response = await self._fetcher.get(url)
        except FetchError as error:
            raise MetadataError.download_failed(what, error.reason) from None
        if response.status != 200:
            raise MetadataError(f"Could not download {what} from {strip_credentials(url)}: HTTP {response.status}.")
        return response.content

    async def _raw_metadata(self, dist: DistFile) -> bytes:
        """The ``METADATA``/``PKG-INFO`` bytes, from the cheapest source."""
        stored = self.store.existing(dist) if self.store is not None else None
        if dist.kind == "sdist":
            return static_pkg_info(await self._sdist_head(dist), dist.filename)
        if stored is not None:
            try:
                return _read_wheel_metadata(stored, dist.filename)
            except MetadataError:
                if file_url_path(dist.url) is not None:
                    raise
                # A damaged copy in the cache: drop it and ask the index.
                stored.unlink(missing_ok=True)
        if dist.kind == "wheel" and dist.metadata_url is not None:
            data = await self._download(dist.metadata_url, f"the metadata of {dist.filename}")
            _check_hashes(data, dist.core_metadata or {}, f"the metadata of {dist.filename}")
            return data
        return await self._wheel_metadata(dist)

    async def _sdist_head(self, dist: DistFile) -> bytes:
        """The ``PKG-INFO`` of the sdist *dist*.

        A ``.tar.gz`` not downloaded yet is read as it arrives, and the
        transfer stops once ``PKG-INFO`` has passed; only when it is not
        found early is the whole file streamed to the store (and kept). A
        ``.zip`` is read like a wheel's ``METADATA``, with range requests.
        """
        assert self.store is not None, "reading an sdist needs a store to download it to"
        if self.store.existing(dist) is None and dist.filename.endswith(".zip"):
            found = await self._zip_member(dist, is_top_pkg_info, b"/PKG-INFO", zip_pkg_info, "source distribution")
            return found or b""
        if self.store.existing(dist) is None and dist.filename.endswith(".tar.gz"):
            try:
                response = await self._fetcher.get(
                    dist.url, spool_to=self.store.spool_path(dist), until=PkgInfoScanner().feed
                )
            except FetchError as error:
                raise MetadataError.download_failed(dist.filename, error.reason) from None
            if response.status != 200:
                raise MetadataError(
                    f"Could not download {dist.filename} from {strip_credentials(dist.url)}: HTTP {response.status}."
                )
            if response.path is None:
                return response.content
            return _sdist_pkg_info(self.store.adopt(dist, response.path), dist.filename)
        return _sdist_pkg_info(await self._sdist(dist), dist.filename)

    async def _sdist(self, dist: DistFile) -> Path:
        """*dist*'s file on disk: streamed there whole, its hash checked."""
        assert self.store is not None, "reading an sdist needs a store to download it to"
        return await self.store.fetch(dist)

    async def _wheel_metadata(self, dist: DistFile) -> bytes:
        """``METADATA`` read with range requests: kilobytes, not the wheel."""
        metadata = await self._zip_member(
            dist,
            is_metadata_member,
            b".dist-info/METADATA",
            functools.partial(wheel_metadata_bytes, filename=dist.filename),
            "wheel",
        )
        if metadata is None:
            raise MetadataError(f"{dist.filename} is not a valid wheel: it has no .dist-info/METADATA file.")
        return metadata

    async def _zip_member(
        self,
        dist: DistFile,
        wanted: Callable[[str], bool],
        hint: bytes,
        read_whole: Callable[[zipfile.ZipFile], bytes],
        what: str,
    ) -> bytes | None:
        """The member of the zip *dist* that *wanted* selects, read with range
        requests; ``None`` if it has none. *hint* is part of every name
        *wanted* takes (see :func:`~freewheel.dists.remotezip.find_member`);
        *what* names the kind of file in errors.

        A server without range support answers the first request with the
        whole file; it is streamed to disk, checked against the index's
        hash, kept for the install (or the build), so it is downloaded once,
        and *read_whole* reads the member from it.
        """
        spool = self.store.spool_path(dist) if self.store is not None else None

        async def fetch(start: int, end: int | None) -> tuple[int, bytes, str | None]:
            spec = f"bytes=-{start}" if end is None else f"bytes={start}-{end}"
            try:
                response = await self._fetcher.get(dist.url, headers={"Range": spec}, spool_to=spool)
            except FetchError as error:
                raise MetadataError.download_failed(dist.filename, error.reason) from None
            if response.path is not None:
                raise _WholeFileSpooled(response.path)
            if response.status not in (200, 206):
                raise MetadataError(
                    f"Could not download {dist.filename} from {strip_credentials(dist.url)}: HTTP {response.status}."
                )
            return response.status, response.content, response.headers.get("content-range")

        import io
        import zipfile

        try:
            try:
                result = await read_member(fetch, wanted, hint)
            except _WholeFileSpooled as spooled:
                assert self.store is not None
                with zipfile.ZipFile(self.store.adopt(dist, spooled.path)) as archive:
                    return read_whole(archive)
            if isinstance(result, WholeFile):
                _check_hashes(result.content, dist.hashes, dist.filename)
                with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
                    return read_whole(archive)
        except (BadZip, zipfile.BadZipFile) as error:
            raise MetadataError(f"{dist.filename} is not a valid {what}: {error}.") from None
        return result

    def is_cached(self, dist: DistFile) -> bool:
        """Whether *dist*'s metadata is in the cache (without reading it)."""
        key = _record_key(dist)
        return key is not None and self._cache is not None and self._cache.has("metadata", key, project=dist.name)

    def cached(self, dist: DistFile) -> CoreMetadata | None:
        """*dist*'s metadata if the cache has it, read on the caller's thread.

        A warm resolution reads thousands of records; asking the I/O thread
        for each would cost a hop between threads apiece.
        """
        key = _record_key(dist)
        if key is None or self._cache is None:
            return None
        record = self._cache.read("metadata", key, MetadataRecord, project=dist.name)
        return None if record is None else _checked(parse_core_metadata(record.metadata, source=dist.filename), dist)

    async def _fetch(self, dist: DistFile) -> CoreMetadata:
        cached = self.cached(dist)
        if cached is not None:
            return cached
        try:
            raw = await self._raw_metadata(dist)
        except DynamicMetadata:
            if self.builds is None:
                raise
            # Kept by the build cache, per config settings, not as a record.
            import asyncio

            built = await asyncio.to_thread(self.builds.metadata, Buildable.of(dist, await self._sdist(dist)))
            return _checked(parse_core_metadata(built, source=dist.filename), dist)
        fields = header_fields(raw)
        key = _record_key(dist)
        if key is not None and self._cache is not None:
            self._cache.write("metadata", key, MetadataRecord(essential_metadata(fields)), project=dist.name)
        return _checked(_core_metadata(fields, source=dist.filename), dist)
