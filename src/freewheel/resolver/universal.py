"""Universal resolution: one answer for every supported environment at once.

A universal resolution keeps requirement markers instead of evaluating them
for one interpreter. It runs the PubGrub core once per *fork*: a region of
the environment space (a :class:`~freewheel.resolver.markers.MarkerTree`
over ``sys_platform``, ``python_full_version``… and over PEP 751's
``extras`` and ``dependency_groups``) inside which one version per package
is enough. It starts from the whole supported space (the project's
``requires-python``, its ``environments``) and splits a fork when its
requirements cannot share one version:

* a package (or the project) requires the same dependency twice with
  different markers and different versions (``numpy>=2; python_version >=
  '3.10'`` beside ``numpy<2; python_version < '3.10'``);
* declared conflicts (extras or groups that are never installed together).

Each fork is solved on its own, from scratch (forks are few; the network
and metadata caches are shared, so a fork costs CPU, not fetches), and the
forks' answers are merged: a package at the same version in several forks
gets the union of where it is needed, so forks that agree merge away.

The result is a :class:`~freewheel.resolver.result.LockGraph`: every
package with the marker under which it is installed, reached from the
project's requirements through the dependency edges of each fork.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, ClassVar

import msgspec
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from freewheel.errors import ResolutionImpossible, UsageError
from freewheel.index.models import DistFile
from freewheel.python.platforms import tag_machines
from freewheel.resolver import pubgrub
from freewheel.resolver.markers import FALSE, TRUE, MarkerError, MarkerTree
from freewheel.resolver.provider import (
    ROOT,
    ROOT_VERSION,
    ForkNeeded,
    Package,
    Provider,
    requirement_range,
)
from freewheel.resolver.result import LockedDependency, LockedPackage, LockedSource, LockGraph

if TYPE_CHECKING:
    pass

#: More forks than this is almost certainly a marker explosion, not a project.
MAX_FORKS = 256


class RootRequirement(msgspec.Struct, frozen=True):
    """A requirement of the project, needed where *condition* holds.

    *condition* speaks of the selection (``'cpu' in extras``, ``'dev' in
    dependency_groups``) and may narrow the environment; the requirement's
    own marker is applied on top.
    """

    requirement: Requirement
    condition: MarkerTree = TRUE


@functools.lru_cache(maxsize=1 << 14)
def requirement_tree(marker: str | None, extra: str | None) -> MarkerTree:
    """Where a requirement with *marker* applies to the package with *extra*
    (``None`` for the package itself): the marker with ``extra == ...``
    settled, so that the tree speaks of the environment only."""
    if marker is None:
        return TRUE
    tree = MarkerTree.from_marker(marker)
    mentioned = {canonicalize_name(m[1] or m[2]) for m in _EXTRA_TEST.finditer(marker)}
    if not mentioned:
        return tree
    context = TRUE
    for name in mentioned:
        test = MarkerTree.from_marker(f"extra == '{name}'")
        context = context & (test if name == extra else ~test)
    return tree.simplify_under(context)


_EXTRA_TEST = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]|['"]([^'"]+)['"]\s*==\s*extra""")


@functools.lru_cache(maxsize=4096)
def python_floor(fork: MarkerTree) -> Version:
    """The lowest Python release *fork* admits (``3.9.0``, ``3.11.5``)."""
    for minor in range(0, 40):
        cell = MarkerTree.from_marker(f"python_version == '3.{minor}'")
        if not (cell & fork).is_false:
            for patch in range(0, 100):
                if not (MarkerTree.from_marker(f"python_full_version == '3.{minor}.{patch}'") & fork).is_false:
                    return Version(f"3.{minor}.{patch}")
            return Version(f"3.{minor}")
    return Version("3.0")


