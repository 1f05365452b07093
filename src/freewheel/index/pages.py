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
from freewheel.index.simple import (
    PageEntry,
    UnreadablePage,
    dist_of,
    page_files,
    page_versions,
    parse_version,
    version_entries,
)
from freewheel.net.response import Response


class ProjectPage(msgspec.Struct, array_like=True, frozen=True):
    """What an index answered for a project page: its HTTP *status*, and for
    a 200 the usable files grouped by version, newest first (each version
    with the positions of its files in *files*), or why the page could not
    be read (*unreadable*). *url* is the page's, which relative file URLs
    resolve against.

    The files stay encoded, as :attr:`~freewheel.index.simple.PageVersions.files`,
    until a version of theirs is looked at: decoding every file of every page
    a resolution reads cost more than the rest of a warm resolution.
    """

    status: int
    versions: list[tuple[str, list[int]]] = []
    files: bytes = b""
    unreadable: str | None = None
    url: str = ""


def read_page(response: Response, index: Index, project: NormalizedName) -> ProjectPage:
    """The :class:`ProjectPage` of *response*, a project page of *index*."""
    if response.status != 200:
        return ProjectPage(response.status)
    try:
        grouped, files = page_versions(
            response.content, response.headers.get("content-type"), response.url, index, project
        )
    except UnreadablePage as exc:
        return ProjectPage(200, unreadable=exc.reason)
    return ProjectPage(
        200,
        [(text, grouped[text]) for text in sorted(grouped, key=parse_version, reverse=True)],
        files,
        url=response.url,
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

    __slots__ = ("_entries", "_page", "_positions", "_text")

    def __init__(self, positions: list[int], text: str, page: PageFiles) -> None:
        super().__init__()
        self._positions = positions
        self._entries: list[PageEntry] | None = None
        self._text = text
        self._page = page

    def _decoded(self) -> list[PageEntry]:
        if self._entries is None:
            files = self._page.encoded()
            try:
                self._entries = version_entries(map(files.__getitem__, self._positions), self._page.url)
            except msgspec.DecodeError as exc:
                raise UnreadablePage(
                    self._page.index, self._page.project, f"a file of version {self._text} is malformed ({exc})"
                ) from None
        return self._entries

    def _make(self) -> tuple[DistFile, ...]:
        return tuple(dist_of(e, self._page.index) for e in self._decoded())

    def __len__(self) -> int:
        return len(self._positions)


class PageFiles(_Lazy):
    """Every file of a kept page, newest version first; :attr:`by_version`
    reaches one version's files without making the others'."""

    __slots__ = ("_document", "_encoded", "by_version", "index", "project", "url")

    def __init__(self, page: ProjectPage, index: Index, project: NormalizedName) -> None:
        super().__init__()
        self.index = index
        self.project = project
        self.url = page.url
        self._document = page.files
        self._encoded: list[msgspec.Raw] | None = None
        self.by_version: dict[Version, VersionFiles] = {}
        for text, positions in page.versions:
            version = parse_version(text)
            self.by_version[version] = VersionFiles(positions, text, self)

    def encoded(self) -> list[msgspec.Raw]:
        """Each file of the page, as it wrote it (read once, when a version
        is first looked at)."""
        if self._encoded is None:
            try:
                self._encoded = page_files(self._document)
            except msgspec.DecodeError as exc:
                raise UnreadablePage(self.index, self.project, f"its files are malformed ({exc})") from None
        return self._encoded

    def _make(self) -> tuple[DistFile, ...]:
        return tuple(dist for files in self.by_version.values() for dist in files)

    def __len__(self) -> int:
        return sum(len(files) for files in self.by_version.values())
