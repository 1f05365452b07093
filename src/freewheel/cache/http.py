"""A private HTTP cache (RFC 9111) in front of :class:`~freewheel.net.fetcher.Fetcher`.

What is kept, and where (:mod:`freewheel.cache` describes the layout):

* A response is keyed by its URL, without credentials or fragment, and the
  request's ``Accept`` header: index pages are negotiated between JSON and
  HTML, so each variant is an entry of its own.
* Distribution files (``.whl``, ``.tar.gz`` and ``.zip`` files whose names
  parse as such, and their ``.metadata`` files) are stored whole in the
  wheels bucket, named by the sha256 of their content. A request naming the
  hash in a ``#sha256=`` fragment is answered from there directly.
* A ``no-store`` response is never reused online, but a copy is kept aside
  for ``--offline``, so that what was installed once can be installed again
  without the network.
* Partial responses (requests with a ``Range`` header) are not stored; such
  requests are answered with the whole file when the cache has it, as a
  server ignoring ``Range`` would.

Reuse without asking the server:

* content named by hash (a ``#sha256=`` fragment) always;
* distribution files, and responses marked ``immutable``, always (index
  files are never changed in place in practice), except under ``refresh``;
* anything else while fresh: ``max-age`` (``s-maxage`` is for shared caches),
  else ``Expires``, else, for a 200 with ``Last-Modified``, a heuristic 10% of
  the time since that date (RFC 9111 section 4.2.2's example) capped at one
  day, so that a page untouched for years is not trusted for months; a 200
  with no cache headers at all (no ``Cache-Control``, no ``ETag``, no
  ``Last-Modified``) is fresh for ten minutes, as long as the default
  index's pages say of themselves: such an entry cannot be revalidated, only
  downloaded again whole, and a warm run would pay a full page for every
  project.

Otherwise the entry is revalidated with ``If-None-Match``/``If-Modified-Since``,
and a 304 renews it. When revalidation gets no response at all, the stale
entry is served unless it said ``must-revalidate`` or ``no-cache``.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Generic, Literal, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import msgspec
from packaging.utils import (
    InvalidName,
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from freewheel.cache import OFFLINE_SUFFIX, RECORD_SUFFIX, Cache
from freewheel.config.indexes import Index
from freewheel.config.settings import Settings
from freewheel.errors import UsageError
from freewheel.net.auth import CredentialStore
from freewheel.net.fetcher import Fetcher
from freewheel.net.response import Closing, FetchError, Headers, Response, request_header
from freewheel.util.urls import strip_credentials

OFFLINE_MISS = "not in the cache, and --offline forbids the network"

HEURISTIC_FRACTION = 0.1
HEURISTIC_MAX_SECONDS = 24 * 60 * 60.0
UNVALIDATED_SECONDS = 10 * 60.0

CacheKind = Literal["api", "files"]

# What RFC 9110 calls heuristically cacheable, among what indexes answer. A
# 404 is kept so that --offline knows which index lacks a project.
_STORABLE_STATUSES = frozenset({200, 203, 300, 301, 404, 410})

# Hop-by-hop fields, fields about the encoded body (the stored body is
# decoded), and fields that may carry secrets.
_UNSTORED_FIELDS = frozenset(
    {
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-encoding",
        "content-length",
        "set-cookie",
        "authorization",
        "proxy-authorization",
    }
)

# Project pages are the requests whose Accept names the simple API; a flat
# page or an index's root page is asked for as plain HTML.
_SIMPLE_API_MEDIA_TYPE = "application/vnd.pypi.simple"

_DIRECTIVE = re.compile(r'\s*([^\s=,]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?\s*(?:,|$)')
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


class StoredResponse(msgspec.Struct, frozen=True):
    """A response as the HTTP bucket keeps it.

    ``url`` is the final URL, without credentials. ``stored_at`` is when the
    response, or the 304 that last confirmed it, arrived. ``body`` is
    ``None`` when the body is a file of the wheels bucket named by ``sha256``.
    """

    url: str
    status: int
    headers: list[tuple[str, str]]
    stored_at: float
    body: bytes | None = None
    sha256: str | None = None


_Value = TypeVar("_Value")


class DerivedRecord(msgspec.Struct, Generic[_Value], frozen=True):
    """A value derived from a response (a parsed index page), with what
    decides whether it may still answer: the response's status, headers and
    ``stored_at``, as :class:`StoredResponse` has them.

    Records are read as ``DerivedRecord[msgspec.Raw]``, the value decoded
    only once the record is known to be usable; one is written with its
    value in place, encoded with it in one pass.
    """

    status: int
    headers: list[tuple[str, str]]
    stored_at: float
    value: _Value


_Stored = TypeVar("_Stored", StoredResponse, DerivedRecord)


def _decoded(record: DerivedRecord[msgspec.Raw], value_type: type[_Value]) -> _Value | None:
    """*record*'s value, or ``None`` if it is not a *value_type* (another
    freewheel's format)."""
    try:
        return msgspec.msgpack.decode(record.value, type=value_type)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None


