"""Parse PEP 503 (HTML) and PEP 691 (JSON) project pages.

Everything here is pure: the caller fetches, these functions read bytes. HTML
is scanned with regular expressions rather than a full parser because some
project pages list tens of thousands of files and only ``<a>`` and ``<base>``
start tags matter.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import NamedTuple, TypeVar
from urllib.parse import unquote, urljoin

import msgspec
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, parse_tag
from packaging.utils import (
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
)
from packaging.version import Version

from freewheel.config.indexes import Index
from freewheel.errors import IndexAccessError
from freewheel.index.models import DistFile, DistKind

JSON_CONTENT_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_CONTENT_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")
ACCEPT = f"{JSON_CONTENT_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"

_SDIST_SUFFIXES = (".tar.gz", ".zip")
_T = TypeVar("_T")

# A start tag's attributes may hold a raw ">" inside quotes (some indexes do
# not escape requires-python), so quoted values are matched whole.
_ATTRS = r"""((?:[^>"']|"[^"]*"|'[^']*')*)"""
_ANCHOR_RE = re.compile(rf"<a\s{_ATTRS}>", re.IGNORECASE)
_BASE_RE = re.compile(rf"<base\s{_ATTRS}>", re.IGNORECASE)
# The project-name rule parse_wheel_filename applies (which also refuses an
# empty name).
_WHEEL_NAME_RE = re.compile(r"^[\w\d._]+$", re.UNICODE)
_ATTR_RE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


class UnreadablePage(IndexAccessError):
    """An index answered with something that is not a project page.

    ``reason`` is the short explanation, for callers that word their own
    message.
    """

    def __init__(self, index: Index, project: str, reason: str) -> None:
        super().__init__(
            f"The index {index.label} gave an unusable answer for {project!r}: {reason}.",
            hint="Check that the URL points at a simple index (it usually ends in /simple/).",
        )
        self.reason = reason


class PageEntry(msgspec.Struct, rename="kebab", omit_defaults=True, frozen=True, gc=False):
    """One file as an index page lists it, in PEP 691's terms (an HTML page's
    links are read into the same shape): the page's own values, of which
    only the URL is looked at (:func:`file_version`) until :func:`dist_of`
    makes the :class:`DistFile` of a version the resolver looks at.

    ``url`` is absolute, and may end in a ``#<algo>=<hex>`` hash. The file's
    name is the URL's last path segment; ``filename`` is only what the page
    said. Values that do not parse (``requires-python``, ``upload-time``)
    read as none when the DistFile is made.
    """

    filename: str
    url: str
    hashes: dict[str, str] = {}
    requires_python: str | None = None
    yanked: bool | str = False
    core_metadata: bool | dict[str, str] | None = None
    dist_info_metadata: bool | dict[str, str] | None = None
    upload_time: str | None = None
    size: int | None = None


def _split_url(url: str) -> tuple[str, str, str]:
    """*url*'s location (no fragment), fragment, and filename."""
    # Plain string splitting: urlsplit() dominated the time spent on pages
    # with thousands of files.
    location, _, fragment = url.partition("#")
    filename = location.partition("?")[0].rpartition("/")[2]
    if "%" in filename:
        filename = unquote(filename)
    return location, fragment, filename


def file_version(url: str, project: NormalizedName | None = None) -> Version | None:
    """The version of the file at *url*, or ``None`` to skip the file: one
    that is neither a wheel nor an sdist, whose name or version does not
    parse, or that belongs to a project other than *project* (when given).
    The file's name is the last path segment of *url*."""
    text = _FileNames(project).version_text(_url_filename(url))
    if text is None:
        return None
    try:
        return parse_version(text)
    except ValueError:
        # Also a version of thousands of digits, past Python's limit on
        # integer conversion: a page is untrusted input.
        return None


def _url_filename(url: str) -> str:
    """The name of the file at *url*: its last path segment."""
    # Most URLs have no fragment, query or escape, and their name is all
    # after the last slash.
    if not _is_plain(url):
        return _split_url(url)[2]
    return url[url.rfind("/") + 1 :]


def _is_plain(text: str) -> bool:
    """Whether *text* (URLs) holds no fragment, query or escape."""
    return not ("#" in text or "?" in text or "%" in text)


class _Verdicts:
    """What *check* says of each distinct text, asked once per text; the
    texts that passed are :attr:`good`."""

    __slots__ = ("_bad", "_check", "good")

    def __init__(self, check: Callable[[str], bool]) -> None:
        self._check = check
        self.good: set[str] = set()
        self._bad: set[str] = set()

    def __call__(self, text: str) -> bool:
        if text in self.good:
            return True
        if text in self._bad:
            return False
        passed = self._check(text)
        (self.good if passed else self._bad).add(text)
        return passed


class _FileNames:
    """Which file names of one page are wheels and sdists of *project* (of
    any project when ``None``), and the version each spells.

    A page lists thousands of files but repeats a few spellings of the
    project's name and a few dozen wheel tag sets: each distinct one is
    checked once (see :class:`_Verdicts`), not parsed again per file.
    """

    __slots__ = ("_names", "_sdist_names", "_tails")

    def __init__(self, project: NormalizedName | None) -> None:
        self._names = _Verdicts(functools.partial(_is_wheel_name, project=project))
        self._tails = _Verdicts(_is_wheel_tail)
        self._sdist_names = _Verdicts(functools.partial(_is_sdist_name, project=project))

    def version_text(self, filename: str) -> str | None:
        """The version *filename* spells, not yet checked (see
        :func:`_grouped`); ``None`` when the file is not a wheel or sdist of
        the project, or its name or wheel tags do not parse."""
        if filename.endswith(".whl"):
            name, version, tail = _wheel_parts(filename)
            return version if self._names(name) and self._tails(tail) else None
        if filename.endswith(_SDIST_SUFFIXES):
            name, version = _sdist_parts(filename)
            return version if self._sdist_names(name) else None
        return None

    def url_versions(self, urls: list[str]) -> list[str | None]:
        """:meth:`version_text` of the file at each of *urls*."""
        # A page lists up to tens of thousands of files, and a call or two
        # per file cost most of the time spent reading it. Where no URL has
        # a fragment, query or escape, the names are split in one pass, and
        # a wheel whose name and tags passed already costs two set lookups.
        if not _is_plain("\n".join(urls)):
            return [self.version_text(_url_filename(url)) for url in urls]
        version_text, good_names, good_tails = self.version_text, self._names.good, self._tails.good
        names = [url.rpartition("/")[2] for url in urls]
        # A tail that passed ends in ".whl": so does the name.
        return [
            parts[1] if len(parts) == 3 and parts[2] in good_tails and parts[0] in good_names else version_text(name)
            for name, parts in zip(names, map(_split_wheel_name, names))
        ]


def _is_wheel_name(text: str, project: NormalizedName | None) -> bool:
    try:
        name = _wheel_name(text)
    except InvalidWheelFilename:
        return False
    return project is None or name == project


def _is_sdist_name(text: str, project: NormalizedName | None) -> bool:
    return bool(text) and (project is None or _sdist_name(text) == project)


def _is_wheel_tail(tail: str) -> bool:
    try:
        _wheel_tags(tail)
    except ValueError:  # InvalidWheelFilename, InvalidTag
        return False
    return True


def _grouped(files: Iterable[tuple[str | None, _T]]) -> dict[str, list[_T]]:
    """*files* (each with its version's text, or ``None`` to skip it)
    grouped by version, under the version's first spelling (``1.0`` and
    ``1.0.0`` are one version), in the order the page first lists them.
    Files whose version does not parse are left out."""
    # Keyed by text first: a string hashes in C, a Version in Python, and a
    # page lists tens of thousands of files but only hundreds of versions.
    by_text: dict[str, list[_T]] = {}
    for text, file in files:
        if text is not None:
            group = by_text.get(text)
            if group is None:
                by_text[text] = [file]
            else:
                group.append(file)
    spellings: dict[Version, str] = {}
    grouped: dict[str, list[_T]] = {}
    for text, group in by_text.items():
        try:
            version = parse_version(text)
        except ValueError:
            continue
        grouped.setdefault(spellings.setdefault(version, text), []).extend(group)
    return grouped


def dist_of(entry: PageEntry, index: Index) -> DistFile:
    """The :class:`DistFile` of a file *entry* of *index* (one
    :func:`file_version` accepted). A hash in the URL's fragment counts
    unless the page gave one for that algorithm."""
    location, fragment, filename = _split_url(entry.url)
    hashes = entry.hashes
    if fragment:
        algo, sep, digest = fragment.partition("=")
        if sep and algo in hashlib.algorithms_available and algo not in hashes:
            hashes = {**hashes, algo: digest}
    if filename.endswith(".whl"):
        name, version, tags = parse_wheel_name(filename)
        kind: DistKind = "wheel"
    else:
        name, version = parse_sdist_name(filename)
        tags, kind = frozenset(), "sdist"
    yanked = entry.yanked
    metadata = entry.core_metadata if entry.core_metadata is not None else entry.dist_info_metadata
    return DistFile(
        filename=filename,
        url=location,
        index=index,
        name=name,
        version=version,
        kind=kind,
        tags=tags,
        hashes=hashes,
        requires_python=parsed_specifier(entry.requires_python),
        yanked=None if yanked is False else ("" if yanked is True else yanked),
        core_metadata=None if metadata is None or metadata is False else ({} if metadata is True else metadata),
        upload_time=json_time(entry.upload_time),
        size=entry.size,
    )


def dist_file(
    url: str,
    index: Index,
    *,
    project: NormalizedName | None = None,
    hashes: Mapping[str, str] | None = None,
    upload_time: datetime | None = None,
    size: int | None = None,
) -> DistFile | None:
    """The DistFile for the file at *url* of *index*, or ``None`` to skip
    it (see :func:`file_version`)."""
    if file_version(url, project) is None:
        return None
    entry = PageEntry(
        _split_url(url)[2],
        url,
        dict(hashes or {}),
        upload_time=None if upload_time is None else upload_time.isoformat(),
        size=size,
    )
    return dist_of(entry, index)


def parse_wheel_name(filename: str) -> tuple[NormalizedName, Version, frozenset[Tag]]:
    """``parse_wheel_filename`` with its costly parts cached.

    An index page repeats the same versions and tag sets across thousands
    of files; parsing each distinct string once keeps large pages fast.
    """
    name, version, tail = _wheel_parts(filename)
    return _wheel_name(name), parse_version(version), _wheel_tags(tail)


#: A wheel's name split as :func:`_wheel_parts` splits it, when it has two dashes.
_split_wheel_name = operator.methodcaller("split", "-", 2)


def _wheel_parts(filename: str) -> tuple[str, str, str]:
    """The name and version of the wheel *filename*, and the rest of it
    (``[build-]python-abi-platform.whl``), as text: a wheel's name has no
    dash, so the version is its second part."""
    name, _, rest = filename.partition("-")
    version, _, tail = rest.partition("-")
    return name, version, tail


def parse_sdist_name(filename: str) -> tuple[NormalizedName, Version]:
    """``parse_sdist_filename``, with the name's normalization and the
    version cached as in :func:`parse_wheel_name`.

    :raises InvalidSdistFilename: as ``parse_sdist_filename`` does.
    :raises ValueError: for a version that does not parse.
    """
    name, version = _sdist_parts(filename)
    if not name:
        # Let packaging word the error: a wrong suffix, no dash, no name.
        parse_sdist_filename(filename)
    return _sdist_name(name), parse_version(version)


def _sdist_parts(filename: str) -> tuple[str, str]:
    """The name and version of the sdist *filename*, as text (an empty name
    when it has none)."""
    stem = filename[:-7] if filename.endswith(".tar.gz") else filename[:-4] if filename.endswith(".zip") else ""
    name, _, version = stem.rpartition("-")
    return name, version


@functools.lru_cache(maxsize=4096)
def _sdist_name(text: str) -> NormalizedName:
    return canonicalize_name(text)


@functools.lru_cache(maxsize=4096)
def _wheel_name(text: str) -> NormalizedName:
    if "__" in text or not _WHEEL_NAME_RE.match(text):
        raise InvalidWheelFilename(f"Invalid project name: {text!r}")
    return canonicalize_name(text)


@functools.lru_cache(maxsize=16384)
def parse_version(text: str) -> Version:
    """``Version(text)``, cached: pages repeat each version for every file,
    and each version's metadata names it once more."""
    return Version(text)


@functools.lru_cache(maxsize=4096)
def _wheel_tags(tail: str) -> frozenset[Tag]:
    """The tags of a wheel whose name ends in *tail* (see :func:`_wheel_parts`).

    Cached by the whole tail: a page repeats a handful of them over
    thousands of files.

    :raises InvalidWheelFilename: when *tail* has other than three or four
        parts (tags, after an optional build tag).
    :raises InvalidTag: when the tags do not parse.
    """
    parts = tail[:-4].split("-")
    if len(parts) not in (3, 4):
        raise InvalidWheelFilename(f"Invalid wheel filename (wrong number of parts after the version): {tail!r}")
    return parse_tag("-".join(parts[-3:]))


@functools.lru_cache(maxsize=1024)
def parsed_specifier(text: str | None) -> SpecifierSet | None:
    """A ``Requires-Python`` value as a specifier set; ``None`` when blank or
    unparsable (installers ignore those rather than hide the file)."""
    # Cached: a project's files mostly share a handful of requires-python values.
    if not text or not text.strip():
        return None
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def _attributes(text: str) -> dict[str, str | None]:
    attrs: dict[str, str | None] = {}
    for match in _ATTR_RE.finditer(text):
        key, double, single, bare = match.groups()
        value = next((v for v in (double, single, bare) if v is not None), None)
        if value is not None and "&" in value:
            # Imported here: only a value with an entity needs it, and JSON
            # pages none.
            import html

            value = html.unescape(value)
        attrs.setdefault(key.lower(), value)
    return attrs


def _resolve(base_url: str, href: str) -> str:
    # Most large pages link with absolute URLs, which need no joining.
    if href.startswith(("https://", "http://")):
        return href
    return urljoin(base_url, href)


def iter_anchors(content: str, page_url: str) -> Iterator[tuple[str, dict[str, str | None]]]:
    """Yield ``(absolute href, attributes)`` for each ``<a href>`` in *content*.

    Hrefs resolve against the page's ``<base href>`` when it has one (itself
    resolved against *page_url*), else against *page_url*. Attribute values
    are HTML-unescaped; an attribute given without a value maps to ``None``.
    """
    base_url = page_url
    base = _BASE_RE.search(content)
    if base is not None:
        base_href = _attributes(base.group(1)).get("href")
        if base_href:
            base_url = urljoin(page_url, base_href)
    for match in _ANCHOR_RE.finditer(content):
        attrs = _attributes(match.group(1))
        href = attrs.get("href")
        if href:
            yield _resolve(base_url, href), attrs


def _hash_declaration(value: str | None) -> dict[str, str] | None:
    """Read a PEP 714 ``data-core-metadata`` value: ``true`` or ``algo=hex``."""
    if value is None or value.strip().lower() == "true":
        return {}
    if value.strip().lower() == "false":
        return None
    algo, sep, digest = value.strip().partition("=")
    return {algo: digest} if sep else {}


def _metadata_attr(attrs: Mapping[str, str | None]) -> dict[str, str] | None:
    for key in ("data-core-metadata", "data-dist-info-metadata"):
        if key in attrs:
            return _hash_declaration(attrs[key])
    return None


def _html_entries(
    content: bytes, page_url: str, project: NormalizedName | None, errors: str
) -> Iterator[tuple[str, PageEntry]]:
    text = content.decode("utf-8", errors=errors)
    version_text = _FileNames(project).version_text
    for href, attrs in iter_anchors(text, page_url):
        filename = _url_filename(href)
        version = version_text(filename)
        if version is not None:
            yanked = attrs["data-yanked"] or "" if "data-yanked" in attrs else False
            yield version, PageEntry(
                filename,
                href,
                requires_python=attrs.get("data-requires-python"),
                yanked=yanked,
                core_metadata=_metadata_attr(attrs),
            )


def html_files(content: bytes, page_url: str, index: Index) -> Iterator[DistFile]:
    """Yield the DistFile of each usable link on an HTML page of *index*,
    read as UTF-8 (bytes that are not are replaced), version by version."""
    for entries in _grouped(_html_entries(content, page_url, None, "replace")).values():
        for entry in entries:
            yield dist_of(entry, index)


def _html_page(content: bytes, page_url: str, index: Index, project: NormalizedName) -> PageVersions:
    # PEP 503 pages are UTF-8; one that is not is an unusable answer, as it
    # is to uv, rather than a page listing nothing.
    try:
        listed = list(_html_entries(content, page_url, project, "strict"))
    except UnicodeDecodeError as exc:
        raise UnreadablePage(
            index, project, f"the page is not UTF-8 text (byte {exc.start} is {content[exc.start]:#04x})"
        ) from None
    grouped = _grouped((version, position) for position, (version, _) in enumerate(listed))
    return PageVersions(grouped, _JSON_ENCODER.encode({"files": [entry for _, entry in listed]}))


class _JsonMeta(msgspec.Struct, rename="kebab"):
    api_version: str = "1.0"


class _JsonFile(msgspec.Struct, gc=False):
    """What grouping reads of a file: its URL, whose last segment names it.
    A string only, so never in a cycle: the collector need not track the
    tens of thousands a page makes (a seventh of decoding them).

    The rest of the file, ``filename`` included, is checked when its
    version is looked at (see :func:`version_entries`): decoding each
    file's name as well cost a sixth of reading a page.
    """

    url: str


class _JsonListing(msgspec.Struct):
    files: list[_JsonFile]
    meta: _JsonMeta | None = None


class _JsonFiles(msgspec.Struct):
    files: list[msgspec.Raw]


_JSON_LISTING = msgspec.json.Decoder(_JsonListing)
_JSON_FILES = msgspec.json.Decoder(_JsonFiles)
_JSON_ENCODER = msgspec.json.Encoder()
_ENTRY = msgspec.json.Decoder(PageEntry)


class PageVersions(NamedTuple):
    """A project page read by :func:`page_versions`."""

    #: The text of each version, in the order the page first lists it, with
    #: the positions of its files in :attr:`files`, in the page's order.
    versions: dict[str, list[int]]
    #: A JSON object whose ``files`` are the page's, as PEP 691 writes them
    #: (the page itself, when it is JSON); see :func:`page_files`.
    files: bytes


def json_time(text: str | None) -> datetime | None:
    """An ISO 8601 ``upload-time``; ``None`` when absent or unreadable."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _json_page(content: bytes, page_url: str, index: Index, project: NormalizedName) -> PageVersions:
    # The page is kept as it came, and each file read whole only when its
    # version is looked at (see version_entries): making an object of every
    # file of every page, or even copying each out, cost more than the rest
    # of reading them.
    try:
        listing = _JSON_LISTING.decode(content)
    except msgspec.DecodeError as exc:
        raise UnreadablePage(index, project, f"the page is not valid JSON ({exc})") from None
    # PEP 691: a client must refuse a major version of the API it does not know.
    if listing.meta is not None and listing.meta.api_version.partition(".")[0] != "1":
        raise UnreadablePage(
            index,
            project,
            f"it uses version {listing.meta.api_version} of the simple API, which freewheel does "
            "not support",
        )
    versions = _FileNames(project).url_versions([file.url for file in listing.files])
    return PageVersions(_grouped(zip(versions, range(len(versions)))), content)


def page_files(files: bytes) -> list[msgspec.Raw]:
    """The files of :attr:`PageVersions.files`, each as the page wrote it.

    :raises msgspec.DecodeError: when *files* is not a JSON object with a
        list of ``files``.
    """
    return _JSON_FILES.decode(files).files


def version_entries(files: Iterable[msgspec.Raw], page_url: str) -> list[PageEntry]:
    """*files* (some of :func:`page_files`) read whole, with their URLs
    resolved against *page_url*.

    :raises msgspec.DecodeError: when one is not a PEP 691 file (a page's
        files are checked only this far when read).
    """
    entries = []
    for raw in files:
        entry = _ENTRY.decode(raw)
        url = _resolve(page_url, entry.url)
        entries.append(entry if url is entry.url else msgspec.structs.replace(entry, url=url))
    return entries


def page_format(content_type: str | None, content: bytes) -> str | None:
    """Say whether a page is ``"json"`` or ``"html"``, or ``None`` if neither.

    Static servers and ``file://`` trees may send no useful content type, so
    a missing or generic one falls back to a look at the first byte.
    """
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type == JSON_CONTENT_TYPE:
        return "json"
    if media_type in HTML_CONTENT_TYPES:
        return "html"
    if media_type in ("", "application/octet-stream", "text/plain", "application/json"):
        head = content.lstrip()[:1]
        if head == b"{":
            return "json"
        if head == b"<":
            return "html"
    return None


def page_versions(
    content: bytes,
    content_type: str | None,
    page_url: str,
    index: Index,
    project: NormalizedName,
) -> PageVersions:
    """Read a project page of *index* in whichever format it answered with:
    the files of *project* it lists, grouped by version (versions and files
    in the order the page first lists them; see :class:`PageVersions`).

    Raises :class:`UnreadablePage` when the page is not an index page at
    all, or not one freewheel can read.
    """
    match page_format(content_type, content):
        case "json":
            return _json_page(content, page_url, index, project)
        case "html":
            return _html_page(content, page_url, index, project)
    shown = (content_type or "no content type").partition(";")[0]
    raise UnreadablePage(index, project, f"the answer is {shown}, not an HTML or JSON page")


def project_url(index: Index, project: NormalizedName) -> str:
    """The URL of *project*'s page on a simple *index*."""
    return index.url.rstrip("/") + "/" + project + "/"