class UniversalTarget(msgspec.Struct, frozen=True, eq=False):
    """Every environment of *fork*, as what a resolution is for.

    Plays :class:`~freewheel.python.target.TargetEnvironment`'s part for the
    candidate policy and the provider: a requirement applies if its marker
    can hold somewhere in the fork; every wheel can be installed somewhere;
    a version must support the fork's lowest Python (as uv judges
    ``Requires-Python`` against the lower bound of the supported range).
    """

    fork: MarkerTree
    #: ``required-environments``: where every package needs a wheel or an sdist.
    required: tuple[MarkerTree, ...] = ()
    #: A fork reaches up to Pythons nobody tested: honouring upper bounds
    #: of Requires-Python there would send it back to releases from before
    #: the bounds were written, so they are ignored, as uv does.
    universal: ClassVar[bool] = True

    @property
    def python_version(self) -> Version:
        return python_floor(self.fork)

    def evaluate(self, marker: Marker, extras: Iterable[str] = ()) -> bool:
        extra = next(iter(extras), None) or None
        return not (requirement_tree(str(marker), extra) & self.fork).is_false

    def tag_priority(self, tags: Iterable[Tag]) -> int | None:
        return 0

    def describe(self) -> str:
        return "every supported environment" if self.fork.is_true else f"environments where {self.fork}"

    def split(self, requirements: Sequence[Requirement], extra: str | None) -> list[MarkerTree] | None:
        """The sub-forks needed for *requirements* (of one package, or of the
        project, with *extra* settled), or ``None`` when one version of each
        dependency can serve the whole fork.

        A dependency required more than once with different markers and
        different versions splits the fork into the regions where each
        combination of those markers holds.
        """
        by_name: dict[NormalizedName, list[Requirement]] = {}
        for requirement in requirements:
            by_name.setdefault(canonicalize_name(requirement.name), []).append(requirement)
        for group in by_name.values():
            if len(group) < 2 or len({requirement_range(r) for r in group}) < 2:
                continue
            trees = [requirement_tree(None if r.marker is None else str(r.marker), extra) for r in group]
            if len(set(trees)) < 2:
                continue
            cells = self._cells(trees)
            if len(cells) > 1:
                return cells
        return None

    def python_split(self, requires_python: SpecifierSet) -> list[MarkerTree] | None:
        """The fork cut where *requires_python*'s lower bounds start, when
        they fall inside it: the newer Pythons then get the versions that
        need them, as uv does, instead of every Python the oldest's. An
        exclusion (``!=3.15``) cuts out the releases it names, so that the
        rest of the fork may still take the version."""
        bounds = [s for s in requires_python if s.operator in (">=", ">", "!=")]
        if not bounds:
            return None
        try:
            tree = TRUE
            for bound in bounds:
                tree = tree & _python_term(bound.operator, bound.version)
        except MarkerError:
            return None
        cells = [self.fork & ~tree, self.fork & tree]
        return cells if not any(cell.is_false for cell in cells) else None

    def excludes_python(self, requires_python: SpecifierSet) -> bool:
        """Whether a ``!=`` of *requires_python* shuts out a Python release
        of the fork (apache-airflow 3.3.2's ``>=3.10,!=3.15``, for a fork
        from 3.11 up): :meth:`python_split` then cuts those releases out,
        and the rest of the fork may take the version."""
        return _excludes(self.fork, str(requires_python))

    def unserved_environment(self, files: Sequence[DistFile]) -> str | None:
        """The first required environment (``required-environments``)
        inside the fork that one version, offering *files*, cannot be
        installed in, or ``None`` when it serves every one: an sdist
        serves all, a wheel those its platform tags admit.

        :raises ForkNeeded: when the version's wheels install in part of
            the fork only: that part may take it, the rest needs another
            version (as uv forks).
        """
        if not self.required or any(f.kind != "wheel" for f in files):
            return None
        installs = FALSE
        for dist in files:
            installs = installs | wheel_tree(dist.tags)
        for required in self.required:
            if (required & self.fork).is_false or not (required & installs).is_false:
                continue
            forks = [part for part in (self.fork & installs, self.fork & ~installs) if not part.is_false]
            if len(forks) > 1:
                raise ForkNeeded(forks)
            return str(required)
        return None

    def _cells(self, trees: Sequence[MarkerTree]) -> list[MarkerTree]:
        cells = [self.fork]
        for tree in dict.fromkeys(trees):
            cells = [part for cell in cells for part in (cell & tree, cell & ~tree) if not part.is_false]
        return cells


@functools.lru_cache(maxsize=4096)
def wheel_tree(tags: frozenset[Tag]) -> MarkerTree:
    """Where a wheel with *tags* installs, as its platform tags tell
    (``sys_platform``, ``platform_machine``); a tag of an unknown system
    tells nothing, so it may install anywhere."""
    tree = FALSE
    for platform in {tag.platform for tag in tags}:
        implied = tag_machines(platform)
        if implied is None:
            return TRUE
        system, machines = implied
        where = MarkerTree.from_marker(f"sys_platform == '{system}'")
        if machines:
            where = where & _any_tree(f"platform_machine == '{machine}'" for machine in machines)
        tree = tree | where
    return tree


