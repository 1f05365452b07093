"""One project's ``pyproject.toml``, read once into a typed, frozen :class:`ProjectConfig`.

``[project]`` gives the name, version, ``requires-python``, dependencies and
optional dependencies; ``[dependency-groups]`` (PEP 735) the groups, with
uv's legacy ``dev-dependencies`` as the ``dev`` group. The settings come
from ``[tool.freewheel]`` when that table exists, else from ``[tool.uv]``,
with uv's meaning, so a project set up for uv works unchanged: indexes and
the index strategy (read by :func:`freewheel.inputs.pyproject.read_index_config`),
sources, ``environments``, ``required-environments``, ``conflicts``,
``default-groups``, ``package`` and the workspace table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import msgspec
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from freewheel.errors import InputError
from freewheel.inputs.pyproject import (
    IndexConfig,
    group_requirements,
    load_toml,
    read_index_config,
    requirement_list,
    requires_python_of,
    table_of,
    tool_table,
)
from freewheel.project.sources import Source, parse_sources
from freewheel.util.fs import display_path

Fail = Callable[[str, str], InputError]


class ConflictItem(msgspec.Struct, frozen=True):
    """One member of a declared conflict: the *extra* or the *group* of
    *package* (``None``: the project declaring it)."""

    package: NormalizedName | None
    extra: NormalizedName | None = None
    group: NormalizedName | None = None


class WorkspaceTable(msgspec.Struct, frozen=True):
    """``[tool.uv.workspace]``: glob patterns, relative to the file's directory."""

    members: tuple[str, ...]
    exclude: tuple[str, ...]


class ProjectConfig(msgspec.Struct, frozen=True):
    """What one ``pyproject.toml`` declares for the project workflow.

    *name* is ``None`` for a virtual project (no ``[project]`` table, as a
    workspace root that only gathers members may be). *dependency_groups*
    maps each group to its requirements with ``include-group`` followed;
    the legacy ``[tool.uv] dev-dependencies`` are part of ``dev``.
    *default_groups* are the groups installed unless told otherwise
    (``[tool.uv] default-groups``; ``dev`` by default, when it exists).
    *package* says whether the project itself is built and installed
    (``[tool.uv] package``; by default, when it declares a
    ``[build-system]``). *index* holds the ``[[index]]`` entries, the index
    strategy and the other index settings. *sources* lists each package's
    sources in file order. *settings_table* is the dotted key the settings
    were read from (``tool.freewheel`` or ``tool.uv``), ``None`` when the
    file has neither.
    """

    path: Path
    name: NormalizedName | None
    version: Version | None
    requires_python: SpecifierSet | None
    dependencies: tuple[Requirement, ...]
    optional_dependencies: Mapping[NormalizedName, tuple[Requirement, ...]]
    dependency_groups: Mapping[NormalizedName, tuple[Requirement, ...]]
    default_groups: tuple[NormalizedName, ...]
    package: bool
    index: IndexConfig
    sources: Mapping[NormalizedName, tuple[Source, ...]]
    environments: tuple[Marker, ...]
    required_environments: tuple[Marker, ...]
    conflicts: tuple[tuple[ConflictItem, ...], ...]
    workspace: WorkspaceTable | None
    settings_table: str | None

    @property
    def root(self) -> Path:
        """The project's directory."""
        return self.path.parent

    @property
    def extras(self) -> tuple[NormalizedName, ...]:
        return tuple(self.optional_dependencies)

    @property
    def groups(self) -> tuple[NormalizedName, ...]:
        return tuple(self.dependency_groups)


def read_project_config(pyproject: str | Path) -> ProjectConfig:
    """Read the project whose ``pyproject.toml`` is *pyproject*.

    :raises InputError: when the file is missing or invalid, naming the
        file and the key that is wrong.
    """
    path = Path(pyproject).absolute()
    shown = display_path(path, Path.cwd())
    data = load_toml(path)
    prefix, tool = tool_table(data, shown)
    project = table_of(data.get("project", {}), "[project]", shown)

    def fail(key: str, message: str) -> InputError:
        return InputError(f"In `{shown}`, `{key}` {message}")

    name = project.get("name")
    if "project" in data and not isinstance(name, str):
        raise fail("project.name", "must be set to the project's name, a string.")
    version = _version(project, fail)
    dependencies = tuple(requirement_list(project.get("dependencies", []), "project.dependencies", shown))
    optional = table_of(project.get("optional-dependencies", {}), "[project.optional-dependencies]", shown)
    optional_dependencies = {
        canonicalize_name(extra): tuple(
            requirement_list(reqs, f"project.optional-dependencies.{extra}", shown)
        )
        for extra, reqs in optional.items()
    }
    groups_table = dict(table_of(data.get("dependency-groups", {}), "[dependency-groups]", shown))
    legacy = tool.get("dev-dependencies")
    if legacy is not None:
        requirement_list(legacy, f"{prefix}.dev-dependencies", shown)
        # uv merges the legacy list into the `dev` group.
        dev = next((key for key in groups_table if canonicalize_name(key) == "dev"), "dev")
        groups_table[dev] = [*groups_table.get(dev, []), *legacy]
    dependency_groups = dict(group_requirements(groups_table, list(groups_table), shown))

    index = read_index_config(path)
    where = f"{prefix}.sources" if prefix else "tool.uv.sources"
    sources = parse_sources(
        table_of(tool.get("sources", {}), f"[{where}]", shown),
        where=where,
        shown=shown,
        base_dir=path.parent,
        index_names={i.name for i in index.indexes if i.name is not None},
        extras=optional_dependencies.keys(),
        groups=dependency_groups.keys(),
    )
    return ProjectConfig(
        path=path,
        name=canonicalize_name(name) if isinstance(name, str) else None,
        version=version,
        requires_python=requires_python_of(project, shown),
        dependencies=dependencies,
        optional_dependencies=MappingProxyType(optional_dependencies),
        dependency_groups=MappingProxyType({canonicalize_name(g): reqs for g, reqs in dependency_groups.items()}),
        default_groups=_default_groups(tool, prefix, dependency_groups, fail),
        package=_package(tool, prefix, data, fail),
        index=index,
        sources=MappingProxyType(sources),
        environments=tuple(Marker(m) for m in index.environments),
        required_environments=tuple(Marker(m) for m in index.required_environments),
        conflicts=_conflicts(index.conflicts, f"{prefix}.conflicts", optional_dependencies, dependency_groups, fail),
        workspace=_workspace(tool.get("workspace"), f"{prefix}.workspace", fail),
        settings_table=prefix,
    )


