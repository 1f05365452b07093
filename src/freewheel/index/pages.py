"""Project pages as the cache keeps them: parsed once, made into objects per
version only when asked.

A warm resolution reads every project page it needs from the cache. Parsing
a page (pyzmq's lists thousands of files) and building a
:class:`~freewheel.index.models.DistFile` for each file costs far more than
the resolver uses: it looks at one or two versions of most projects. So a
page is kept as a :class:`ProjectPage` (plain strings, grouped by version,
newest first), and :class:`PageFiles` builds the objects of a version's
files on first use.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import overload

import msgspec
from packaging.utils import NormalizedName
from packaging.version import Version

from freewheel.config.indexes import Index
from freewheel.index.models import DistFile
from freewheel.index.simple import PageEntry, UnreadablePage, dist_of, page_entries, parse_version
from freewheel.net.response import Response


_FILES = msgspec.msgpack.Decoder(list[PageEntry])


class ProjectPage(msgspec.Struct, array_like=True, frozen=True):
    """What an index answered for a project page: its HTTP *status*, and for
    a 200 the usable files grouped by version, newest first (the version, the
    number of its files, and the files), or why the page could not be read
    (*unreadable*).

    Each version's files stay encoded (a ``list[PageEntry]``) until that
    version is looked at: decoding every file of every page a resolution
    reads cost more than the rest of a warm resolution.
    """

    status: int
    versions: list[tuple[str, int, msgspec.Raw]] = []
    unreadable: str | None = None


def read_page(response: Response, index: Index, project: NormalizedName) -> ProjectPage:
    """The :class:`ProjectPage` of *response*, a project page of *index*."""
    if response.status != 200:
        return ProjectPage(response.status)
    try:
        grouped = page_entries(
            response.content, response.headers.get("content-type"), response.url, index, project
        )
    except UnreadablePage as exc:
        return ProjectPage(200, unreadable=exc.reason)
    return ProjectPage(
        200,
        [
            (text, len(grouped[text]), msgspec.Raw(msgspec.msgpack.encode(grouped[text])))
            for text in sorted(grouped, key=parse_version, reverse=True)
        ],
    )


class _Lazy(Sequence[DistFile]):
    """A sequence of files made on first look, by :meth:`_make`."""

    __slots__ = ("_files",)

    def __init__(self) -> None:
        self._files: tuple[DistFile, ...] | None = None

    def _make(self) -> tuple[DistFile, ...]:
        raise NotImplementedError

    def _made(self) -> tuple[DistFile, ...]:
        if self._files is None:
            self._files = self._make()
        return self._files

    @overload
    def __getitem__(self, position: int) -> DistFile: ...
    @overload
    def __getitem__(self, position: slice) -> Sequence[DistFile]: ...
    def __getitem__(self, position: int | slice) -> DistFile | Sequence[DistFile]:
        return self._made()[position]

    def __iter__(self) -> Iterator[DistFile]:
        return iter(self._made())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return self._made() == tuple(other)

    __hash__ = None  # type: ignore[assignment]


class VersionFiles(_Lazy):
    """The files of one version of a kept page."""

    __slots__ = ("_count", "_entries", "_index")

    def __init__(self, count: int, entries: msgspec.Raw, index: Index) -> None:
        super().__init__()
        self._count = count
        self._entries: msgspec.Raw | list[PageEntry] = entries
        self._index = index

    def _decoded(self) -> list[PageEntry]:
        if isinstance(self._entries, msgspec.Raw):
            self._entries = _FILES.decode(self._entries)
        return self._entries

    def _make(self) -> tuple[DistFile, ...]:
        return tuple(dist_of(e, self._index) for e in self._decoded())

    def __len__(self) -> int:
        return self._count


class PageFiles(_Lazy):
    """Every file of a kept page, newest version first; :attr:`by_version`
    reaches one version's files without making the others'."""

    __slots__ = ("by_version",)

    def __init__(self, page: ProjectPage, index: Index) -> None:
        super().__init__()
        self.by_version: dict[Version, VersionFiles] = {}
        for text, count, entries in page.versions:
            version = parse_version(text)
            self.by_version[version] = VersionFiles(count, entries, index)

    def _make(self) -> tuple[DistFile, ...]:
        return tuple(dist for files in self.by_version.values() for dist in files)

    def __len__(self) -> int:
        return sum(len(files) for files in self.by_version.values())
