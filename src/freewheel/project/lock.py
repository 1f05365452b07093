"""Locking a workspace: its projects' requirements, sources and conflicts
turned into one universal resolution.

Every member's dependencies are needed everywhere; an optional dependency
set ``x`` where ``'x' in extras`` holds and a dependency group ``g`` where
``'g' in dependency_groups`` holds, as PEP 751 writes the selection. Index
sources become pins (conditional ones split the resolution along their
conditions); declared conflicts split it so that conflicting extras or
groups are never resolved together. Workspace members that are packages
are locked as editable directories, and requirements between members are
not resolved from indexes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from freewheel.errors import UsageError
from freewheel.project.config import ConflictItem, ProjectConfig
from freewheel.project.sources import IndexSource, SourceCondition, WorkspaceSource
from freewheel.project.workspace import Workspace
from freewheel.resolver.markers import TRUE, MarkerTree
from freewheel.resolver.result import (
    LockedDependency,
    LockedPackage,
    LockedSource,
    LockGraph,
)
from freewheel.resolver.universal import (
    IndexPin,
    MakeProvider,
    RootRequirement,
    lock_graph,
    requirement_tree,
    resolve_forks,
)


@dataclasses.dataclass(frozen=True, slots=True)
class LockPlan:
    """What a workspace asks a universal resolution for."""

    roots: tuple[RootRequirement, ...]
    requires_python: SpecifierSet
    environments: MarkerTree
    required_environments: tuple[MarkerTree, ...]
    conflicts: tuple[tuple[MarkerTree, ...], ...]
    pins: tuple[IndexPin, ...]
    extras: tuple[NormalizedName, ...]
    groups: tuple[NormalizedName, ...]
    default_groups: tuple[NormalizedName, ...]


def fingerprint(plan: LockPlan, workspace: Workspace, settings: Iterable[object]) -> str:
    """A digest of everything a lock of *plan* depends on besides the
    indexes' contents: the requirements and where they apply, the supported
    space, conflicts, pins, the workspace's own projects, and *settings*
    (the indexes and resolver settings, as their ``repr``).

    A lock that records the same digest is up to date: checking it reads
    no index.
    """
    parts: list[object] = [
        [(str(root.requirement), str(root.condition)) for root in plan.roots],
        str(plan.requires_python),
        str(plan.environments),
        [str(required) for required in plan.required_environments],
        [[str(member) for member in conflict] for conflict in plan.conflicts],
        [(pin.name, pin.index, str(pin.condition)) for pin in plan.pins],
        plan.extras,
        plan.groups,
        plan.default_groups,
        sorted(
            (str(m.name), str(m.version), m.root.relative_to(workspace.directory).as_posix(), m.package)
            for m in workspace.projects()
        ),
        [repr(setting) for setting in settings],
    ]
    return "sha256:" + hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def extra_marker(extra: str) -> MarkerTree:
    """Where the optional dependency set *extra* is selected (PEP 751)."""
    return MarkerTree.from_marker(f"'{canonicalize_name(extra)}' in extras")


def group_marker(group: str) -> MarkerTree:
    """Where the dependency group *group* is selected (PEP 751)."""
    return MarkerTree.from_marker(f"'{canonicalize_name(group)}' in dependency_groups")


def plan_lock(workspace: Workspace, *, default_python: Version) -> LockPlan:
    """The resolution *workspace* needs.

    *default_python* bounds the supported Pythons from below when no member
    declares ``requires-python`` (as uv takes the interpreter's version).

    :raises UsageError: for sources the lock cannot resolve yet (URL, path
        and git sources of packages outside the workspace).
    """
    members = workspace.members
    roots: list[RootRequirement] = []
    extras: dict[NormalizedName, None] = {}
    groups: dict[NormalizedName, None] = {}
    for member in workspace.projects():
        sources = workspace.sources(member)
        _check_sources(sources, members, member)
        roots += _roots(member.dependencies, TRUE, members)
        for extra, requirements in member.optional_dependencies.items():
            extras[extra] = None
            roots += _roots(requirements, extra_marker(extra), members)
        for group, requirements in member.dependency_groups.items():
            groups[group] = None
            roots += _roots(requirements, group_marker(group), members)
    root = workspace.root
    return LockPlan(
        roots=tuple(roots),
        requires_python=_requires_python(workspace.projects(), default_python),
        environments=_any_of(MarkerTree.from_marker(str(m)) for m in root.environments),
        required_environments=tuple(MarkerTree.from_marker(str(m)) for m in root.required_environments),
        conflicts=tuple(tuple(_conflict_marker(item) for item in members_) for members_ in root.conflicts),
        pins=tuple(_pins(workspace.sources(root))),
        extras=tuple(extras),
        groups=tuple(groups),
        default_groups=root.default_groups,
    )


def lock(
    plan: LockPlan, workspace: Workspace, make_provider: MakeProvider, previous: LockGraph | None = None
) -> LockGraph:
    """Resolve *plan* and merge its forks into the graph a lock records,
    with the workspace's own projects as editable directories.

    A *previous* lock's forks are where the resolution starts splitting, so
    that fork points stay where they were.
    """
    space = MarkerTree.from_requires_python(plan.requires_python) & plan.environments
    start = previous.forks if previous is not None else ()
    forks = resolve_forks(
        plan.roots,
        space,
        make_provider,
        conflicts=plan.conflicts,
        pins=plan.pins,
        start=start,
        required=plan.required_environments,
    )
    graph = lock_graph(
        forks,
        plan.roots,
        requires_python=plan.requires_python,
        environments=plan.environments,
        extras=plan.extras,
        groups=plan.groups,
        conflicts=plan.conflicts,
    )
    # A virtual project (``package = false``) is never built or installed.
    own = [_member_package(member, workspace, graph) for member in workspace.projects() if member.package]
    packages = sorted([*graph.packages, *own], key=lambda p: (p.name, p.version))
    return dataclasses.replace(
        graph,
        packages=tuple(packages),
        default_groups=plan.default_groups,
        forks=tuple(fork.marker.simplify_under(space) for fork in forks) if len(forks) > 1 else (),
    )


def preferences_within(previous: LockGraph, fork: MarkerTree, upgrade: Collection[NormalizedName]) -> dict[NormalizedName, Version]:
    """The versions *previous* locked where *fork* holds, but for *upgrade*:
    what a re-lock prefers in that fork."""
    preferred: dict[NormalizedName, Version] = {}
    for package in previous.packages:
        if package.name not in upgrade and not (package.marker & fork).is_false:
            preferred.setdefault(package.name, package.version)
    return preferred


def unused_sources(workspace: Workspace, graph: LockGraph) -> list[str]:
    """Warnings for index sources of packages the lock does not contain
    (sources may pin packages that only appear transitively, so this is
    not an error)."""
    locked = {package.name for package in graph.packages}
    return [
        f"`{name}` has a source in {member.path} but is not in the lock; is the name right?"
        for member in workspace.projects()
        for name in member.sources
        if name not in locked
    ]


# -- helpers --------------------------------------------------------------------------------


def _roots(
    requirements: Iterable[Requirement],
    condition: MarkerTree,
    members: Mapping[NormalizedName, ProjectConfig],
    _expanded: frozenset[tuple[NormalizedName, NormalizedName]] = frozenset(),
) -> list[RootRequirement]:
    """*requirements* needed where *condition* holds, as the resolution
    takes them: a workspace member is not resolved, but the extras asked of
    it (``b[x]``) bring their requirements where the requirement applies."""
    roots = []
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        member = members.get(name)
        if member is None:
            roots.append(RootRequirement(requirement, condition))
            continue
        where = condition & requirement_tree(None if requirement.marker is None else str(requirement.marker), None)
        for extra in map(canonicalize_name, sorted(requirement.extras)):
            if (name, extra) not in _expanded:
                needs = member.optional_dependencies.get(extra, ())
                roots += _roots(needs, where, members, _expanded | {(name, extra)})
    return roots


def _check_sources(
    sources: Mapping[NormalizedName, Sequence[object]],
    members: Mapping[NormalizedName, ProjectConfig],
    member: ProjectConfig,
) -> None:
    for name, entries in sources.items():
        for entry in entries:
            if isinstance(entry, (WorkspaceSource, IndexSource)) or name in members:
                continue
            kind = type(entry).__name__.removesuffix("Source").lower()
            raise UsageError(
                f"The {kind} source of `{name}` in {member.path} cannot be locked yet; "
                "freewheel locks packages from indexes and workspace members."
            )


def _pins(sources: Mapping[NormalizedName, Sequence[object]]) -> Iterable[IndexPin]:
    for name, entries in sources.items():
        for entry in entries:
            if isinstance(entry, IndexSource):
                yield IndexPin(name, entry.index, _condition(entry))


def _condition(entry: SourceCondition) -> MarkerTree:
    condition = TRUE if entry.marker is None else MarkerTree.from_marker(str(entry.marker))
    if entry.extra is not None:
        condition = condition & extra_marker(entry.extra)
    if entry.group is not None:
        condition = condition & group_marker(entry.group)
    return condition


def _conflict_marker(item: ConflictItem) -> MarkerTree:
    if item.extra is not None:
        return extra_marker(item.extra)
    assert item.group is not None  # a conflict item names an extra or a group
    return group_marker(item.group)


def _any_of(trees: Iterable[MarkerTree]) -> MarkerTree:
    found = list(trees)
    if not found:
        return TRUE
    result = found[0]
    for tree in found[1:]:
        result = result | tree
    return result


def _requires_python(projects: Sequence[ProjectConfig], default: Version) -> SpecifierSet:
    """What every project supports: the intersection of their ``requires-python``."""
    declared = [p.requires_python for p in projects if p.requires_python is not None]
    if not declared:
        return SpecifierSet(f">={default.major}.{default.minor}")
    joined = SpecifierSet()
    for specifiers in declared:
        joined &= specifiers
    return joined


def _member_package(member: ProjectConfig, workspace: Workspace, graph: LockGraph) -> LockedPackage:
    """A workspace project as the lock records it: an editable directory
    depending on what its requirements resolved to."""
    name = member.name or canonicalize_name(member.root.name)
    wanted = {canonicalize_name(r.name) for r in _all_requirements(member)}
    dependencies = tuple(
        LockedDependency(package.name, package.version, package.marker)
        for package in graph.packages
        if package.name in wanted
    )
    relative = Path(member.root).relative_to(workspace.directory).as_posix() or "."
    return LockedPackage(
        name=name,
        version=member.version or Version("0"),
        marker=TRUE,
        index=None,
        files=(),
        dependencies=dependencies,
        requires_python=member.requires_python,
        source=LockedSource("directory", relative, editable=True),
    )


def _all_requirements(member: ProjectConfig) -> Iterable[Requirement]:
    yield from member.dependencies
    for requirements in member.optional_dependencies.values():
        yield from requirements
    for requirements in member.dependency_groups.values():
        yield from requirements

