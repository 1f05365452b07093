"""The PubGrub dependency provider: requirements and index data as terms.

Packages are :class:`Package` values: a project name, optionally with one
extra. ``foo[bar]`` is its own package whose versions each depend on
``foo`` at exactly that version plus the requirements ``bar`` adds, which
is how PubGrub keeps extras consistent with their base.

Costs (the contract with :mod:`freewheel.resolver.pubgrub`): ``prioritize``
and ``same_version_as`` are dictionary look-ups; ``choose_version`` may block on a project page the
first time a project is seen, later calls are in memory;
``get_dependencies`` may block on one metadata fetch per version tried;
``version_set`` is a bisection in the project's versions, sorted once.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import msgspec
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from freewheel.errors import MetadataError
from freewheel.index.client import ProjectListing
from freewheel.resolver.candidates import (
    Candidate,
    CandidatePolicy,
    ProjectCandidates,
    python_support,
)
from freewheel.resolver.markers import MarkerTree
from freewheel.resolver.pubgrub import Ranges, Unavailable, VersionKey, from_specifiers, version_key
from freewheel.resolver.source import PackageSource


class Package(NamedTuple):
    """A project, or one extra of a project, as the solver sees it.

    A tuple: the solver hashes and compares packages millions of times in a
    long resolution, which a tuple does in C and a frozen dataclass in
    Python code.
    """

    name: NormalizedName
    extra: NormalizedName | None = None

    def __str__(self) -> str:
        return f"{self.name}[{self.extra}]" if self.extra else self.name


class Root:
    """The user's requirements, as a package of their own."""

    def __str__(self) -> str:
        return "your requirements"

    def __repr__(self) -> str:
        return "Root()"


ROOT = Root()

