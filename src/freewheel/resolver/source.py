"""The resolver's window onto indexes and metadata: blocking calls backed by
an event loop in a background thread that keeps fetching ahead.

The PubGrub core is synchronous; the network is not. :class:`PackageSource`
gives the provider blocking ``listing``/``metadata`` calls, and ``prefetch``
lets it say what it will probably need next: the page of each new
dependency and the metadata of the version it would pick, fetched in
parallel while the solver keeps deciding.
"""

from __future__ import annotations

import threading
from collections.abc import (
    Awaitable,
    Callable,
    Collection,
    Coroutine,
    Iterator,
    Mapping,
    Sequence,
)
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from freewheel.dists.builds.sdist import fetch_wheel
from freewheel.dists.metadata import CoreMetadata, MetadataSource
from freewheel.errors import MetadataError
from freewheel.index.client import IndexClient, ProjectListing
from freewheel.index.models import DistFile
from freewheel.resolver.candidates import Candidate, CandidatePolicy, ProjectCandidates
from freewheel.resolver.pubgrub import Ranges, VersionKey, from_specifiers, version_key

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")

#: Versions of one package walked back whose metadata (and their
#: dependencies' best versions') is fetched at once.
WALK_AHEAD = 16

# What only a mistake in freewheel raises; a prefetch meeting one is not
# a network or data problem to leave to the resolver.
_BUGS = (TypeError, AttributeError, NameError, AssertionError)