def _any_tree(markers: Iterable[str]) -> MarkerTree:
    tree = FALSE
    for marker in markers:
        tree = tree | MarkerTree.from_marker(marker)
    return tree


@functools.lru_cache(maxsize=4096)
def _excludes(fork: MarkerTree, requires_python: str) -> bool:
    excluded = FALSE
    for specifier in SpecifierSet(requires_python):
        if specifier.operator == "!=":
            excluded = excluded | _python_term("==", specifier.version)
    return not (excluded & fork).is_false


def _python_term(operator: str, version: str) -> MarkerTree:
    """``python_full_version OP VERSION``, said with ``python_version`` when
    that means the same (``>= '3.10'``): the cut then reads as uv writes it."""
    if operator == ">=" and re.fullmatch(r"\d+\.\d+", version):
        return MarkerTree.from_marker(f"python_version >= '{version}'")
    return MarkerTree.from_marker(f"python_full_version {operator} '{version}'")


class Fork(msgspec.Struct, frozen=True):
    """One solved fork: where it holds, the provider that answered, the versions chosen."""

    marker: MarkerTree
    provider: Provider
    solution: Mapping[object, Version]


class IndexPin(msgspec.Struct, frozen=True):
    """Package *name* comes from index *index* (by name) where *condition* holds.

    A pin under a condition (``sys_platform == 'linux'``, ``'cpu' in
    extras``) splits the resolution there; it holds for *name* wherever it
    appears in the graph, not only where the project requires it. *index*
    may also be a direct reference's URL (a ``url``, ``path`` or ``git``
    source under a condition) that the package source of the resolution
    knows (:attr:`~freewheel.resolver.source.PackageSource.pinned`).
    """

    name: NormalizedName
    index: str
    condition: MarkerTree = TRUE


MakeProvider = Callable[[UniversalTarget, tuple[Requirement, ...], Mapping[NormalizedName, str]], Provider]


def resolve_forks(
    roots: Sequence[RootRequirement],
    space: MarkerTree,
    make_provider: MakeProvider,
    *,
    conflicts: Sequence[Sequence[MarkerTree]] = (),
    pins: Sequence[IndexPin] = (),
    start: Sequence[MarkerTree] = (),
    required: Sequence[MarkerTree] = (),
) -> list[Fork]:
    """Solve every fork of *space* that *roots* and the dependencies need.

    *conflicts* are sets of selection markers (``'cpu' in extras``…) that
    are never true together; each set first splits the space so that at
    most one of its members holds in a fork. Conditional *pins* split it
    along their conditions. *make_provider* builds the provider of one fork
    from its target, its direct requirements and its index pins.

    :raises ResolutionImpossible: when a fork has no solution (the message
        says which fork), or the forks multiply past :data:`MAX_FORKS`.
    :raises UsageError: when two pins of one package hold together.

    *start* are forks to begin with (a previous lock's, so that a re-lock
    splits where it did); what of *space* they leave out is one more fork.
    *required* are the environments every chosen version must install in
    (``required-environments``).
    """
    pending = _starting_forks(space, start)
    pending = [part for fork in pending for part in _conflict_forks(fork, conflicts)]
    for condition in dict.fromkeys(pin.condition for pin in pins if not pin.condition.is_true):
        pending = [part for fork in pending for part in (fork & condition, fork & ~condition) if not part.is_false]
    solved: list[Fork] = []
    while pending:
        if len(pending) + len(solved) > MAX_FORKS:
            raise ResolutionImpossible(
                f"The requirements split into more than {MAX_FORKS} environments "
                "(markers that multiply); narrow them with [tool.freewheel] environments."
            )
        fork = pending.pop(0)
        target = UniversalTarget(fork, tuple(required))
        direct = [root for root in roots if not (_where(root) & fork).is_false]
        requirements = tuple(root.requirement for root in direct)
        split = target.split(requirements, None) or _split_conditions(direct, fork)
        if split:
            pending[:0] = split
            continue
        provider = make_provider(target, requirements, _pins_within(fork, pins, space))
        try:
            solution = pubgrub.resolve(provider, ROOT, ROOT_VERSION)
        except ForkNeeded as need:
            pending[:0] = need.forks
            continue
        except pubgrub.NoSolution as failure:
            from freewheel.resolver.resolution import impossible

            within = fork.simplify_under(space)
            where = "" if within.is_true else f" (for environments where {within})"
            error = impossible(provider, failure)
            raise ResolutionImpossible(error.message.replace(":\n", f"{where}:\n", 1)) from None
        solved.append(Fork(fork, provider, solution))
    return solved