def _lookahead(tried: int) -> int:
    """How many upcoming versions to have prefetched once *tried* versions of a package were chosen.

    A second choice means the first was rejected: most conflicts step down
    a release or three. A package that keeps being rejected is being walked
    back, possibly through hundreds of releases, each needing its metadata:
    the window grows so that the walk waits on the network once per batch,
    not once per release.
    """
    if tried < 2:
        return 0
    return min(4 << (tried // 3), 256)


ROOT_VERSION = Version("0")


class ForkNeeded(Exception):
    """Raised through the solver when a universal resolution must split:
    *forks* are the regions (marker trees) to solve separately."""

    def __init__(self, forks: list[object]) -> None:
        super().__init__("fork")
        self.forks = forks


class Requirements(msgspec.Struct, frozen=True):
    """What the user asked for, after markers were evaluated for the target.

    ``direct`` keeps the user's order, which is also the order in which the
    solver decides them (after any project required at one version, see
    :meth:`Provider.prioritize`). ``constraints`` narrow a package only if something
    requires it; ``overrides`` replace every requirement on a package.
    """

    direct: tuple[Requirement, ...]
    constraints: Mapping[NormalizedName, Ranges]
    overrides: Mapping[NormalizedName, Requirement]
    preferences: Mapping[NormalizedName, Version]


def requirement_range(requirement: Requirement) -> Ranges:
    """The versions *requirement* admits, as the solver's range."""
    return from_specifiers(requirement.specifier)


class Provider:
    """Answers the solver's questions from a :class:`PackageSource`."""

    def __init__(
        self,
        source: PackageSource,
        policy: CandidatePolicy,
        requirements: Requirements,
        *,
        resolution: str = "highest",
        no_deps: bool = False,
        pins: Mapping[NormalizedName, str] | None = None,
        on_examined: Callable[[], None] | None = None,
        exact_first: bool = True,
    ) -> None:
        self.source = source
        #: Whether projects required at one version are decided first (see
        #: :meth:`prioritize`).
        self.exact_first = exact_first
        #: Told each time a version's dependencies are first read (progress).
        self.on_examined = on_examined
        #: Index pins of this resolution over the configured ones (by name).
        self.pins = pins or {}
        self.policy = policy
        self.requirements = requirements
        self.resolution = resolution
        self.no_deps = no_deps
        self._direct_names = {canonicalize_name(r.name): i for i, r in enumerate(requirements.direct)}
        self._discovery: dict[NormalizedName, int] = {}
        self._virtual: dict[Package, int] = {}
        #: Projects decided before the others (see :meth:`prioritize`).
        self._exact: set[NormalizedName] = set()
        #: Projects some requirement with an environment marker names, and
        #: projects whose dependencies were read (some version was tried).
        self._marked: set[NormalizedName] = set()
        self._read: set[NormalizedName] = set()
        self._candidates: dict[NormalizedName, ProjectCandidates] = {}
        self._tried: dict[NormalizedName, set[Version]] = {}
        self._prefetched: dict[NormalizedName, set[Version]] = {}
        #: What the requirements themselves allow of each project they name:
        #: a prefetch outside it reads what the resolver can never choose.
        self._bounds: dict[NormalizedName, Ranges] = {}
        self._lookahead_left: dict[NormalizedName, int] = {}
        #: Per project, its base package and each extra of it seen so far.
        self._family: dict[NormalizedName, dict[Package, None]] = {}
        self.listings: dict[NormalizedName, ProjectListing] = {}
        self.dependencies: dict[tuple[Package, Version], dict[Package, Ranges]] = {}
        #: Versions whose metadata's Requires-Python admits the target only
        #: with its upper bound ignored, with that Requires-Python.
        self.python_caps: dict[tuple[NormalizedName, Version], str] = {}
        #: Versions passed over for a required environment they cannot be
        #: installed in (``required-environments``), with that environment.
        self.unserved: dict[NormalizedName, dict[Version, str]] = {}

    # -- the solver's contract -------------------------------------------

    def prioritize(self, package: Package | Root) -> tuple[int, int, int, int]:
        if isinstance(package, Root):
            return (0, 0, 0, 0)
        name = package.name
        # As uv (its `Singleton` priority): a project goes before the others
        # once a dependency read so far requires it at one version (``==``, or
        # an extra's tie to its base), or once it is tried after a requirement
        # with a marker named it (uv decides that requirement as a package of
        # its own, tied to the base at one version).
        tier = 1 if self.exact_first and name in self._exact else 2
        order = self._virtual.get(package, len(self._virtual))
        direct = self._direct_names.get(name)
        if direct is not None:
            return (tier, 0, direct, order)
        return (tier, 1, self._discovery.get(name, len(self._discovery)), order)

    def choose_version(self, package: Package | Root, range_: Ranges) -> Version | None:
        if isinstance(package, Root):
            return ROOT_VERSION
        candidates = self.candidates(package.name)
        preferred = self.requirements.preferences.get(package.name)
        if preferred is not None and range_.contains(preferred):
            # An existing output file's pin wins while it still fits.
            candidate = candidates.best(Ranges.singleton(preferred))
            if candidate is not None:
                return candidate.version
        candidate = candidates.best(range_)
        if candidate is not None:
            self._split_for_newer(candidates, range_, candidate.version)
            # Counted in distinct versions: a package decided again at the
            # same version after a backjump is not walking anywhere.
            self._tried.setdefault(package.name, set()).add(candidate.version)
        # Offline nothing is fetched ahead, and looking for what to fetch
        # (a universal resolution decides 100,000 times) would be wasted.
        window = _lookahead(len(self._tried.get(package.name, ()))) if self.source.fetches_ahead else 0
        if window and candidate is not None:
            # The solver rejected this package's earlier choices and walks
            # down its versions, each a round trip for metadata: fetch the
            # next ones (and what each requires) in parallel instead. Past
            # the current range too: a package walked as the dependency of
            # another walked package (botocore under boto3) gets a new,
            # lower range at every step.
            onward = (
                Ranges.at_least(candidate.version) - Ranges.singleton(candidate.version)
                if self._lowest(package.name)
                else Ranges.below(candidate.version)
            )
            # Each choice uses up one prefetched version; refill once half
            # the window is gone, so a long walk scans each version once.
            budget = self._lookahead_left.get(package.name, 0) - 1
            if budget * 2 < window:
                requested = self._prefetched.setdefault(package.name, set())
                scanned = list(itertools.islice(candidates.preferred(onward), window))
                # Reading an sdist's metadata means downloading it whole:
                # not worth doing on speculation.
                ahead = [c for c in scanned if c.version not in requested and c.metadata_file.kind == "wheel"]
                requested.update(c.version for c in ahead)
                if ahead:
                    self.source.prefetch_versions(ahead, self._bounds)
                budget = len(scanned)
            self._lookahead_left[package.name] = budget
        return None if candidate is None else candidate.version

    def _split_for_newer(self, candidates: ProjectCandidates, range_: Ranges, chosen: Version) -> None:
        """Fork when a newer version in *range_* was passed over only
        because the oldest Python of this resolution is too old for it (a
        universal resolution only)."""
        if not self.policy.target.universal:
            # Every choice goes through here: one environment has nothing to split.
            return
        newest = candidates.newest(range_)
        if newest is None or newest == chosen:
            return
        for requires_python in dict.fromkeys(f.requires_python for f in candidates.files(newest)):
            forks = None if requires_python is None else self.policy.target.python_split(requires_python)
            if forks:
                raise ForkNeeded(forks)

    def get_dependencies(
        self, package: Package | Root, version: Version
    ) -> dict[Package, Ranges] | Unavailable:
        if isinstance(package, Root):
            deps = self._collect(self.requirements.direct, parent=None)
            self._note_markers(self.requirements.direct, None)
            direct = {p.name: r for p, r in deps.items() if p.extra is None}
            self._bounds = {**self.requirements.constraints, **direct}
            self._prefetch(deps)
            return deps
        key = (package, version)
        if key in self.dependencies:
            return self.dependencies[key]
        self._read.add(package.name)
        if package.name in self._marked:
            self._exact.add(package.name)
        try:
            deps = self._dependencies_of(package, version)
        except MetadataError as error:
            return Unavailable(error.reason)
        self.dependencies[key] = deps
        if self.on_examined is not None:
            self.on_examined()
        self._prefetch(deps)
        return deps

    def same_version_as(self, package: Package | Root) -> list[Package]:
        """The project's base package and its other extras seen so far."""
        if isinstance(package, Root):
            return []
        return [p for p in self._family.get(package.name, ()) if p != package]

    def version_set(self, package: Package | Root, version: Version) -> Ranges:
        """From ``version`` up to the next listed version of the project.

        No other listed version is in between, so whatever the solver
        learns about ``version`` holds for the whole span, and spans of
        neighbouring versions join into one segment. The newest version
        stands for itself alone: above it, nothing is known.
        """
        if isinstance(package, Root):
            return Ranges.singleton(version)
        keys, ordered = self._sorted_versions(package.name)
        position = bisect.bisect_right(keys, version_key(version))
        if position == len(ordered):
            return Ranges.singleton(version)
        return Ranges.between(version, ordered[position])

    def available_versions(self, name: NormalizedName) -> list[Version]:
        """Every listed version of *name*, ascending (for messages)."""
        return self._sorted_versions(name)[1]

    # -- helpers -----------------------------------------------------------

    def _sorted_versions(self, name: NormalizedName) -> tuple[list[VersionKey], list[Version]]:
        self.listing(name)  # raises for a project no index could list
        return self.source.ascending(name, self.pins.get(name))

    def listing(self, name: NormalizedName) -> ProjectListing:
        listing = self.listings.get(name)
        if listing is None:
            listing = self.source.listing(name, self.pins.get(name))
            listing.raise_for_error()
            self.listings[name] = listing
        return listing

    def candidates(self, name: NormalizedName) -> ProjectCandidates:
        cached = self._candidates.get(name)
        if cached is None:
            cached = self.source.candidates(self.listing(name), lowest=self._lowest(name), policy=self.policy)
            self._candidates[name] = cached
        return cached

    def candidate(self, name: NormalizedName, version: Version) -> Candidate:
        return self.candidates(name).get(version)

    def _lowest(self, name: NormalizedName) -> bool:
        if self.resolution == "lowest":
            return True
        return self.resolution == "lowest-direct" and name in self._direct_names

    def _dependencies_of(self, package: Package, version: Version) -> dict[Package, Ranges]:
        candidate = self.candidate(package.name, version)
        target = self.policy.target
        if package.extra is None:
            unserved = target.unserved_environment(candidate.files)
            if unserved is not None:
                self.unserved.setdefault(package.name, {})[version] = unserved
                raise MetadataError(
                    f"{package.name} {version} has no source distribution and no wheel "
                    f"for the required environment `{unserved}`"
                )
        metadata = self.source.metadata(candidate.metadata_file)
        support = python_support(metadata.requires_python, target.python_version)
        if support == "no" or (
            metadata.requires_python is not None and target.excludes_python(metadata.requires_python)
        ):
            # Known only from the metadata (the index page did not say):
            # newer Pythons of a universal resolution may still take it.
            forks = target.python_split(metadata.requires_python)
            if forks:
                raise ForkNeeded(forks)
            raise MetadataError(
                f"{package.name} {version} requires Python {metadata.requires_python} "
                f"(resolving for {target.python_version})"
            )
        if support == "capped" and not target.universal:
            self.python_caps[(package.name, version)] = str(metadata.requires_python)
        deps: dict[Package, Ranges] = {}
        if package.extra is not None:
            deps[Package(package.name)] = Ranges.singleton(version)
            if package.extra not in metadata.provides_extra:
                return deps
        if self.no_deps:
            return deps
        extra = package.extra or ""
        wanted = [
            req
            for req in metadata.requires_dist
            if req.marker is None or target.evaluate(req.marker, [extra] if extra else [])
        ]
        if package.extra is not None:
            # The extra adds only what its marker selects; the base package
            # brings the rest.
            wanted = [r for r in wanted if r.marker is not None and not target.evaluate(r.marker, [])]
        forks = target.split(wanted, package.extra)
        if forks:
            # One version of some dependency cannot serve everywhere this
            # resolution is for (a universal resolution only).
            raise ForkNeeded(forks)
        self._note_markers(wanted, package.extra)
        for dep, dep_range in self._collect(wanted, parent=package.name).items():
            if dep.name == package.name:
                # ``dask[complete]`` requiring ``dask[array]``: the same
                # release, with one more extra.
                dep_range = dep_range & Ranges.singleton(version)
            deps[dep] = deps[dep] & dep_range if dep in deps else dep_range
        return deps

    def _note_markers(self, requirements: Sequence[Requirement], extra: NormalizedName | None) -> None:
        """Remember the projects *requirements* name under a marker other than
        the *extra* that selects them (the requirements of that extra).

        Only the order that decides exact pins first uses them: a universal
        resolution, reading every version's dependencies, skips the marker
        algebra.
        """
        if not self.exact_first:
            return
        selected = None if extra is None else MarkerTree.from_marker(f"extra == '{extra}'")
        for req in requirements:
            if req.marker is None:
                continue
            if selected is not None and MarkerTree.from_marker(req.marker).simplify_under(selected).is_true:
                continue
            name = canonicalize_name(req.name)
            self._marked.add(name)
            if name in self._read:
                self._exact.add(name)

    def _collect(
        self, requirements: Sequence[Requirement], parent: NormalizedName | None
    ) -> dict[Package, Ranges]:
        deps: dict[Package, Ranges] = {}
        for req in requirements:
            name = canonicalize_name(req.name)
            if name == parent and not req.extras:
                continue
            override = self.requirements.overrides.get(name)
            if override is not None:
                req = override
            if req.url and name not in self.source.references:
                # As uv: a dependency's URL is taken only when the user gives it too.
                raise MetadataError(
                    f"{parent or 'The requirements'} depend on {req.name} from a direct URL "
                    f"({req.url}); require `{req.name} @ {req.url}` yourself to use it."
                )
            range_ = requirement_range(req)
            constraint = self.requirements.constraints.get(name)
            if constraint is not None:
                range_ = range_ & constraint
            packages = [Package(name, canonicalize_name(e)) for e in sorted(req.extras)]
            family = self._family.setdefault(name, {Package(name): None})
            family.update(dict.fromkeys(packages))
            if name != parent:
                packages.insert(0, Package(name))
            for dep in packages:
                deps[dep] = deps[dep] & range_ if dep in deps else range_
        return deps

    def _prefetch(self, deps: Mapping[Package, Ranges]) -> None:
        """Start fetching what *deps* will need, and fix their decision order:
        transitive packages are decided in the order they are first listed,
        those required at one version first."""
        for dep, range_ in deps.items():
            self._discovery.setdefault(dep.name, len(self._discovery))
            self._virtual.setdefault(dep, len(self._virtual))
            if range_.is_one_release:
                self._exact.add(dep.name)
            self.source.prefetch(dep.name, range_, self._bounds, lowest=self._lowest(dep.name))