class AsyncRunner:
    """An event loop running in a daemon thread, started by the first
    coroutine given to it: a run the cache serves whole needs neither, nor
    imports asyncio (this module imports it where a loop already runs, or
    is being made)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop, started in its thread if it was not yet."""
        import asyncio

        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="freewheel-io", daemon=True)
                thread.start()
                # Kept only once running: a loop nothing runs would hang its callers.
                self._loop, self._thread = loop, thread
            return self._loop

    @property
    def started(self) -> bool:
        """Whether any coroutine was run (the loop and its thread exist)."""
        return self._loop is not None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run *coro* on the loop and wait for its result."""
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def spawn(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Start *coro* on the loop without waiting for it."""
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self, finalizer: Callable[[], Awaitable[None]] | None = None) -> None:
        """Cancel every task still running, wait for them, then run *finalizer* and stop.

        Work started in the background (prefetches walking down the
        dependency tree) must end before *finalizer* closes what it uses:
        a task that outlived the HTTP client would fail on it, and Python
        would print its unretrieved exception after freewheel's own output.
        A runner that never started has nothing to close, and *finalizer*
        nothing to release: it is not run.
        """
        if self._loop is None or self._thread is None:
            return
        import asyncio

        async def shutdown() -> None:
            current = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if finalizer is not None:
                await finalizer()

        self.run(shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def _within(bounds: Mapping[NormalizedName, Ranges], name: NormalizedName, range_: Ranges) -> Ranges:
    """*range_* narrowed to what *bounds* allow of *name*."""
    bound = bounds.get(name)
    return range_ if bound is None else range_ & bound


class PackageSource:
    """Blocking, memoized access to project listings and metadata."""

    def __init__(
        self,
        runner: AsyncRunner,
        client: IndexClient,
        metadata: MetadataSource,
        policy: CandidatePolicy,
        *,
        strategy: str,
        sources_table: str = "[tool.freewheel.sources]",
        prefetch: bool = True,
        references: Mapping[NormalizedName, tuple[DistFile, CoreMetadata]] | None = None,
        pinned: Mapping[str, tuple[DistFile, CoreMetadata]] | None = None,
    ) -> None:
        self.strategy = strategy
        #: Direct references: the one file each of these projects comes
        #: from, and its metadata, read (or built) before resolving.
        self.references = dict(references or {})
        #: Direct references a pin names instead of an index (a source
        #: under a condition), by the pin's value: the reference's URL.
        self.pinned = dict(pinned or {})
        self.sources_table = sources_table
        #: Whether to fetch ahead at all: offline, everything comes from the
        #: cache, and fetching ahead only takes the resolver's CPU.
        self._ahead = prefetch
        self._runner = runner
        self._client = client
        self._metadata = metadata
        self._policy = policy
        self._prefetched: set[NormalizedName] = set()
        self._walking: set[asyncio.Task[None]] = set()
        #: Projects the resolver asked to prefetch (touched on its thread only).
        self._requested: set[NormalizedName] = set()
        #: Programming errors prefetches met (see :meth:`check`).
        self._bugs: list[BaseException] = []
        #: Metadata already read, by file URL: written on the I/O thread,
        #: read on the resolver's, so that a hit costs no hop between them.
        self._ready: dict[str, CoreMetadata] = {
            dist.url: meta for dist, meta in (*self.references.values(), *self.pinned.values())
        }
        self._candidates: dict[tuple[NormalizedName, tuple[str, ...], bool, CandidatePolicy], ProjectCandidates] = {}
        self._listings: dict[tuple[NormalizedName, str | None], ProjectListing] = {}
        self._ascending: dict[tuple[NormalizedName, str | None], tuple[list[VersionKey], list[Version]]] = {}
        #: The first candidates built per listing, whatever the policy (see
        #: :meth:`ProjectCandidates.for_policy`).
        self._any_policy: dict[tuple[NormalizedName, tuple[str, ...], bool], ProjectCandidates] = {}

    def listing(self, name: NormalizedName, pin: str | None = None) -> ProjectListing:
        """What the indexes offer for *name* (only index *pin*, if given),
        or a direct reference's one file (*name*'s, or the one *pin* names);
        read once per source, however many forks of a universal resolution ask."""
        listing = self._listings.get((name, pin))
        if listing is None:
            listing = (
                self._referenced(name, pin)
                or self._client.cached(name, pin)
                or self._runner.run(self._client.project(name, pin))
            )
            self._listings[(name, pin)] = listing
        return listing

    def ascending(self, name: NormalizedName, pin: str | None = None) -> tuple[list[VersionKey], list[Version]]:
        """Every version :meth:`listing` offers, ascending, with their
        :func:`version_key`; sorted once per source, however many forks ask."""
        cached = self._ascending.get((name, pin))
        if cached is None:
            ordered = sorted({v for v, _ in self.listing(name, pin).versions}, key=version_key)
            cached = self._ascending[(name, pin)] = ([version_key(v) for v in ordered], ordered)
        return cached

    def _referenced(self, name: NormalizedName, pin: str | None) -> ProjectListing | None:
        """A direct reference's project, as a listing of its one file."""
        reference = self.references.get(name) or (self.pinned.get(pin) if pin is not None else None)
        if reference is None:
            return None
        dist = reference[0]
        return ProjectListing(name, ((dist.version, (dist,)),), (), ())

    def candidates(
        self, listing: ProjectListing, *, lowest: bool, policy: CandidatePolicy | None = None
    ) -> ProjectCandidates:
        """The candidates of *listing*'s project under *policy* (by default
        the source's own), built once for both threads.

        Sorting thousands of versions is the costly part; evaluating a
        version is pure, so the two threads may share the lazily filled
        table (at worst both evaluate one version). A universal resolution
        solves several forks, each with its own policy, over one source.
        """
        policy = policy or self._policy
        # A direct reference's listing asked no index: its file's own
        # ``index`` (the reference) tells it from another reference's.
        where = tuple(o.index.url for o in listing.outcomes) or tuple(
            f.index.url for _, files in listing.versions for f in files
        )
        listed = (listing.name, where, lowest)
        cached = self._candidates.get((*listed, policy))
        if cached is None:
            other = self._any_policy.get(listed)
            if other is None:
                cached = self._any_policy[listed] = ProjectCandidates(policy, listing.name, listing.versions, lowest=lowest)
            else:
                cached = other.for_policy(policy)
            self._candidates[(*listed, policy)] = cached
        return cached

    def other_offers(self, name: NormalizedName) -> tuple[Any, ...]:
        return self._runner.run(self._client.other_offers(name))

    def fetch_files(
        self,
        wanted: Sequence[tuple[DistFile, Collection[str]]],
        on_done: Callable[[], None] = lambda: None,
        *,
        wheels: bool = False,
    ) -> list[Path]:
        """Local paths of the files in *wanted* (each with the sha256 values
        allowed for it, or none), downloaded concurrently where needed;
        *on_done* is called (on the I/O thread) as each one is ready. With
        *wheels*, an sdist's path is that of the wheel built from it."""
        store = self._metadata.store
        builds = self._metadata.builds
        assert store is not None

        async def fetch_one(dist: DistFile, allowed: Collection[str]) -> Path:
            if wheels:
                path = await fetch_wheel(store, dist, builds, allowed_sha256=allowed)
            else:
                path = await store.fetch(dist, allowed_sha256=allowed)
            on_done()
            return path

        async def fetch_all() -> list[Path]:
            import asyncio

            return list(await asyncio.gather(*(fetch_one(d, h) for d, h in wanted)))

        return self._runner.run(fetch_all())

    def metadata(self, dist: DistFile) -> CoreMetadata:
        ready = self._ready.get(dist.url)
        if ready is None:
            # Parsed once: the forks of a universal resolution ask again.
            ready = self._metadata.cached(dist) or self._runner.run(self._get_metadata(dist))
            self._ready[dist.url] = ready
        return ready

    async def _get_metadata(self, dist: DistFile) -> CoreMetadata:
        metadata = await self._metadata.get(dist)
        self._ready[dist.url] = metadata
        return metadata

    @property
    def fetches_ahead(self) -> bool:
        """Whether :meth:`prefetch` and :meth:`prefetch_versions` fetch
        anything (not offline, nor stopped): a caller may skip choosing
        what to ask for."""
        return self._ahead

    def prefetch(
        self, name: NormalizedName, range_: Ranges, bounds: Mapping[NormalizedName, Ranges], *, lowest: bool
    ) -> None:
        """Start fetching *name*'s page, its likely version's metadata, and
        so on down that version's own dependencies (once per project).

        *bounds* are what the requirements allow of the projects they name:
        no version outside them is fetched ahead.
        """
        if self._ahead and name not in self._requested:
            self._requested.add(name)
            if self._client.cached(name) is None:
                # A page the cache holds is read here when needed, and the
                # resolver reaches its dependencies' pages soon enough.
                self._spawn(self._prefetch(name, range_, bounds, lowest))

    def prefetch_versions(self, candidates: Sequence[Candidate], bounds: Mapping[NormalizedName, Ranges]) -> None:
        """Start fetching the metadata of *candidates*, and of the best
        version of each of their dependencies within *bounds* (a release
        that pins its companion, ``==`` by ``==``, needs both to be judged)."""
        if not self._ahead:
            return
        if not self._runner.started:
            # Nothing was fetched yet: if the cache has all of these, the
            # resolver reads them here, and no loop needs to start.
            candidates = [c for c in candidates if not self._metadata.is_cached(c.metadata_file)]
        if candidates:
            self._spawn(self._prefetch_versions(candidates, bounds))

    def stop_prefetching(self) -> None:
        """Fetch nothing more ahead: what was asked for still comes, but the
        walks down the dependency tree go no further."""
        self._ahead = False

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._runner.spawn(coro).add_done_callback(self._note_failure)

    def _note_failure(self, future: Future[None]) -> None:
        # A failed prefetch is not an error: the resolver asks again and
        # reports the failure at the point it actually needs the data. A
        # programming error is kept for check(): a prefetch that always
        # fails would only show as a slower resolution.
        if not future.cancelled() and isinstance(future.exception(), _BUGS):
            self._bugs.append(future.exception())

    def check(self) -> None:
        """Raise the first programming error a prefetch met, if any."""
        if self._bugs:
            raise self._bugs[0]

    def _dependencies(
        self, metadata: CoreMetadata, bounds: Mapping[NormalizedName, Ranges]
    ) -> Iterator[tuple[NormalizedName, Ranges]]:
        """What *metadata* requires on the target (extras aside) within
        *bounds*, for prefetching."""
        target = self._policy.target
        for requirement in metadata.requires_dist:
            if requirement.marker is None or target.evaluate(requirement.marker):
                name = canonicalize_name(requirement.name)
                yield name, _within(bounds, name, from_specifiers(requirement.specifier))

    async def _best(self, name: NormalizedName, range_: Ranges, lowest: bool) -> Candidate | None:
        """The version of *name* the resolver would probably pick in *range_*."""
        listing = self._referenced(name, None) or await self._client.project(name)
        if listing.error is not None:
            return None
        return self.candidates(listing, lowest=lowest).best(range_)

    async def _prefetch_versions(
        self, candidates: Sequence[Candidate], bounds: Mapping[NormalizedName, Ranges]
    ) -> None:
        # In the walk's order, a few versions at a time: the resolver needs
        # each version's dependencies right after the version itself, and
        # would wait for them behind the requests of every later version if
        # all the versions were asked for at once.
        import asyncio

        window = asyncio.Semaphore(WALK_AHEAD)

        async def best(name: NormalizedName, range_: Ranges) -> None:
            candidate = await self._best(name, range_, lowest=False)
            if candidate is not None:
                await self._get_metadata(candidate.metadata_file)

        async def one(candidate: Candidate) -> None:
            async with window:
                metadata = await self._get_metadata(candidate.metadata_file)
                await asyncio.gather(
                    *(best(n, r) for n, r in self._dependencies(metadata, bounds)), return_exceptions=True
                )

        await asyncio.gather(*(one(c) for c in candidates), return_exceptions=True)

    def _walked(self, task: asyncio.Task[None]) -> None:
        self._walking.discard(task)
        # As for spawned prefetches: a failure is reported where the data is needed.
        if not task.cancelled():
            task.exception()

    async def _prefetch(
        self, name: NormalizedName, range_: Ranges, bounds: Mapping[NormalizedName, Ranges], lowest: bool
    ) -> None:
        import asyncio

        # Runs on the loop thread only, so the set needs no lock.
        if name in self._prefetched or not self._ahead:
            return
        self._prefetched.add(name)
        candidate = await self._best(name, _within(bounds, name, range_), lowest)
        if candidate is None:
            return
        try:
            metadata = await self._get_metadata(candidate.metadata_file)
        except MetadataError:
            return
        # Walking ahead down the likely dependency tree turns a chain of
        # round trips (one per level) into one wave of parallel requests.
        for dep, dep_range in self._dependencies(metadata, bounds):
            task = asyncio.ensure_future(self._prefetch(dep, dep_range, bounds, lowest))
            # The loop keeps only weak references to tasks.
            self._walking.add(task)
            task.add_done_callback(self._walked)
