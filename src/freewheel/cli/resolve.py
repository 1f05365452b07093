"""Turning gathered requirements and settings into a resolution.

Shared by every command that resolves (``pip compile``, ``pip install``,
``pip sync``, ``explain``): it evaluates markers for the target, builds the
candidate policy, runs the resolver over an event loop, and reports what
each index answered when asked to (``-v``).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import msgspec
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from freewheel.cli.builds import BuildRequest, build_request
from freewheel.cli.context import CommandContext, PendingContext
from freewheel.config.settings import PrereleaseMode, Settings
from freewheel.dists.hashing import sha256_file
from freewheel.errors import FreewheelError, InputError, UsageError
from freewheel.index.models import DistFile
from freewheel.inputs.gather import Gathered
from freewheel.inputs.pyproject import ALL_EXTRAS
from freewheel.inputs.requirements_txt import SourcedRequirement, read_requirements
from freewheel.python.target import Target
from freewheel.resolver.candidates import ALL, BinaryPolicy, CandidatePolicy
from freewheel.resolver.markers import MarkerTree
from freewheel.resolver.provider import Provider, Requirements, requirement_range
from freewheel.resolver.result import PinnedPackage

if TYPE_CHECKING:
    from freewheel.cache import Cache
    from freewheel.cache.http import CachingFetcher
    from freewheel.dists.direct import Materialized
    from freewheel.dists.metadata import MetadataSource
    from freewheel.index.client import IndexClient
    from freewheel.resolver.pubgrub import Ranges
    from freewheel.resolver.source import AsyncRunner, PackageSource
    from freewheel.resolver.universal import MakeProvider, UniversalTarget


class ResolveRequest(msgspec.Struct, frozen=True):
    requirements: Requirements
    via_sources: Mapping[NormalizedName, tuple[str, ...]]
    policy: CandidatePolicy
    resolution: str
    no_deps: bool
    hashes: bool
    build: BuildRequest
    #: Direct references (``name @ URL``, paths) still to bring here, then,
    #: once :func:`with_references` did, each project's file and metadata.
    pending: tuple[SourcedRequirement, ...] = ()
    references: Mapping[NormalizedName, Materialized] = msgspec.field(default_factory=dict)
    #: Direct references that index pins name (sources under a condition), by URL.
    pinned: Mapping[str, Materialized] = msgspec.field(default_factory=dict)
    #: The references given as editable (``-e PATH``).
    editable: frozenset[NormalizedName] = frozenset()

    @classmethod
    def from_args(
        cls,
        args: argparse.Namespace,
        gathered: Gathered,
        context: CommandContext,
        *,
        existing_output: Path | None,
        target: Target | None = None,
    ) -> ResolveRequest:
        """The request *args* and *gathered* make, for *target* (by default
        the context's one environment)."""
        target = target or context.target
        pending = tuple(
            e for e in gathered.requirements if e.url is not None and _applies(e, target)
        )
        direct = _applicable([e for e in gathered.requirements if e.url is None], target)
        via: dict[NormalizedName, set[str]] = collections.defaultdict(set)
        for sourced, requirement in direct:
            via[canonicalize_name(requirement.name)].add(sourced.source.annotation())
        direct_requirements = tuple(r for _, r in direct)

        constraints = applicable_ranges(gathered.constraints, target)
        overrides = {
            canonicalize_name(r.name): r for _, r in _applicable(gathered.overrides, target)
        }

        upgrade_all = bool(args.upgrade)
        upgrade = {canonicalize_name(n) for n in args.upgrade_package}
        preferences = {} if upgrade_all or existing_output is None else _pins_in(existing_output)
        preferences = {n: v for n, v in preferences.items() if n not in upgrade}

        resolver = context.settings.resolver
        mode: PrereleaseMode = "allow" if any(f.pre for f in gathered.files) else resolver.prerelease.value
        policy = CandidatePolicy(
            target=target,
            prerelease=mode,
            explicit_prereleases=frozenset(_names_asking_prereleases(direct_requirements)),
            exclude_newer=resolver.exclude_newer.value,
            binary=_binary_policy(args, gathered),
            allow_yanked=frozenset(_exact_pins(direct_requirements)),
        )
        return cls(
            requirements=Requirements(direct_requirements, constraints, overrides, preferences),
            via_sources={n: tuple(sorted(s)) for n, s in via.items()},
            policy=policy,
            resolution=resolver.resolution.value,
            no_deps=bool(args.no_deps),
            hashes=bool(getattr(args, "generate_hashes", False)),
            build=build_request(args, context),
            pending=pending,
        )


def _applicable(
    sourced: Iterable[SourcedRequirement], target: Target
) -> list[tuple[SourcedRequirement, Requirement]]:
    """Named requirements whose markers hold for *target*."""
    kept = []
    for entry in sourced:
        requirement = entry.requirement
        if requirement is None or entry.url is not None or entry.editable:
            where = entry.source.annotation()
            raise UsageError(
                f"The requirement {entry.url or requirement} ({where}) is a direct URL, path or "
                "editable requirement, which only `pip install -e`, `pip install` and `pip compile` "
                "requirements may be; as a constraint or an override, require it by name."
            )
        if _applies(entry, target):
            kept.append((entry, requirement))
    return kept


def _applies(entry: SourcedRequirement, target: Target) -> bool:
    marker = entry.requirement.marker if entry.requirement is not None else entry.marker
    return marker is None or target.evaluate(marker)


def with_references(request: ResolveRequest, context: CommandContext, cache: Cache) -> ResolveRequest:
    """*request* with its direct references brought here: each becomes a
    requirement on its project, which resolves to that one file."""
    if not request.pending:
        return request
    from freewheel.cli.builds import sdist_builds
    from freewheel.dists.direct import materialize_all

    materialized = materialize_all(
        [(e.url, e.name) for e in request.pending if e.url is not None],
        settings=context.settings,
        cache=cache,
        builds=sdist_builds(request.build, context, cache),
    )
    direct = list(request.requirements.direct)
    via = {name: set(sources) for name, sources in request.via_sources.items()}
    by_name: dict[NormalizedName, Materialized] = {}
    for entry, found in zip(request.pending, materialized, strict=True):
        name = found.metadata.name
        other = by_name.get(name)
        if other is not None and other.direct_url != found.direct_url:
            raise UsageError(
                f"{name} is required from two different places: {other.direct_url['url']} and "
                f"{found.direct_url['url']}."
            )
        extras = entry.requirement.extras if entry.requirement is not None else entry.extras
        if entry.expand:
            # `-r pyproject.toml` with dynamic dependencies, `-r setup.py`: what the backend says they are.
            wanted = found.metadata.provides_extra if ALL_EXTRAS in extras else extras
            source = msgspec.structs.replace(entry.source, project=entry.source.project or found.metadata.name)
            for requirement in found.metadata.requires_dist:
                if requirement.marker is None or context.target.evaluate(requirement.marker, wanted):
                    direct.append(requirement)
                    via.setdefault(canonicalize_name(requirement.name), set()).add(source.annotation())
            continue
        by_name[name] = found
        direct.append(Requirement(f"{name}[{','.join(sorted(extras))}]" if extras else name))
        via.setdefault(name, set()).add(entry.source.annotation())
    return msgspec.structs.replace(
        request,
        requirements=msgspec.structs.replace(request.requirements, direct=tuple(direct)),
        via_sources={n: tuple(sorted(s)) for n, s in via.items()},
        pending=(),
        references=by_name,
        editable=frozenset(m.metadata.name for e, m in zip(request.pending, materialized, strict=True) if e.editable),
    )


def applicable_ranges(
    sourced: Iterable[SourcedRequirement],
    target: Target,
    ranges: Mapping[NormalizedName, Ranges] | None = None,
) -> dict[NormalizedName, Ranges]:
    """*ranges* narrowed by the constraints in *sourced* that apply to *target*."""
    narrowed = dict(ranges or {})
    for _, requirement in _applicable(sourced, target):
        name = canonicalize_name(requirement.name)
        range_ = requirement_range(requirement)
        narrowed[name] = narrowed[name] & range_ if name in narrowed else range_
    return narrowed


def _names_asking_prereleases(requirements: Iterable[Requirement]) -> Iterable[NormalizedName]:
    for requirement in requirements:
        if requirement.specifier.prereleases:
            yield canonicalize_name(requirement.name)


def _exact_pins(requirements: Iterable[Requirement]) -> Iterable[tuple[NormalizedName, Version]]:
    for requirement in requirements:
        for spec in requirement.specifier:
            if spec.operator in ("==", "===") and not spec.version.endswith(".*"):
                try:
                    yield canonicalize_name(requirement.name), Version(spec.version)
                except InvalidVersion:
                    continue


def _names(values: Iterable[str]) -> frozenset[str]:
    names: set[str] = set()
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if item == ":none:":
                names.clear()
            elif item:
                names.add(item if item == ALL else canonicalize_name(item))
    return frozenset(names)


def _binary_policy(args: argparse.Namespace, gathered: Gathered) -> BinaryPolicy:
    no_binary = [*args.no_binary, *(v for f in gathered.files for v in f.no_binary)]
    only_binary = [*args.only_binary, *(v for f in gathered.files for v in f.only_binary)]
    if getattr(args, "no_build", None):
        only_binary.append(ALL)
    return BinaryPolicy(no_binary=_names(no_binary), only_binary=_names(only_binary))


def _pins_in(path: Path) -> dict[NormalizedName, Version]:
    """``name==version`` pins of an existing output file, to keep them stable.

    A previous output that no longer parses is not an error: it only loses
    its say in which versions are preferred.
    """
    if not path.is_file():
        return {}
    try:
        parsed = read_requirements(path)
    except InputError:
        return {}
    pins = {}
    for entry in parsed.requirements:
        if entry.requirement is None:
            continue
        specs = list(entry.requirement.specifier)
        if len(specs) == 1 and specs[0].operator == "==" and not specs[0].version.endswith(".*"):
            try:
                pins[canonicalize_name(entry.requirement.name)] = Version(specs[0].version)
            except InvalidVersion:
                continue
    return pins


def open_cache(settings: Settings) -> Cache:
    """The cache ``--cache-dir`` and ``--no-cache`` (or their variables) ask for."""
    from freewheel.cache import Cache

    cached = settings.cache
    return Cache.open(cached.directory.value, no_cache=cached.no_cache.value)


class Lookups(NamedTuple):
    """The way to the indexes a resolution reads through: its cache, the
    I/O thread, the fetcher over them, the index client and the metadata
    source. It needs only the settings, so a command can open it, and ask
    for pages, before the interpreter it targets has described itself (see
    :meth:`prefetch` and :func:`walk_ahead`)."""

    cache: Cache
    runner: AsyncRunner
    fetcher: CachingFetcher
    client: IndexClient
    metadata: MetadataSource

    def prefetch(self, requirements: Iterable[SourcedRequirement]) -> None:
        """Start reading the pages of the projects *requirements* name, when
        the cache cannot answer for them now.

        Only requirements surely needed whatever the target count: by name,
        without a marker. Offline, nothing is fetched ahead.
        """
        if self.fetcher.offline:
            return
        for entry in requirements:
            requirement = entry.requirement
            if entry.url is None and requirement is not None and requirement.marker is None:
                # The lookup is kept by the client, and the resolver's own
                # request for the page waits for it; a failure surfaces there.
                if self.client.cached(requirement.name) is None:
                    self.runner.spawn(self.client.project(requirement.name))


@contextlib.contextmanager
def open_lookups(settings: Settings, cache: Cache | None = None) -> Iterator[Lookups]:
    """:class:`Lookups` over *cache* (by default one opened, and closed, for
    the ``with`` block); the event loop and the HTTP client live as long as
    the block."""
    from freewheel.cache.http import open_fetcher
    from freewheel.dists.downloads import DistStore
    from freewheel.dists.metadata import MetadataSource
    from freewheel.index.client import IndexClient
    from freewheel.resolver.source import AsyncRunner

    own_cache = cache is None
    cache = open_cache(settings) if cache is None else cache
    runner = AsyncRunner()
    fetcher = open_fetcher(settings, cache)
    try:
        indexes = settings.index
        client = IndexClient(fetcher, indexes.indexes, strategy=indexes.strategy.value, pins=indexes.pins)
        metadata = MetadataSource(fetcher, DistStore(cache.bucket("wheels"), fetcher), cache)
        yield Lookups(cache, runner, fetcher, client, metadata)
    finally:
        runner.close(fetcher.aclose)
        if own_cache:
            cache.close()


@contextlib.contextmanager
def resolver_session(
    request: ResolveRequest,
    context: CommandContext,
    cache: Cache | None = None,
    *,
    lookups: Lookups | None = None,
) -> Iterator[Provider]:
    """A provider wired to the context's indexes, through *lookups* (by
    default ones opened over *cache* for the ``with`` block, see
    :func:`open_lookups`).

    With ``-v``, what every index answered is reported at the end, also
    when the resolution failed.
    """
    from freewheel.cli.builds import sdist_builds

    with contextlib.ExitStack() as stack:
        if lookups is None:
            lookups = stack.enter_context(open_lookups(context.settings, cache))
        lookups.metadata.builds = sdist_builds(request.build, context, lookups.cache)
        provider = _provider(request, context, lookups)
        try:
            yield provider
            provider.source.check()
        finally:
            if context.verbose:
                _report_indexes(provider)


class Walk(NamedTuple):
    """A walk ahead (see :func:`walk_ahead`): the request it was made for,
    and the source walking."""

    request: ResolveRequest
    source: PackageSource


def walk_ahead(
    args: argparse.Namespace,
    gathered: Gathered,
    pending: PendingContext,
    lookups: Lookups,
    *,
    existing_output: Path | None,
) -> Walk | None:
    """While *pending* waits for the target interpreter, start fetching what
    resolving for its guess (see :attr:`~freewheel.cli.context.PendingContext.guess`)
    will likely read: the pages and metadata down the dependency tree of the
    newest versions, as the resolver's own prefetching does once it starts.

    What the walk fetches is kept by *lookups* for the resolution to come,
    and nothing is built. The resolution stops it when the guess was wrong;
    else the resolution's own prefetching finds its work done or under way
    (see :func:`run_resolution`). ``None`` when there is nothing to wait
    for, or no request can be made for the guess (its error is said again,
    in its turn, for the target).
    """
    from freewheel.resolver.provider import ROOT, ROOT_VERSION

    if pending.guess is None:
        return None
    try:
        guess = pending.guess()
        request = ResolveRequest.from_args(args, gathered, guess, existing_output=existing_output)
        provider = _provider(request, guess, lookups)
        provider.get_dependencies(ROOT, ROOT_VERSION)
    except FreewheelError:
        return None
    return Walk(request, provider.source)


def _provider(request: ResolveRequest, context: CommandContext, lookups: Lookups) -> Provider:
    from freewheel.resolver.source import PackageSource

    source = PackageSource(
        lookups.runner,
        lookups.client,
        lookups.metadata,
        request.policy,
        strategy=context.indexes.strategy.value,
        sources_table=context.indexes.sources_table,
        prefetch=not context.settings.network.offline.value,
        references={n: (m.dist, m.metadata) for n, m in request.references.items()},
        pinned={url: (m.dist, m.metadata) for url, m in request.pinned.items()},
    )
    return Provider(
        source,
        request.policy,
        request.requirements,
        resolution=request.resolution,
        no_deps=request.no_deps,
    )


def run_resolution(
    request: ResolveRequest, context: CommandContext, lookups: Lookups, walked: Walk | None = None
) -> list[PinnedPackage]:
    """Resolve *request* against the context's indexes, through *lookups*.
    The walk ahead *walked* goes on if it was for *request*'s candidates,
    and is stopped otherwise."""
    from freewheel.resolver.resolution import resolve, warnings_for

    if walked is not None and walked.request.policy != request.policy:
        walked.source.stop_prefetching()
    request = with_references(request, context, lookups.cache)
    with resolver_session(request, context, lookups=lookups) as provider:
        pins = [
            msgspec.structs.replace(pin, editable=pin.name in request.editable)
            for pin in resolve(provider, request.via_sources)
        ]
        if not context.quiet:
            for warning in warnings_for(provider, pins):
                print(f"warning: {warning}", file=sys.stderr)
        return _with_hashes(provider.source, pins) if request.hashes else pins


def universal_target(requires_python: SpecifierSet) -> UniversalTarget:
    """The target of a universal resolution: every environment *requires_python* admits."""
    from freewheel.resolver.universal import UniversalTarget

    return UniversalTarget(MarkerTree.from_requires_python(requires_python))


def fork_providers(
    request: ResolveRequest,
    source: PackageSource,
    prefer: Callable[[MarkerTree], Mapping[NormalizedName, Version]] | None = None,
    on_examined: Callable[[], None] | None = None,
) -> MakeProvider:
    """How a universal resolution of *request* makes the provider of each
    fork: *request*'s policy and requirements, for the fork's target, its
    direct requirements and its index pins, over one shared *source*.
    *prefer* gives the versions to prefer in a fork (by default, the
    request's); *on_examined* is told of each version whose dependencies
    a fork reads."""

    def make_provider(
        target: UniversalTarget, direct: tuple[Requirement, ...], pins: Mapping[NormalizedName, str]
    ) -> Provider:
        preferences = request.requirements.preferences if prefer is None else prefer(target.fork)
        return Provider(
            source,
            msgspec.structs.replace(request.policy, target=target),
            msgspec.structs.replace(request.requirements, direct=direct, preferences=preferences),
            resolution=request.resolution,
            no_deps=request.no_deps,
            pins=pins,
            on_examined=on_examined,
            # uv's order for pins equal to uv's costs a universal resolution
            # more than it gives: on uv's airflow set, deciding exact pins
            # first made the universal lock 1.7 times slower (43 s against
            # 26 s offline), and forks already differ from uv's.
            exact_first=False,
        )

    return make_provider


def run_universal(
    request: ResolveRequest, context: CommandContext, requires_python: SpecifierSet, lookups: Lookups
) -> list[PinnedPackage]:
    """Resolve *request* (made for :func:`universal_target`) for every
    environment *requires_python* admits at once.

    The pins carry the markers under which each applies; a name may be
    pinned at several versions, under disjoint markers.
    """
    from freewheel.resolver.universal import RootRequirement, lock_graph, resolve_forks

    roots = [RootRequirement(requirement) for requirement in request.requirements.direct]
    space = MarkerTree.from_requires_python(requires_python)

    with resolver_session(request, context, lookups=lookups) as base:
        forks = resolve_forks(roots, space, fork_providers(request, base.source))
        graph = lock_graph(forks, roots, requires_python=requires_python)
        parents: dict[tuple[NormalizedName, Version], set[str]] = collections.defaultdict(set)
        for package in graph.packages:
            for dependency in package.dependencies:
                parents[(dependency.name, dependency.version)].add(package.name)
        pins = [
            PinnedPackage(
                name=package.name,
                version=package.version,
                extras=frozenset(),
                files=package.files,
                index=package.index,
                via=tuple(sorted({*request.via_sources.get(package.name, ()), *parents[(package.name, package.version)]})),
                marker=package.marker,
            )
            for package in graph.packages
        ]
        return _with_hashes(base.source, pins) if request.hashes else pins


def _with_hashes(source: PackageSource, pins: list[PinnedPackage]) -> list[PinnedPackage]:
    """*pins* with a sha256 for every file (see :func:`hashed_files`)."""
    hashed = hashed_files(source, [dist for pin in pins for dist in pin.files])
    return [msgspec.structs.replace(pin, files=tuple(hashed[d.url] for d in pin.files)) for pin in pins]


def hashed_files(source: PackageSource, files: Sequence[DistFile]) -> dict[str, DistFile]:
    """Each of *files* by URL, with a sha256, downloading those that have none.

    Flat directories and some mirrors publish no hashes; a hash-checking
    install and a lock need one per file, so they are computed from the
    files, all downloaded at once.
    """
    # A direct reference is hashed only by its own ``#sha256=``, as uv does.
    unhashed = list(
        {dist.url: dist for dist in files if "sha256" not in dist.hashes and dist.index.format != "direct"}.values()
    )
    paths = source.fetch_files([(dist, ()) for dist in unhashed])
    hashed = {dist.url: dist for dist in files}
    for dist, path in zip(unhashed, paths, strict=True):
        hashed[dist.url] = msgspec.structs.replace(dist, hashes={**dist.hashes, "sha256": sha256_file(path)})
    return hashed


def _report_indexes(provider: Provider) -> None:
    """``-v``: every index asked for every package, and its answer."""
    for name in sorted(provider.listings):
        listing = provider.listings[name]
        for outcome in listing.outcomes:
            print(f"{name}: {outcome.index.label}: {outcome.detail}", file=sys.stderr)
        for index in listing.skipped:
            print(f"{name}: {index.label}: not asked", file=sys.stderr)