class Target(msgspec.Struct, frozen=True):
    """A requested URL as the cache sees it.

    ``location`` is the URL without credentials or fragment; ``variant`` the
    request's ``Accept`` header; ``filename`` the last segment of the path;
    ``sha256`` the hash a ``#sha256=`` fragment named, if any.
    """

    location: str
    variant: str
    kind: CacheKind
    project: NormalizedName | None
    filename: str
    sha256: str | None

    @property
    def key(self) -> str:
        """The string the HTTP bucket files this request under."""
        return f"{self.location}\n{self.variant}"


def describe(url: str, accept: str | None) -> Target:
    """What the cache needs to know about a request for *url*.

    A distribution file is of kind ``"files"``; anything else, ``"api"``.
    Project pages (asked for with the simple API's media types) belong to
    the project their last path segment names.
    """
    location, _, fragment = strip_credentials(url).partition("#")
    filename = unquote(urlsplit(location).path.rstrip("/").rpartition("/")[2])
    algorithm, _, digest = fragment.partition("=")
    sha256 = digest.lower() if algorithm == "sha256" and _SHA256.fullmatch(digest) else None
    variant = accept or ""
    project = project_of_filename(filename)
    if project is not None:
        return Target(location, variant, "files", project, filename, sha256)
    if _SIMPLE_API_MEDIA_TYPE in variant and filename:
        try:
            project = canonicalize_name(filename, validate=True)
        except InvalidName:
            pass
    return Target(location, variant, "api", project, filename, sha256)


def parse_cache_control(value: str | None) -> dict[str, str | None]:
    """Directive name (lower case) -> argument (``None`` when it has none)."""
    directives: dict[str, str | None] = {}
    for match in _DIRECTIVE.finditer(value or ""):
        name, argument = match.groups()
        directives.setdefault(name.lower(), None if argument is None else argument.strip().strip('"'))
    return directives


def _http_date(value: str | None) -> float | None:
    if value is None:
        return None
    import email.utils  # only a run that asks whether a response is fresh needs it

    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def _seconds(value: str | None) -> float:
    """A delta-seconds value; an invalid one counts as 0 (RFC 9111 section 1.2.2)."""
    value = (value or "").strip()
    return float(value) if value.isdigit() else 0.0


def freshness_lifetime(
    status: int, headers: Mapping[str, str], directives: Mapping[str, str | None], stored_at: float
) -> float:
    """How long a response stays fresh, in seconds (RFC 9111 section 4.2.1).

    *headers* look up lower-case names; *directives* are the effective
    ``Cache-Control``.
    """
    if "max-age" in directives:
        return _seconds(directives["max-age"])
    date = _http_date(headers.get("date")) or stored_at
    if "expires" in headers:
        expires = _http_date(headers.get("expires"))
        # An unreadable Expires means "already expired".
        return 0.0 if expires is None else max(0.0, expires - date)
    last_modified = _http_date(headers.get("last-modified"))
    if status != 200:
        return 0.0
    if last_modified is not None:
        return min(max(0.0, date - last_modified) * HEURISTIC_FRACTION, HEURISTIC_MAX_SECONDS)
    # A server that sent any Cache-Control said what it wants.
    return 0.0 if directives or "etag" in headers else UNVALIDATED_SECONDS


def current_age(headers: Mapping[str, str], stored_at: float, now: float) -> float:
    """A stored response's age, in seconds (RFC 9111 section 4.2.3)."""
    date = _http_date(headers.get("date"))
    apparent = max(0.0, stored_at - date) if date is not None else 0.0
    return max(apparent, _seconds(headers.get("age"))) + max(0.0, now - stored_at)


def _storable_headers(headers: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(name.lower(), value) for name, value in headers.items() if name.lower() not in _UNSTORED_FIELDS]


