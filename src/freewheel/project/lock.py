"""Locking a workspace: its projects' requirements, sources and conflicts
turned into one universal resolution.

Every member's dependencies are needed everywhere; an optional dependency
set ``x`` where ``'x' in extras`` holds and a dependency group ``g`` where
``'g' in dependency_groups`` holds, as PEP 751 writes the selection. Index
sources become pins (conditional ones split the resolution along their
conditions), and so do URL, path and git sources under a condition, each
pinning its package to the reference brought here; declared conflicts
split it so that conflicting extras or groups are never resolved together. Workspace members that are packages
are locked as editable directories, and requirements between members are
not resolved from indexes.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from freewheel.errors import UsageError
from freewheel.project.config import ConflictItem, ProjectConfig
from freewheel.project.sources import (
    GitSource,
    IndexSource,
    PathSource,
    Source,
    SourceCondition,
    UrlSource,
    WorkspaceSource,
)
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
from freewheel.util.fs import file_url_path

if TYPE_CHECKING:
    from freewheel.dists.direct import Materialized


class DirectSource(msgspec.Struct, frozen=True):
    """A package that comes from a URL, a local path or a git repository
    (its ``url``, ``path`` or ``git`` source), as a direct reference *url*
    (``git+URL@REV#subdirectory=...``, ``file:///...``)."""

    name: NormalizedName
    url: str
    editable: bool = False
    #: Where it applies, when it is one of the package's sources under a
    #: condition (``marker``, ``extra``, ``group``; ``TRUE`` for the one
    #: without, beside others): the resolution takes the package from it
    #: where that holds, through an :class:`IndexPin` naming its URL.
    #: ``None`` for the package's only source, which holds everywhere.
    condition: MarkerTree | None = None


class LockPlan(msgspec.Struct, frozen=True):
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
    direct: tuple[DirectSource, ...] = ()


def fingerprint(plan: LockPlan, workspace: Workspace, settings: Iterable[object]) -> str:
    """A digest of everything a lock of *plan* depends on besides the
    indexes' contents: the requirements and where they apply, the supported
    space, conflicts, pins, the workspace's own projects, and *settings*
    (the indexes and resolver settings, as their ``repr``).

    A lock that records the same digest is up to date: checking it reads
    no index. The metadata-bearing files of local directories the
    workspace depends on (:func:`metadata_files`) are part of it, so that
    such a project gaining a dependency is locked again.
    """
    parts: list[object] = [
        [(str(root.requirement), str(root.condition)) for root in plan.roots],
        str(plan.requires_python),
        str(plan.environments),
        [str(required) for required in plan.required_environments],
        [[str(member) for member in conflict] for conflict in plan.conflicts],
        [(pin.name, _portable(pin.index, workspace.directory), str(pin.condition)) for pin in plan.pins],
        plan.extras,
        plan.groups,
        plan.default_groups,
        [
            (
                source.name,
                _portable(source.url, workspace.directory),
                source.editable,
                None if source.condition is None else str(source.condition),
                metadata_files(source.url),
            )
            for source in plan.direct
        ],
        sorted(
            (str(m.name), str(m.version), m.root.relative_to(workspace.directory).as_posix(), m.package)
            for m in workspace.projects()
        ),
        [repr(setting) for setting in settings],
    ]
    return "sha256:" + hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


#: The files a project's metadata is written in, as uv's default ``cache-keys``.
_METADATA_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def metadata_files(url: str) -> list[tuple[str, str | None]]:
    """The sha256 of ``pyproject.toml``, ``setup.py`` and ``setup.cfg`` in
    the local directory *url* names (``None`` for one that is not there),
    or nothing for any other source.

    By content, not modification time (uv's ``cache-keys`` take the time):
    a checkout or a copy elsewhere touches every file without changing
    what the project says, and three small files are quick to read. What
    a ``setup.py`` reads besides itself is not covered, as in uv.
    """
    path = file_url_path(url)
    if path is None or not path.is_dir():
        return []
    found = []
    for name in _METADATA_FILES:
        try:
            found.append((name, hashlib.sha256((path / name).read_bytes()).hexdigest()))
        except OSError:  # none, or unreadable: reading its metadata will say
            found.append((name, None))
    return found


def source_key(directory: Path) -> str:
    """A digest of the files *directory*'s metadata is written in (see
    :func:`metadata_files`): it changes when the project's metadata may
    have, and a sync reinstalls the project from *directory* then."""
    files = metadata_files(directory.as_uri())
    return "sha256:" + hashlib.sha256(json.dumps(files).encode()).hexdigest()


def _portable(url: str, root: Path) -> str:
    """*url*, a local one relative to *root*: a lock stays up to date
    wherever the workspace and its neighbours are checked out."""
    path = file_url_path(url)
    return url if path is None else Path(os.path.relpath(path, root)).as_posix()


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

    :raises UsageError: for a package two projects take from different places.
    """
    members = workspace.members
    roots: list[RootRequirement] = []
    extras: dict[NormalizedName, None] = {}
    groups: dict[NormalizedName, None] = {}
    direct: dict[NormalizedName, tuple[DirectSource, ...]] = {}
    for member in workspace.projects():
        for name, sources in _direct_sources(workspace.sources(member), members):
            other = direct.setdefault(name, sources)
            if other != sources:
                raise UsageError(
                    f"`{name}` comes from two places in the workspace: {', '.join(s.url for s in other)} and "
                    f"{', '.join(s.url for s in sources)} (in {member.path}); give every project the same "
                    "sources for it."
                )
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
        pins=(
            *_pins(workspace.sources(root)),
            *(
                IndexPin(name, source.url, source.condition)
                for name in sorted(direct)
                for source in direct[name]
                if source.condition is not None
            ),
        ),
        extras=tuple(extras),
        groups=tuple(groups),
        default_groups=root.default_groups,
        direct=tuple(source for name in sorted(direct) for source in direct[name]),
    )


def lock(
    plan: LockPlan,
    workspace: Workspace,
    make_provider: MakeProvider,
    previous: LockGraph | None = None,
    direct: Mapping[str, LockedSource] = {},
) -> LockGraph:
    """Resolve *plan* and merge its forks into the graph a lock records,
    with the workspace's own projects as editable directories, and the
    packages of *plan*'s direct sources from where *direct* says (by the
    URL of the reference brought here, its file's ``index.url``).

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
        sources=direct,
    )
    # A virtual project (``package = false``) is never built or installed.
    own = [_member_package(member, workspace, graph) for member in workspace.projects() if member.package]
    packages = sorted([*graph.packages, *own], key=lambda p: (p.name, p.version))
    return msgspec.structs.replace(
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


def _direct_sources(
    sources: Mapping[NormalizedName, Sequence[Source]],
    members: Mapping[NormalizedName, ProjectConfig],
) -> Iterable[tuple[NormalizedName, tuple[DirectSource, ...]]]:
    """The URL, path and git sources of each package outside the workspace
    that has some: the only source of a package holds everywhere; one of
    several, or one under a condition, where its condition holds."""
    for name, entries in sources.items():
        if name in members:
            continue
        alone = len(entries) == 1 and _condition(entries[0]).is_true
        found = tuple(
            _direct_source(name, entry, None if alone else _condition(entry))
            for entry in entries
            if not isinstance(entry, (WorkspaceSource, IndexSource))
        )
        if found:
            yield name, found


def _direct_source(
    name: NormalizedName, source: UrlSource | PathSource | GitSource, condition: MarkerTree | None
) -> DirectSource:
    subdirectory = None if isinstance(source, PathSource) else source.subdirectory
    tail = f"#subdirectory={subdirectory}" if subdirectory else ""
    if isinstance(source, GitSource):
        revision = source.rev or source.tag or source.branch
        url = source.git if source.git.startswith("git+") else f"git+{source.git}"
        return DirectSource(name, url + (f"@{revision}" if revision else "") + tail, condition=condition)
    if isinstance(source, UrlSource):
        return DirectSource(name, source.url + tail, condition=condition)
    return DirectSource(name, source.path.as_uri(), editable=bool(source.editable), condition=condition)


def locked_source(source: DirectSource, found: Materialized, lock_dir: Path) -> LockedSource:
    """Where the lock in *lock_dir* says *source*, brought here as *found*,
    comes from: a git commit, an archive with its sha256, or a directory
    (a local path, relative to the lock)."""
    from freewheel.dists.hashing import sha256_file

    record = found.direct_url
    subdirectory = record.get("subdirectory")
    vcs = record.get("vcs_info")
    if vcs is not None:
        return LockedSource(
            "vcs",
            record["url"],
            commit=vcs["commit_id"],
            requested_revision=vcs.get("requested_revision"),
            subdirectory=subdirectory,
        )
    if found.path.is_dir() and source.url.startswith("file:"):
        return LockedSource("directory", os.path.relpath(found.path, lock_dir), editable=source.editable)
    hashes = record.get("archive_info", {}).get("hashes", {})
    sha256 = hashes.get("sha256") or sha256_file(found.path)
    if source.url.startswith("file:"):
        return LockedSource("archive", os.path.relpath(found.path, lock_dir), sha256=sha256)
    return LockedSource("archive", record["url"], sha256=sha256, subdirectory=subdirectory)


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
        LockedDependency(package.name, package.version, package.marker, package.source)
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