def _version(project: Mapping[str, Any], fail: Fail) -> Version | None:
    value = project.get("version")
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise InvalidVersion(value)
        return Version(value)
    except InvalidVersion:
        raise fail("project.version", f"is `{value}`, which is not a valid version (PEP 440).") from None


def _default_groups(
    tool: Mapping[str, Any], prefix: str | None, groups: Mapping[str, Any], fail: Fail
) -> tuple[NormalizedName, ...]:
    known = {canonicalize_name(g) for g in groups}
    value = tool.get("default-groups")
    if value is None:
        return ("dev",) if "dev" in known else ()  # type: ignore[return-value]
    if value == "all":
        return tuple(sorted(known))
    key = f"{prefix}.default-groups"
    if not isinstance(value, list) or not all(isinstance(g, str) for g in value):
        raise fail(key, 'must be a list of group names, or `"all"`.')
    for group in value:
        if canonicalize_name(group) not in known:
            raise fail(key, f"names the group `{group}`, which `[dependency-groups]` does not define.")
    return tuple(canonicalize_name(g) for g in value)


def _package(tool: Mapping[str, Any], prefix: str | None, data: Mapping[str, Any], fail: Fail) -> bool:
    value = tool.get("package")
    if value is None:
        return "build-system" in data and "project" in data
    if not isinstance(value, bool):
        raise fail(f"{prefix}.package", "must be `true` or `false`.")
    return value


def _conflicts(
    raw: tuple[Any, ...],
    key: str,
    extras: Mapping[NormalizedName, Any],
    groups: Mapping[str, Any],
    fail: Fail,
) -> tuple[tuple[ConflictItem, ...], ...]:
    known_groups = {canonicalize_name(g) for g in groups}
    sets = []
    for number, entry in enumerate(raw):
        at = f"{key}[{number}]"
        if not isinstance(entry, list) or len(entry) < 2:
            raise fail(at, "must list at least two extras or groups that cannot be installed together.")
        items = []
        for item in entry:
            if not isinstance(item, dict) or set(item) - {"package", "extra", "group"} or (
                ("extra" in item) == ("group" in item)
            ):
                raise fail(at, 'entries must be tables such as `{ extra = "cpu" }` or `{ group = "lint" }`.')
            if not all(isinstance(value, str) for value in item.values()):
                raise fail(at, "entries must hold strings.")
            package = canonicalize_name(item["package"]) if "package" in item else None
            extra = canonicalize_name(item["extra"]) if "extra" in item else None
            group = canonicalize_name(item["group"]) if "group" in item else None
            # Another member's extras are checked where the workspace is known.
            if package is None and extra is not None and extra not in extras:
                raise fail(at, f"names the extra `{extra}`, which `[project.optional-dependencies]` does not define.")
            if package is None and group is not None and group not in known_groups:
                raise fail(at, f"names the group `{group}`, which `[dependency-groups]` does not define.")
            items.append(ConflictItem(package, extra, group))
        sets.append(tuple(items))
    return tuple(sets)


def _workspace(value: object, key: str, fail: Fail) -> WorkspaceTable | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise fail(key, "must be a table with `members` and `exclude`.")
    unknown = sorted(set(value) - {"members", "exclude"})
    if unknown:
        raise fail(key, f"has an unknown key `{unknown[0]}`; expected `members` or `exclude`.")
    patterns = []
    for name in ("members", "exclude"):
        globs = value.get(name, [])
        if not isinstance(globs, list) or not all(isinstance(g, str) for g in globs):
            raise fail(f"{key}.{name}", "must be a list of glob patterns.")
        patterns.append(tuple(globs))
    return WorkspaceTable(*patterns)