def _revalidated(record: _Stored, headers: Mapping[str, str], now: float) -> _Stored:
    """*record* updated by a 304's *headers* (RFC 9111 section 3.2)."""
    updates = dict(_storable_headers(headers))
    kept = [(name, value) for name, value in record.headers if name not in updates]
    return msgspec.structs.replace(record, headers=kept + list(updates.items()), stored_at=now)


class _Entry(msgspec.Struct, frozen=True):
    """A stored response found for a request.

    ``path`` is its record's file; ``None`` when the body was found by its
    hash alone.
    """

    record: StoredResponse
    body: bytes
    path: Path | None

    @property
    def headers(self) -> Headers:
        return Headers(self.record.headers)

    @property
    def response(self) -> Response:
        return Response(url=self.record.url, status=self.record.status, headers=self.headers, content=self.body)


_Origin = tuple[str, str | None, int | None]


def _origin(url: str) -> _Origin:
    parts = urlsplit(url)
    return (parts.scheme, parts.hostname, parts.port)


class CachingFetcher(Closing):
    """A :class:`~freewheel.net.fetcher.Fetcher` that keeps responses in *cache*.

    *offline* never touches the network: any stored copy answers, however
    stale, and a miss raises :class:`~freewheel.net.fetcher.FetchError`.
    *refresh* makes every entry stored before this object was made stale
    (revalidated, not downloaded blindly); *refresh_packages* does so only
    for the project pages and files of those projects. *overrides* are
    ``(url_prefix, kind, cache_control)``: for URLs of *kind* (``"api"``
    for pages, ``"files"`` for distribution files) under the prefix, the
    longest matching prefix's value replaces the server's ``Cache-Control``.
    """

    def __init__(
        self,
        fetcher: Fetcher,
        cache: Cache,
        *,
        offline: bool = False,
        refresh: bool = False,
        refresh_packages: Iterable[str] = (),
        overrides: Iterable[tuple[str, CacheKind, str]] = (),
    ) -> None:
        self._fetcher = fetcher
        self._cache = cache
        self._offline = offline
        self._refresh = refresh
        self._refresh_packages = frozenset(canonicalize_name(name) for name in refresh_packages)
        self._overrides = sorted(
            ((strip_credentials(prefix), kind, value) for prefix, kind, value in overrides),
            key=lambda override: len(override[0]),
            reverse=True,
        )
        for prefix, kind, _ in self._overrides:
            if kind not in ("api", "files"):
                raise UsageError(f"The cache-control setting for {prefix} has an unknown key {kind!r}: use api or files.")
        self._started = time.time()
        self._credentials: dict[_Origin, str] = {}

    @property
    def offline(self) -> bool:
        """Whether every answer comes from the cache (``--offline``)."""
        return self._offline

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        spool_to: Path | None = None,
        until: Callable[[bytes], bytes | None] | None = None,
    ) -> Response:
        """GET *url* through the cache; see the class and module docs.

        ``file://`` URLs are passed through: they are local already. So are
        requests that spool whole files to disk (*spool_to*): the caller
        keeps those files itself, and must not find them in memory here.
        """
        if url.startswith("file:"):
            return await self._fetcher.get(url, headers=headers)
        if spool_to is not None:
            if self._offline:
                raise FetchError(url, OFFLINE_MISS)
            self._remember_credentials(url)
            return await self._fetcher.get(self._network_url(url), headers=headers, spool_to=spool_to, until=until)
        return await self._get_stored(url, headers)

    def derived(self, url: str, accept: str, value_type: type[_Value]) -> _Value | None:
        """What :meth:`get_derived` kept for this request, read on the caller's
        thread, when the response it came from may still answer (any stored
        copy, offline; a fresh one, online); else ``None``.

        Nothing here touches the network: a warm run answers from these
        small records alone, without reading or parsing the responses.
        """
        self._remember_credentials(url)
        target = describe(url, accept)
        kept = self._kept(target, value_type)
        if kept is None or not self._answers(target, kept[0]):
            return None
        return kept[1]

    async def get_derived(
        self,
        url: str,
        derive: Callable[[Response], _Value],
        value_type: type[_Value],
        *,
        headers: Mapping[str, str] | None = None,
    ) -> _Value:
        """``derive(response)`` for a GET of *url* through the cache.

        Only the derived value is kept, with the status and headers of the
        response it came from: these decide, as for :meth:`get`, when it
        answers again without the server, and revalidate it. A response the
        server confirms unchanged (a 304) is not derived again; one that
        forbids storing is kept for ``--offline`` only. The response itself
        is not stored: the value is what every later run reads, and an index
        page is often megabytes that a cold run would write for nothing.
        """
        import asyncio  # a run the cache serves whole, through derived(), needs none

        self._remember_credentials(url)
        target = describe(url, request_header(headers, "accept"))
        kept = None
        if self._holds(self._derived_path, target):
            kept = await asyncio.to_thread(self._kept, target, value_type)
        record, value, path = kept if kept is not None else (None, None, None)
        if record is not None and self._answers(target, record):
            return value
        if self._offline:
            raise FetchError(url, OFFLINE_MISS)
        answer = await self._ask(url, target, headers, record, path)
        if isinstance(answer, DerivedRecord):
            return value
        value = derive(answer)
        if answer.status in _STORABLE_STATUSES:
            derived = DerivedRecord(
                status=answer.status,
                headers=_storable_headers(answer.headers),
                stored_at=time.time(),
                value=value,
            )
            no_store = self._forbids_storing(target, answer)
            self._keep(self._derived_path, target, msgspec.msgpack.encode(derived), no_store=no_store)
        return value

    async def _get_stored(self, url: str, headers: Mapping[str, str] | None) -> Response:
        """A response through the cache, stored when the rules allow."""
        import asyncio

        self._remember_credentials(url)
        target = describe(url, request_header(headers, "accept"))
        entry = await asyncio.to_thread(self._load, target) if self._may_hold(target) else None
        if self._offline:
            if entry is None:
                raise FetchError(url, OFFLINE_MISS)
            return entry.response
        if entry is not None and self._reusable(target, entry):
            return entry.response
        if request_header(headers, "range") is not None:
            # Partial content is not stored: the metadata layer keeps what it
            # extracts from it.
            return await self._fetcher.get(self._network_url(url), headers=headers)
        return await self._fetch(url, target, headers, entry)

    async def _fetch(
        self, url: str, target: Target, headers: Mapping[str, str] | None, entry: _Entry | None
    ) -> Response:
        answer = await self._ask(url, target, headers, entry and entry.record, entry and entry.path)
        if entry is not None and isinstance(answer, StoredResponse):
            return _Entry(answer, entry.body, entry.path).response
        self._store(target, answer)
        return answer

    async def _ask(
        self,
        url: str,
        target: Target,
        headers: Mapping[str, str] | None,
        kept: _Stored | None,
        path: Path | None,
    ) -> Response | _Stored:
        """GET *url*, conditional on the validators of *kept* (the record
        in the file *path*), if any.

        *kept* itself when it still answers: the server confirmed it with a
        304 (it is then renewed, and written again), or could not be reached
        and *kept* may be served stale.
        """
        request = dict(headers or {})
        stored = Headers(kept.headers) if kept is not None else Headers([])
        if "etag" in stored:
            request["If-None-Match"] = stored["etag"]
        if "last-modified" in stored:
            request["If-Modified-Since"] = stored["last-modified"]
        try:
            response = await self._fetcher.get(self._network_url(url), headers=request)
        except FetchError:
            if kept is not None and self._may_serve_stale(target, stored):
                return kept
            raise
        if response.status == 304 and kept is not None and path is not None:
            renewed = _revalidated(kept, response.headers, time.time())
            self._cache.write_path(path, msgspec.msgpack.encode(renewed))
            return renewed
        return response

    def _directives(self, target: Target, headers: Mapping[str, str]) -> dict[str, str | None]:
        """The effective ``Cache-Control``: an override's, else the server's."""
        for prefix, kind, value in self._overrides:
            if kind == target.kind and target.location.startswith(prefix):
                return parse_cache_control(value)
        return parse_cache_control(headers.get("cache-control"))

    def _reusable(self, target: Target, entry: _Entry) -> bool:
        """Whether *entry* may answer online without asking the server."""
        if entry.path is None or target.sha256 is not None:
            return True  # Content named by its hash cannot change.
        return self._fresh(target, entry.record.status, entry.headers, entry.record.stored_at)

    def _fresh(self, target: Target, status: int, headers: Headers, stored_at: float) -> bool:
        """Whether a response stored at *stored_at* may answer online without asking the server."""
        refreshing = self._refresh or target.project in self._refresh_packages
        if refreshing and stored_at < self._started:
            return False
        directives = self._directives(target, headers)
        if "no-store" in directives:
            return False
        if "immutable" in directives or (target.kind == "files" and status == 200):
            return True
        if "no-cache" in directives or "*" in headers.get("vary", ""):
            return False
        lifetime = freshness_lifetime(status, headers, directives, stored_at)
        return lifetime > current_age(headers, stored_at, time.time())

    def _may_serve_stale(self, target: Target, headers: Headers) -> bool:
        """Whether a stale response with *headers* may answer when the server cannot be reached."""
        directives = self._directives(target, headers)
        return not directives.keys() & {"must-revalidate", "no-cache", "no-store"}

    def _blob_path(self, target: Target, sha256: str) -> Path:
        return self._cache.project_dir("wheels", target.project) / sha256 / target.filename

    def _record_path(self, target: Target, suffix: str) -> Path:
        return self._cache.record_path("http", target.key, target.project, suffix)

    def _answers(self, target: Target, record: DerivedRecord) -> bool:
        """Whether *record* answers without the server: offline any does, online a fresh one."""
        return self._offline or self._fresh(target, record.status, Headers(record.headers), record.stored_at)

    def _derived_path(self, target: Target, suffix: str) -> Path:
        return self._cache.record_path("derived", target.key, target.project, suffix)

    def _kept(self, target: Target, value_type: type[_Value]) -> tuple[DerivedRecord, _Value, Path] | None:
        """The newest value kept for *target* that decodes as a *value_type*
        (offline, the offline-only copy counts too), with its record and file."""
        found = []
        for suffix in self._suffixes:
            path = self._derived_path(target, suffix)
            record = self._cache.read_path(path, DerivedRecord[msgspec.Raw])
            if record is not None and (value := _decoded(record, value_type)) is not None:
                found.append((record, value, path))
        return max(found, key=lambda kept: kept[0].stored_at, default=None)

    def _may_hold(self, target: Target) -> bool:
        """Whether :meth:`_load` may find anything for *target*: a look at
        the file names, without the thread :meth:`_load` reads on (a cold
        run asks thousands of times, and finds nothing)."""
        if target.kind == "files" and target.sha256 is not None:
            if self._cache.exists(self._blob_path(target, target.sha256)):
                return True
        return self._holds(self._record_path, target)

    def _holds(self, path_of: Callable[[Target, str], Path], target: Target) -> bool:
        """Whether a record of *target* is among the files *path_of* names."""
        return any(self._cache.exists(path_of(target, suffix)) for suffix in self._suffixes)

    @property
    def _suffixes(self) -> tuple[str, ...]:
        """The records a look-up reads: offline, the offline-only copy too."""
        return (RECORD_SUFFIX, OFFLINE_SUFFIX) if self._offline else (RECORD_SUFFIX,)

    def _load(self, target: Target) -> _Entry | None:
        """The stored response for *target*, if any; offline, the newest of
        it and the offline-only copy."""
        if target.kind == "files" and target.sha256 is not None:
            body = self._cache.read_bytes(self._blob_path(target, target.sha256))
            if body is not None:
                record = StoredResponse(
                    url=target.location,
                    status=200,
                    headers=[("content-type", "application/octet-stream")],
                    stored_at=0.0,
                    sha256=target.sha256,
                )
                return _Entry(record, body, None)
        found = [entry for suffix in self._suffixes if (entry := self._read_entry(target, suffix)) is not None]
        return max(found, key=lambda entry: entry.record.stored_at, default=None)

    def _read_entry(self, target: Target, suffix: str) -> _Entry | None:
        path = self._record_path(target, suffix)
        record = self._cache.read_path(path, StoredResponse)
        if record is None:
            return None
        body = record.body
        if body is None and record.sha256 is not None:
            body = self._cache.read_bytes(self._blob_path(target, record.sha256))
        if body is None:
            # Its file was removed (by `cache clean`, say): the record is useless.
            self._cache.remove_path(path)
            return None
        return _Entry(record, body, path)

    def _store(self, target: Target, response: Response) -> None:
        """Keep *response* as the cache rules say (see :meth:`_keep`).

        The files are written behind this thread's back (see
        :meth:`~freewheel.cache.Cache.write`); look-ups here see them at once.
        """
        if response.status not in _STORABLE_STATUSES:
            return
        record = StoredResponse(
            url=strip_credentials(response.url),
            status=response.status,
            headers=_storable_headers(response.headers),
            stored_at=time.time(),
        )
        no_store = self._forbids_storing(target, response)
        if target.kind == "files" and response.status == 200 and not no_store:
            digest = hashlib.sha256(response.content).hexdigest()
            blob = self._blob_path(target, digest)
            if not self._cache.exists(blob):
                self._cache.write_path(blob, response.content)
            record = msgspec.structs.replace(record, sha256=digest)
        else:
            # A no-store body is inline, not in the wheels bucket, where a
            # request by hash would find it online.
            record = msgspec.structs.replace(record, body=response.content)
        self._keep(self._record_path, target, msgspec.msgpack.encode(record), no_store=no_store)

    def _keep(self, path_of: Callable[[Target, str], Path], target: Target, data: bytes, *, no_store: bool) -> None:
        """Write *data* as *target*'s record in the files *path_of* names:
        the regular one, or, for a response that forbids storing
        (*no_store*), the one for ``--offline`` only, and then the regular
        one is removed, so that no later run reuses it online.

        An offline-only copy is left beside the regular record that
        follows it: ``--offline`` reads the newer of the two, and ``cache
        prune`` removes old copies. Looking for one would cost every record
        of a cold run a look at the disk, on the thread that fetches.
        """
        if not no_store:
            self._cache.write_path(path_of(target, RECORD_SUFFIX), data)
            return
        self._cache.write_path(path_of(target, OFFLINE_SUFFIX), data)
        regular = path_of(target, RECORD_SUFFIX)
        if self._cache.exists(regular):
            self._cache.remove_path(regular)

    def _forbids_storing(self, target: Target, response: Response) -> bool:
        return "no-store" in self._directives(target, response.headers)

    def _remember_credentials(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            self._credentials[_origin(url)] = parts.netloc.rpartition("@")[0]

    def _network_url(self, url: str) -> str:
        """*url* as sent: without fragment, with its origin's credentials.

        A cache hit spares the inner fetcher the request that would have
        taught it an origin's credentials, while links on index pages carry
        none; the credentials seen are therefore added back here.
        """
        parts = urlsplit(url.partition("#")[0])
        userinfo = self._credentials.get(_origin(url))
        if userinfo is not None and parts.username is None and parts.password is None:
            parts = parts._replace(netloc=f"{userinfo}@{parts.netloc}")
        return urlunsplit(parts)

    async def aclose(self) -> None:
        """Close the wrapped fetcher."""
        await self._fetcher.aclose()


def project_of_filename(filename: str) -> NormalizedName | None:
    """The project a wheel or sdist file name (or its ``.metadata`` file)
    belongs to, or ``None`` when the name is neither."""
    name = filename.removesuffix(".metadata")
    try:
        if name.endswith(".whl"):
            return parse_wheel_filename(name)[0]
        if name.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(name)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        pass
    return None


def cache_overrides(indexes: Iterable[Index]) -> list[tuple[str, CacheKind, str]]:
    """The indexes' ``cache-control`` settings, as ``CachingFetcher`` overrides.

    Each applies to the URLs under its index's URL: its project pages
    (``api``) and the files (``files``) it serves from there, as a
    find-links location does. Files an index links to on another host or
    path keep the ``Cache-Control`` their server sends.
    """
    overrides: list[tuple[str, CacheKind, str]] = []
    for index in indexes:
        # A simple index's pages are below its URL: "/simple" must not also
        # cover "/simple-other/".
        prefix = index.url if index.format == "flat" else index.url.rstrip("/") + "/"
        if index.cache_control_api is not None:
            overrides.append((prefix, "api", index.cache_control_api))
        if index.cache_control_files is not None:
            overrides.append((prefix, "files", index.cache_control_files))
    return overrides


def open_fetcher(settings: Settings, cache: Cache) -> CachingFetcher:
    """The client every fetching command uses, built in this one place: the
    credentials of the configured indexes, the keyring, TLS, offline and
    refresh settings, over *cache*. It opens no connection until a request
    needs the network."""
    network, cached = settings.network, settings.cache
    client = Fetcher(
        credentials=CredentialStore.from_indexes(settings.index.indexes, os.environ),
        keyring_provider=network.keyring_provider.value,
        cert=network.cert.value,
        insecure_hosts=network.insecure_hosts.value,
    )
    return CachingFetcher(
        client,
        cache,
        offline=network.offline.value,
        refresh=cached.refresh.value,
        refresh_packages=cached.refresh_packages.value,
        overrides=cache_overrides(settings.index.indexes),
    )
