"""Finding the project a command acts on, and the workspace it belongs to, as uv does.

The project is the nearest directory at or above the working directory (or
``--project``) that holds a ``pyproject.toml``. Its workspace root is the
nearest directory at or above it whose ``[tool.uv.workspace]`` (or
``[tool.freewheel.workspace]``) ``members`` globs match the project and
whose ``exclude`` globs do not; without one, the project is a workspace of
its own. The root's settings (indexes, sources, environments, conflicts)
hold for every member; a member's own sources override the root's, package
by package. Members depend on each other through ``{ workspace = true }``
sources.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import msgspec
from packaging.utils import NormalizedName, canonicalize_name

from freewheel.errors import InputError, UsageError
from freewheel.project.config import ProjectConfig, read_project_config
from freewheel.project.sources import Source, WorkspaceSource
from freewheel.util.fs import display_path


class Workspace(msgspec.Struct, frozen=True):
    """A workspace: its *root* configuration, its *members* by name (the
    root among them when it has a ``[project]`` table), and the *project*
    the command acts on (the root or a member)."""

    root: ProjectConfig
    members: Mapping[NormalizedName, ProjectConfig]
    project: ProjectConfig

    @property
    def directory(self) -> Path:
        """The workspace root's directory, where ``pylock.toml`` and ``.venv`` live."""
        return self.root.root

    def projects(self) -> list[ProjectConfig]:
        """The workspace's projects: its members, and the root first even
        when it is virtual (it then contributes its groups only)."""
        projects = list(self.members.values())
        if self.root not in projects:
            projects.insert(0, self.root)
        return projects

    def sources(self, member: ProjectConfig) -> Mapping[NormalizedName, tuple[Source, ...]]:
        """The sources that hold for *member*: the root's, overridden by its own."""
        return {**self.root.sources, **member.sources}


def find_project(start: Path) -> Path:
    """The ``pyproject.toml`` nearest at or above the directory *start*.

    :raises UsageError: when there is none.
    """
    start = start.absolute()
    for directory in (start, *start.parents):
        if (directory / "pyproject.toml").is_file():
            return directory / "pyproject.toml"
    raise UsageError(
        f"No `pyproject.toml` found in {start} or any parent directory.",
        hint="run the command inside a project, or pass --project DIR",
    )


def discover(start: Path, *, project: Path | None = None) -> Workspace:
    """The workspace of the project at or above *start*, or of *project*
    (``--project``: a project directory, or its ``pyproject.toml``).

    :raises UsageError: when no project is found.
    :raises InputError: when a ``pyproject.toml`` of the workspace is wrong.
    """
    if project is not None:
        project = project.absolute()
        path = project if project.name == "pyproject.toml" else project / "pyproject.toml"
        if not path.is_file():
            raise UsageError(f"No `pyproject.toml` in {display_path(path.parent, start)} (--project).")
    else:
        path = find_project(start)
    config = read_project_config(path)
    root = config
    for directory in path.parent.parents:
        candidate = directory / "pyproject.toml"
        if not candidate.is_file():
            continue
        above = read_project_config(candidate)
        if above.workspace is not None and path.parent in _member_dirs(above):
            root = above
            break
    members = _members(root)
    _check_workspace_sources(root, members)
    _check_conflicts(root, members)
    current = next((m for m in members.values() if m.path == config.path), config)
    return Workspace(root=root, members=MappingProxyType(members), project=current)


def _member_dirs(root: ProjectConfig) -> set[Path]:
    """The directories the root's ``members`` globs match, less the ``exclude``d ones."""
    table = root.workspace
    if table is None:
        return set()
    matched = {p.absolute() for pattern in table.members for p in root.root.glob(pattern) if p.is_dir()}
    excluded = {p.absolute() for pattern in table.exclude for p in root.root.glob(pattern)}
    return matched - excluded - {root.root}


def _members(root: ProjectConfig) -> dict[NormalizedName, ProjectConfig]:
    shown = display_path(root.path, Path.cwd())
    key = f"{root.settings_table}.workspace.members"
    members: dict[NormalizedName, ProjectConfig] = {}
    if root.name is not None:
        members[root.name] = root
    for directory in sorted(_member_dirs(root)):
        pyproject = directory / "pyproject.toml"
        relative = display_path(directory, root.root)
        if not pyproject.is_file():
            if not any(directory.iterdir()):
                continue  # uv skips an empty directory the globs match (a placeholder)
            raise InputError(
                f"In `{shown}`, `{key}` matches `{relative}`, which has no `pyproject.toml`; "
                "add one, or list the directory in `exclude`."
            )
        member = read_project_config(pyproject)
        if member.name is None:
            raise InputError(
                f"In `{shown}`, `{key}` matches `{relative}`, whose `pyproject.toml` has no "
                "`[project]` table; a member needs a name."
            )
        if member.name in members:
            other = display_path(members[member.name].root, root.root) or "."
            raise InputError(
                f"In `{shown}`, `{key}` matches two projects named `{member.name}`: "
                f"`{other}` and `{relative}`."
            )
        members[member.name] = member
    return members


def _check_workspace_sources(root: ProjectConfig, members: Mapping[NormalizedName, ProjectConfig]) -> None:
    """Every ``workspace = true`` source names a member, and a member's
    dependency on another member has one (uv asks for both)."""
    for member in {root.path: root, **{m.path: m for m in members.values()}}.values():
        sources = {**root.sources, **member.sources}
        for name, entries in sources.items():
            if any(isinstance(s, WorkspaceSource) for s in entries) and name not in members:
                owner = member if name in member.sources else root
                raise InputError(
                    f"In `{display_path(owner.path, Path.cwd())}`, `{owner.settings_table}.sources.{name}` "
                    f"says `workspace = true`, but no workspace member is named `{name}`; "
                    "add its directory to `members` of the workspace root."
                )
        requirements = [
            *member.dependencies,
            *(r for reqs in member.optional_dependencies.values() for r in reqs),
            *(r for reqs in member.dependency_groups.values() for r in reqs),
        ]
        for requirement in requirements:
            name = canonicalize_name(requirement.name)
            if name in members and name != member.name and requirement.url is None and name not in sources:
                table = member.settings_table or "tool.uv"
                raise InputError(
                    f"`{member.name}` depends on `{name}`, a workspace member, but "
                    f"`{display_path(member.path, Path.cwd())}` has no source for it; add "
                    f"`{name} = {{ workspace = true }}` to `[{table}.sources]`."
                )


def _check_conflicts(root: ProjectConfig, members: Mapping[NormalizedName, ProjectConfig]) -> None:
    """A conflict naming a ``package`` names a member, and one of its extras or groups."""
    shown = display_path(root.path, Path.cwd())
    for number, conflict in enumerate(root.conflicts):
        key = f"{root.settings_table}.conflicts[{number}]"
        for item in conflict:
            if item.package is None:
                continue
            member = members.get(item.package)
            if member is None:
                raise InputError(
                    f"In `{shown}`, `{key}` names the package `{item.package}`, which is not a "
                    "workspace member."
                )
            if item.extra is not None and item.extra not in member.optional_dependencies:
                raise InputError(f"In `{shown}`, `{key}` names the extra `{item.extra}`, which `{item.package}` does not define.")
            if item.group is not None and item.group not in member.dependency_groups:
                raise InputError(f"In `{shown}`, `{key}` names the group `{item.group}`, which `{item.package}` does not define.")