def _starting_forks(space: MarkerTree, start: Sequence[MarkerTree]) -> list[MarkerTree]:
    forks = [part for fork in start if not (part := space & fork).is_false]
    rest = space
    for fork in forks:
        rest = rest & ~fork
    return [*forks, rest] if not rest.is_false else forks


def _pins_within(fork: MarkerTree, pins: Sequence[IndexPin], space: MarkerTree) -> dict[NormalizedName, str]:
    """The index of each pinned package in *fork*, which lies inside or
    outside of every pin's condition."""
    chosen: dict[NormalizedName, str] = {}
    for pin in pins:
        if not (fork & ~pin.condition).is_false:
            continue
        if chosen.setdefault(pin.name, pin.index) != pin.index:
            within = fork.simplify_under(space)
            raise UsageError(
                f"Two sources of {pin.name} apply where {within} holds ({chosen[pin.name]} and {pin.index}); "
                "give them conditions (marker, extra or group) that exclude each other."
            )
    return chosen


def _conflict_forks(space: MarkerTree, conflicts: Sequence[Sequence[MarkerTree]]) -> list[MarkerTree]:
    forks = [space]
    for members in conflicts:
        none_of = TRUE
        for member in members:
            none_of = none_of & ~member
        cells = []
        for member in members:
            only = member
            for other in members:
                if other is not member:
                    only = only & ~other
            cells.append(only)
        cells.append(none_of)
        forks = [part for fork in forks for cell in cells if not (part := fork & cell).is_false]
    return forks


def _split_conditions(direct: Sequence[RootRequirement], fork: MarkerTree) -> list[MarkerTree] | None:
    """Forks for the project's own requirements on one name under different
    conditions (an extra asking for another version than the base)."""
    by_name: dict[NormalizedName, list[RootRequirement]] = {}
    for root in direct:
        by_name.setdefault(canonicalize_name(root.requirement.name), []).append(root)
    target = UniversalTarget(fork)
    for group in by_name.values():
        if len({requirement_range(r.requirement) for r in group}) < 2:
            continue
        trees = [_where(r) for r in group]
        if len(set(trees)) > 1:
            cells = target._cells(trees)
            if len(cells) > 1:
                return cells
    return None


def _where(root: RootRequirement) -> MarkerTree:
    """Where *root* applies: its condition and its own marker."""
    return root.condition & requirement_tree(_marker_text(root.requirement), None)


def _marker_text(requirement: Requirement) -> str | None:
    return None if requirement.marker is None else str(requirement.marker)


# -- from forks to the lock graph ------------------------------------------------


def lock_graph(
    forks: Sequence[Fork],
    roots: Sequence[RootRequirement],
    *,
    requires_python: SpecifierSet,
    environments: MarkerTree = TRUE,
    extras: Sequence[NormalizedName] = (),
    groups: Sequence[NormalizedName] = (),
    conflicts: Sequence[Sequence[MarkerTree]] = (),
    sources: Mapping[str, LockedSource] = {},
) -> LockGraph:
    """Merge the solved *forks* into the graph a universal lock records.

    Markers are simplified under the supported space (*requires_python*,
    *environments*, and no two members of a conflict selected together):
    what every supported environment and selection satisfies goes unsaid.
    A package taken from a direct reference is locked with the source
    *sources* gives for the reference's URL (its file's ``index.url``);
    one version taken from two references (under different conditions) is
    two packages.
    """
    space = MarkerTree.from_requires_python(requires_python) & environments
    for members in conflicts:
        for first, second in itertools.combinations(members, 2):
            space = space & ~(first & second)
    markers: dict[_Node, MarkerTree] = {}
    edges: dict[_Node, dict[_Node, MarkerTree]] = {}
    owners: dict[_Node, Fork] = {}
    for fork in forks:
        reach, fork_edges = _reach(fork, roots, sources)
        for node, where in reach.items():
            if node.extra is None:
                key = _node(fork, node.name, sources)
                markers[key] = markers.get(key, FALSE) | where
                owners.setdefault(key, fork)
        for source, targets in fork_edges.items():
            merged = edges.setdefault(source, {})
            for target, where in targets.items():
                merged[target] = merged.get(target, FALSE) | where
    packages = []
    for key in sorted(markers, key=_node_order):
        name, version, origin = key
        fork = owners[key]
        provider = fork.provider
        candidate = provider.candidate(name, version)
        chosen = candidate.files[0]
        files = tuple(
            f
            for v, listed in provider.listing(name).versions
            if v == version
            for f in listed
            if f.index == chosen.index
        )
        metadata = provider.source.metadata(chosen)
        # An edge only matters where its package is installed: said within that.
        installed = space & markers[key]
        dependencies = tuple(
            LockedDependency(dep_name, dep_version, where.simplify_under(installed), dep_origin)
            for (dep_name, dep_version, dep_origin), where in sorted(
                edges.get(key, {}).items(), key=lambda item: _node_order(item[0])
            )
            if (dep_name, dep_version, dep_origin) != key
        )
        packages.append(
            LockedPackage(
                name=name,
                version=version,
                marker=markers[key].simplify_under(space),
                index=None if origin is not None else chosen.index,
                files=() if origin is not None else files,
                dependencies=dependencies,
                requires_python=metadata.requires_python,
                source=origin,
            )
        )
    return LockGraph(
        requires_python=requires_python,
        environments=environments,
        extras=tuple(extras),
        groups=tuple(groups),
        packages=tuple(packages),
    )


