"""Ask the configured indexes what they offer for a project.

:class:`IndexClient` decides which indexes to ask (pins, explicit indexes,
the index strategy), asks them through a :class:`~freewheel.net.Fetcher`,
and hands the answers to :func:`~freewheel.index.strategy.merge_listings`.
Each project is looked up once per client, however many callers ask.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Generic, TypeVar
from urllib.parse import urlsplit

import msgspec
from packaging.utils import NormalizedName, canonicalize_name

from freewheel.cache.http import CachingFetcher
from freewheel.config.indexes import Index
from freewheel.errors import IndexAccessError, UsageError
from freewheel.index.flat import FlatListing, directory_listing, parse_flat_page
from freewheel.index.pages import PageFiles, ProjectPage, read_page
from freewheel.index.simple import ACCEPT, project_url
from freewheel.index.strategy import (
    STRATEGIES,
    Candidates,
    IndexOutcome,
    OutcomeStatus,
    Strategy,
    merge_listings,
)
from freewheel.net.response import FetchError, Getter
from freewheel.util.fs import file_url_path

if TYPE_CHECKING:
    import asyncio

_STOPPING: frozenset[OutcomeStatus] = frozenset(("unauthorized", "forbidden", "unreachable", "error"))


class ProjectListing(msgspec.Struct, frozen=True):
    """Everything the indexes offer for one project, ordered by the strategy.

    ``versions`` are candidates in preference order (for resolving to the
    highest), each with its usable files. ``outcomes`` has one entry per
    index asked, in configuration order; ``skipped`` lists the indexes not
    asked. ``error`` is the outcome that made the search stop short; the
    listing is then incomplete and :meth:`raise_for_error` explains why.
    """

    name: NormalizedName
    versions: Candidates
    outcomes: tuple[IndexOutcome, ...]
    skipped: tuple[Index, ...]
    error: IndexOutcome | None = None

    def raise_for_error(self) -> None:
        """Raise :class:`~freewheel.errors.IndexAccessError` if the search failed."""
        if self.error is not None:
            raise outcome_error(self.error, self.name)


def outcome_error(outcome: IndexOutcome, project: str) -> IndexAccessError:
    """The user-facing error for an index that stopped the search for *project*."""
    index = outcome.index
    kind = "find-links location" if index.format == "flat" else "index"
    has_credentials = urlsplit(index.url).username is not None
    credentials_hint = (
        "Check the username and password in the index URL."
        if has_credentials
        else "Give credentials in the index URL, as https://user:password@host/simple/."
    )
    match outcome.status:
        case "unauthorized" | "forbidden":
            refusal = (
                "rejected the credentials given in its URL"
                if has_credentials
                else "requires credentials, and none were given"
            )
            hint = credentials_hint
            if outcome.status == "forbidden":
                hint += (
                    " If this index answers 403 for projects it does not have, add "
                    "`ignore-error-codes = [403]` to its `[[tool.uv.index]]` entry."
                )
            return IndexAccessError(
                f"The {kind} {index.label} refused to list {project!r} ({outcome.detail}): it "
                f"{refusal}. freewheel does not fall back to other indexes when one refuses "
                "access, so that a package is never taken from an index you did not intend.",
                hint=hint,
            )
        case "unreachable":
            return IndexAccessError(
                f"Could not reach the {kind} {index.label} while looking for {project!r}: "
                f"{outcome.detail}. This is not the same as {project!r} not being there: "
                "the search stops rather than take the package from another index.",
                hint="Check the URL and your network connection.",
            )
        case _:
            return IndexAccessError(
                f"The {kind} {index.label} could not be used while looking for {project!r}: "
                f"{outcome.detail}.",
            )


def _status(status: int, index: Index) -> tuple[OutcomeStatus, str]:
    """Classify an HTTP *status* of *index* other than 200.

    A status in the index's ``ignore_error_codes`` means "not here", as a
    404 does: some indexes answer 403 for a project they do not have.
    """
    detail = f"HTTP {status}"
    if status in index.ignore_error_codes:
        return "not-found", f"{detail}, ignored by configuration"
    match status:
        case 404:
            return "not-found", detail
        case 401:
            return "unauthorized", detail
        case 403:
            return "forbidden", detail
    return "error", detail


def _count(files: Sequence[object]) -> str:
    return "1 file" if len(files) == 1 else f"{len(files)} files"


def _page_outcome(index: Index, project: NormalizedName, page: ProjectPage) -> IndexOutcome:
    if page.status != 200:
        return IndexOutcome(index, *_status(page.status, index))
    if page.unreadable is not None:
        return IndexOutcome(index, "error", page.unreadable)
    files = PageFiles(page, index, project)
    return IndexOutcome(index, "found", _count(files), files)


_T = TypeVar("_T")


class _Memo(Generic[_T]):
    """Run each keyed coroutine once; concurrent callers share the result."""

    def __init__(self) -> None:
        self._tasks: dict[object, asyncio.Task[_T]] = {}

    async def get(self, key: object, make: Callable[[], Awaitable[_T]]) -> _T:
        import asyncio  # here: a run the cache serves whole (see cached()) needs none

        task = self._tasks.get(key)
        if task is None:
            task = self._tasks[key] = asyncio.ensure_future(make())
        # One caller being cancelled must not cancel the lookup for the others.
        return await asyncio.shield(task)


class IndexClient:
    """Look projects up on an ordered list of indexes.

    *indexes* come highest priority first. *pins* map a project to the name
    of the only index it may come from; an ``explicit`` index serves pinned
    projects only. Flat locations that are not explicit are consulted for
    every project, whatever the strategy.
    """

    def __init__(
        self,
        fetcher: Getter,
        indexes: Sequence[Index],
        *,
        strategy: str = "first-index",
        pins: Mapping[NormalizedName, str] | None = None,
    ) -> None:
        if strategy not in STRATEGIES:
            raise UsageError(
                f"Unknown index strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}."
            )
        self._by_name = {index.name: index for index in reversed(indexes) if index.name}
        self._fetcher = fetcher
        self._indexes = tuple(indexes)
        self._strategy: Strategy = strategy  # type: ignore[assignment]
        self._pins = {canonicalize_name(project): self._named(project, name) for project, name in (pins or {}).items()}
        self._projects: _Memo[ProjectListing] = _Memo()
        self._offers: _Memo[tuple[IndexOutcome, ...]] = _Memo()
        self._flat: _Memo[FlatListing | IndexOutcome] = _Memo()
        #: Listings made, by either path: read on both threads, each entry
        #: written whole.
        self._known: dict[tuple[NormalizedName, Index | None], ProjectListing] = {}
        self._local_flat: dict[str, FlatListing] = {}

    async def project(self, name: str, pin: str | None = None) -> ProjectListing:
        """What the indexes offer for *name*, ordered by the strategy.

        *pin* names the only index to ask this time, in place of the
        configured pin (a universal resolution pins by environment).
        """
        project, index = self._key(name, pin)
        known = self._known.get((project, index))
        if known is not None:
            return known
        return await self._projects.get((project, index), lambda: self._lookup(project, index))

    def cached(self, name: str, pin: str | None = None) -> ProjectListing | None:
        """What :meth:`project` would answer, when the cache alone can say
        it now (see :meth:`~freewheel.cache.http.CachingFetcher.derived`);
        else ``None``. Runs on the caller's thread, without an event loop.
        """
        project, index = self._key(name, pin)
        known = self._known.get((project, index))
        if known is None and isinstance(self._fetcher, CachingFetcher):
            known = self._from_cache(self._fetcher, project, index)
            if known is not None:
                self._known[(project, index)] = known
        return known

    def _key(self, name: str, pin: str | None) -> tuple[NormalizedName, Index | None]:
        project = canonicalize_name(name)
        return project, self._pins.get(project) if pin is None else self._named(project, pin)

    def _from_cache(
        self, fetcher: CachingFetcher, project: NormalizedName, pinned: Index | None
    ) -> ProjectListing | None:
        outcomes: list[IndexOutcome] = []
        for index in self._eligible(pinned):
            if index.format == "flat":
                if index.url not in self._local_flat:
                    local = _local_flat(index)
                    if local is None:
                        return None
                    self._local_flat[index.url] = local
                listing = self._local_flat[index.url]
                outcomes.append(_flat_outcome(index, listing, project))
                continue
            if self._strategy == "first-index" and any(
                o.index.format == "simple" and o.status != "not-found" for o in outcomes
            ):
                continue
            page = fetcher.derived(project_url(index, project), ACCEPT, ProjectPage)
            if page is None:
                return None
            outcomes.append(_page_outcome(index, project, page))
        return self._listing(project, outcomes)

    async def other_offers(self, name: str) -> tuple[IndexOutcome, ...]:
        """Ask the indexes :meth:`project` skipped for *name*.

        For hints such as "the version you need is on another index"; the
        answers never become candidates.
        """
        import asyncio

        project = canonicalize_name(name)

        async def ask_skipped() -> tuple[IndexOutcome, ...]:
            listing = await self.project(project)
            return tuple(
                await asyncio.gather(*(self._ask(index, project) for index in listing.skipped))
            )

        return await self._offers.get(project, ask_skipped)

    def _named(self, project: str, index_name: str) -> Index:
        index = self._by_name.get(index_name)
        if index is None:
            defined = ", ".join(sorted(self._by_name)) or "none"
            raise UsageError(
                f"{project!r} is pinned to the index {index_name!r}, but no index has that "
                f"name (defined index names: {defined})."
            )
        return index

    def _eligible(self, pinned: Index | None) -> list[Index]:
        """The indexes to consider for a project pinned to *pinned* (or not), in priority order."""

        def eligible(index: Index) -> bool:
            if index is pinned:
                return True
            if index.explicit:
                return False
            # A pin replaces every simple index; flat locations still add files.
            return pinned is None or index.format == "flat"

        return [index for index in self._indexes if eligible(index)]

    async def _lookup(self, project: NormalizedName, pinned: Index | None) -> ProjectListing:
        import asyncio

        eligible = self._eligible(pinned)
        simple = [index for index in eligible if index.format == "simple"]
        flat = [index for index in eligible if index.format == "flat"]
        flat_outcomes = asyncio.gather(*(self._ask(index, project) for index in flat))
        if self._strategy == "first-index":
            simple_outcomes = []
            for index in simple:
                outcome = await self._ask(index, project)
                simple_outcomes.append(outcome)
                if outcome.status != "not-found":
                    break
        else:
            simple_outcomes = list(
                await asyncio.gather(*(self._ask(index, project) for index in simple))
            )
        listing = self._listing(project, [*simple_outcomes, *await flat_outcomes])
        self._known[(project, pinned)] = listing
        return listing

    def _listing(self, project: NormalizedName, asked_outcomes: Sequence[IndexOutcome]) -> ProjectListing:
        asked = {outcome.index: outcome for outcome in asked_outcomes}
        outcomes = tuple(asked[index] for index in self._indexes if index in asked)
        return ProjectListing(
            name=project,
            versions=merge_listings(self._strategy, outcomes),
            outcomes=outcomes,
            skipped=tuple(index for index in self._indexes if index not in asked),
            error=next((o for o in outcomes if o.status in _STOPPING), None),
        )

    async def _ask(self, index: Index, project: NormalizedName) -> IndexOutcome:
        if index.format == "flat":
            listing = await self._flat.get(index, lambda: self._read_flat(index))
            if isinstance(listing, IndexOutcome):
                return listing
            return _flat_outcome(index, listing, project)
        url = project_url(index, project)
        try:
            if isinstance(self._fetcher, CachingFetcher):
                read = functools.partial(read_page, index=index, project=project)
                page = await self._fetcher.get_derived(url, read, ProjectPage, headers={"Accept": ACCEPT})
            else:
                page = read_page(await self._fetcher.get(url, headers={"Accept": ACCEPT}), index, project)
        except FetchError as exc:
            return IndexOutcome(index, "unreachable", exc.reason)
        return _page_outcome(index, project, page)

    async def _read_flat(self, index: Index) -> FlatListing | IndexOutcome:
        """Read a whole flat location once; an outcome stands for a failure."""
        import asyncio

        local = await asyncio.to_thread(_local_flat, index)
        if local is not None:
            return local
        try:
            response = await self._fetcher.get(index.url, headers={"Accept": "text/html"})
        except FetchError as exc:
            return IndexOutcome(index, "unreachable", exc.reason)
        if response.status == 404:
            # A find-links location that is missing is a mistake, not a miss.
            where = "" if index.url.startswith("file:") else " (HTTP 404)"
            return IndexOutcome(index, "error", f"it does not exist{where}")
        if response.status != 200:
            return IndexOutcome(index, *_status(response.status, index))
        return parse_flat_page(response.content, response.url, index)


def _local_flat(index: Index) -> FlatListing | None:
    """The listing of a flat location that is a local directory; ``None``
    for any other."""
    directory = file_url_path(index.url)
    if directory is None or not directory.is_dir():
        return None
    return directory_listing(os.listdir(directory), index.url, index)


def _flat_outcome(index: Index, listing: FlatListing, project: NormalizedName) -> IndexOutcome:
    files = listing.get(project, ())
    return IndexOutcome(index, "found" if files else "not-found", _count(files), files)