#: A locked package: its name, version and, for one taken from a direct
#: reference, where the lock says it comes from.
_Node = tuple[NormalizedName, Version, LockedSource | None]


def _node(fork: Fork, name: NormalizedName, sources: Mapping[str, LockedSource]) -> _Node:
    """The locked package *fork* solved *name* to."""
    version = fork.solution[Package(name)]
    if not sources:
        return (name, version, None)
    chosen = fork.provider.candidate(name, version).files[0]
    origin = sources.get(chosen.index.url) if chosen.index.format == "direct" else None
    return (name, version, origin)


def _node_order(node: _Node) -> tuple[NormalizedName, Version, str]:
    return (node[0], node[1], "" if node[2] is None else node[2].url)


def _reach(
    fork: Fork, roots: Sequence[RootRequirement], sources: Mapping[str, LockedSource]
) -> tuple[dict[Package, MarkerTree], dict[_Node, dict[_Node, MarkerTree]]]:
    """Where, in *fork*, each solved package (and extra) is needed, and the
    edges between packages with where each applies."""
    solution = fork.solution
    provider = fork.provider
    reach: dict[Package, MarkerTree] = {}
    edges: dict[_Node, dict[_Node, MarkerTree]] = {}
    queue: list[Package] = []

    def arrive(package: Package, where: MarkerTree) -> None:
        if package not in solution or where.is_false:
            return
        before = reach.get(package, FALSE)
        after = before | where
        if after is not before:
            reach[package] = after
            queue.append(package)

    for root in roots:
        where = fork.marker & _where(root)
        for package in _packages_of(root.requirement):
            arrive(package, where)
    while queue:
        package = queue.pop()
        where = reach[package]
        version = solution[package]
        source = _node(fork, package.name, sources)
        if package.extra is not None:
            arrive(Package(package.name), where)
        for requirement, applies in _requirements_of(provider, package, version):
            edge = where & applies
            if edge.is_false:
                # Needed only where this package is not (omega needs zeta on
                # Windows, but is itself installed on Linux only).
                continue
            for target in _packages_of(requirement):
                arrive(target, edge)
                if target.extra is None and target in solution:
                    dependency = _node(fork, target.name, sources)
                    known = edges.setdefault(source, {})
                    known[dependency] = known.get(dependency, FALSE) | edge
    return reach, edges


def _packages_of(requirement: Requirement) -> list[Package]:
    name = canonicalize_name(requirement.name)
    return [Package(name), *(Package(name, canonicalize_name(e)) for e in sorted(requirement.extras))]


def _requirements_of(provider: Provider, package: Package, version: Version) -> list[tuple[Requirement, MarkerTree]]:
    """*package*'s requirements at *version*, each with where it applies
    (its marker, with the package's extra settled)."""
    candidate = provider.candidate(package.name, version)
    metadata = provider.source.metadata(candidate.metadata_file)
    found = []
    for requirement in metadata.requires_dist:
        marker = _marker_text(requirement)
        applies = requirement_tree(marker, package.extra)
        if package.extra is not None:
            # An extra adds only what needs it; the base brings the rest.
            applies = applies & ~requirement_tree(marker, None)
        if not applies.is_false:
            found.append((requirement, applies))
    return found
