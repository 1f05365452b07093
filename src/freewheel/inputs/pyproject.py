"""Read a project's requirements and index settings from ``pyproject.toml``.

Requirements come from the static ``[project]`` table and PEP 735
``[dependency-groups]``. Index settings come from ``[tool.freewheel]`` when
that table exists and from ``[tool.uv]`` otherwise, with uv's meaning, so a
project set up for uv works unchanged; a standalone ``freewheel.toml`` holds
the same keys at its top level, as ``uv.toml`` does.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
from packaging.dependency_groups import DependencyGroupResolver
from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from freewheel.config.indexes import Index
from freewheel.config.settings import (
    INDEX_STRATEGIES,
    PRERELEASE_MODES,
    RESOLUTION_MODES,
)
from freewheel.errors import InputError
from freewheel.inputs._shared import (
    defined_names,
    invalid_requirement_reason,
    location_url,
    with_absolute_url,
)
from freewheel.inputs.requirements_txt import RequirementSource, SourcedRequirement
from freewheel.util.fs import display_path


class ProjectRequirements(msgspec.Struct, frozen=True):
    """A project's name, the requirements asked for and its ``requires-python``.

    ``name`` is normalized. Requirements on the project itself
    (``example[test]`` in an extra or a group) are replaced by what they
    stand for.
    """

    name: str | None
    requirements: tuple[SourcedRequirement, ...]
    requires_python: SpecifierSet | None


class IndexConfig(msgspec.Struct, frozen=True):
    """Index settings from ``[tool.freewheel]``, ``[tool.uv]`` or ``freewheel.toml``.

    ``indexes`` are in file order, each with its per-index settings
    (``authenticate``, ``ignore-error-codes``, ``cache-control``). ``pins``
    maps a project to the name of the only index it may come from (``{ index
    = "name" }`` sources); every other kind of source is kept as written in
    ``sources``. Settings under the ``pip`` sub-table override the
    top-level ones. ``source`` is ``"[tool.freewheel]"``, ``"[tool.uv]"`` or
    the path of a ``freewheel.toml``; ``None`` when nothing was configured.
    """

    indexes: tuple[Index, ...] = ()
    pins: Mapping[NormalizedName, str] = msgspec.field(default_factory=dict)
    sources: Mapping[NormalizedName, Any] = msgspec.field(default_factory=dict)
    index_strategy: str | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool | None = None
    prerelease: str | None = None
    resolution: str | None = None
    exclude_newer: str | None = None
    environments: tuple[str, ...] = ()
    required_environments: tuple[str, ...] = ()
    conflicts: tuple[Any, ...] = ()
    source: str | None = None


#: In the ``extras`` of a project that stands for its own requirements: all
#: of them (``--all-extras``), whichever its metadata provides.
ALL_EXTRAS = ":all:"


def built_requirements(
    project: Path, source: RequirementSource, extras: Sequence[str], all_extras: bool
) -> SourcedRequirement:
    """The requirements of *project* (and of its *extras*, all of them with
    *all_extras*) as its build backend will compute them: the project stands
    for them until its metadata is prepared."""
    return SourcedRequirement(
        None, project.absolute().as_uri(), False, (), source,
        extras=frozenset([ALL_EXTRAS] if all_extras else (canonicalize_name(e) for e in extras)), expand=True,
    )


def read_pyproject(
    path: str | Path,
    *,
    extras: Sequence[str] = (),
    all_extras: bool = False,
    groups: Sequence[str] = (),
) -> ProjectRequirements:
    """Read the requirements of the project at *path*.

    Returns ``[project] dependencies``, plus the optional dependencies of each
    of *extras* (all of them with *all_extras*) and the requirements of each
    dependency group in *groups*. A file with only ``[dependency-groups]`` is
    fine when groups are asked for.
    """
    shown = display_path(path, Path.cwd())
    data = load_toml(Path(path))
    project = data.get("project")
    dependency_groups = data.get("dependency-groups", {})
    if project is None and not groups:
        raise InputError(
            f"`{shown}` has no `[project]` table, so it declares no requirements.",
            hint="for a project configured through `setup.py`, name that file instead.",
        )
    project = table_of(project or {}, "[project]", shown)
    name = project.get("name")
    if name is not None and not isinstance(name, str):
        raise InputError(f"In `{shown}`, `project.name` must be a string.")
    normalized = canonicalize_name(name) if name else None
    dynamic = _string_list(project.get("dynamic", []), "project.dynamic", shown)

    def sourced(req: Requirement, group: str | None = None) -> SourcedRequirement:
        req = with_absolute_url(req, Path(path).parent)
        source = RequirementSource("pyproject", shown, None, normalized, group)
        return SourcedRequirement(req, req.url, False, (), source)

    base = requirement_list(project.get("dependencies", []), "project.dependencies", shown)
    optional = table_of(
        project.get("optional-dependencies", {}), "[project.optional-dependencies]", shown
    )
    if ("dependencies" in dynamic and not base) or (
        (extras or all_extras) and not optional and "optional-dependencies" in dynamic
    ):
        # Only the build backend knows them: the project stands for them.
        own = built_requirements(
            Path(path).parent, RequirementSource("pyproject", shown, None, normalized, None), extras, all_extras
        )
        grouped = [sourced(req, group) for group, reqs in group_requirements(dependency_groups, groups, shown) for req in reqs]
        return ProjectRequirements(normalized, (own, *grouped), requires_python_of(project, shown))
    by_extra = {
        canonicalize_name(extra): requirement_list(
            reqs, f"project.optional-dependencies.{extra}", shown
        )
        for extra, reqs in optional.items()
    }
    wanted = list(by_extra) if all_extras else [canonicalize_name(extra) for extra in extras]
    for extra in wanted:
        if extra not in by_extra:
            raise InputError(
                f"Extra `{extra}` is not defined in `{shown}`; "
                + defined_names("extras", optional),
            )

    expander = _SelfReferences(normalized, base, by_extra)
    found = [
        sourced(req)
        for req in expander.expand([*base, *(req for extra in wanted for req in by_extra[extra])])
    ]
    for group, reqs in group_requirements(dependency_groups, groups, shown):
        found.extend(sourced(req, group) for req in expander.expand(reqs))
    return ProjectRequirements(normalized, tuple(found), requires_python_of(project, shown))


def read_index_config(pyproject_path: str | Path) -> IndexConfig:
    """Read index settings from ``[tool.freewheel]``, else from ``[tool.uv]``.

    When ``[tool.freewheel]`` exists, ``[tool.uv]`` is ignored entirely.
    Relative paths are taken relative to the file's directory.
    """
    path = Path(pyproject_path)
    prefix, table = tool_table(load_toml(path), str(path))
    if prefix is None:
        return IndexConfig()
    return _index_config(table, prefix, f"[{prefix}]", path)


def tool_table(data: Mapping[str, Any], shown: str) -> tuple[str | None, dict[str, Any]]:
    """freewheel's settings table in the ``pyproject.toml`` document *data*.

    Returns its dotted key (``tool.freewheel``, else ``tool.uv``) and the
    table; ``(None, {})`` when there is neither.
    """
    tool = table_of(data.get("tool", {}), "[tool]", shown)
    for name in ("freewheel", "uv"):
        if name in tool:
            return f"tool.{name}", table_of(tool[name], f"[tool.{name}]", shown)
    return None, {}


def read_freewheel_toml(path: str | Path) -> IndexConfig:
    """Read index settings from a standalone ``freewheel.toml``.

    The keys are those of ``[tool.freewheel]``, at the top level.
    """
    path = Path(path)
    return _index_config(load_toml(path), "", str(path), path)


_AUTHENTICATE = ("always", "never", "auto")
_INDEX_KEYS = frozenset(
    # publish-url is uv's and does not affect resolution.
    {
        "name",
        "url",
        "explicit",
        "default",
        "format",
        "authenticate",
        "ignore-error-codes",
        "cache-control",
        "publish-url",
    }
)
_INDEX_NAME_RE = re.compile(r"^[A-Za-z0-9._-]+$")


def load_toml(path: Path) -> dict[str, Any]:
    """The TOML document at *path*; :class:`InputError` when it is missing or invalid."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"`{path}` does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"`{path}` cannot be read: {exc}.") from None
    import tomllib  # only a run that reads TOML needs it

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"`{path}` is not valid TOML: {exc}.") from None
    except RecursionError:
        # tomllib parses nested arrays and inline tables recursively.
        raise InputError(f"`{path}` nests arrays or tables too deeply to be read.") from None


def table_of(value: object, where: str, shown: str) -> dict[str, Any]:
    """*value*, which must be a table (*where* names it in the file *shown*)."""
    if not isinstance(value, dict):
        raise InputError(f"In `{shown}`, `{where}` must be a table.")
    return value


def _string_list(value: object, key: str, shown: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InputError(f"In `{shown}`, `{key}` must be a list of strings.")
    return value


def requirement_list(value: object, key: str, shown: str) -> list[Requirement]:
    """*value* (the list of strings at *key* in *shown*) as requirements."""
    return [_requirement(item, key, shown) for item in _string_list(value, key, shown)]


def _requirement(text: str, key: str, shown: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        raise InputError(
            f"Couldn't parse requirement in `{shown}` (`{key}`): `{text}`: "
            + invalid_requirement_reason(exc)
        ) from None


def requires_python_of(project: Mapping[str, Any], shown: str) -> SpecifierSet | None:
    """``requires-python`` of the ``[project]`` table *project*, if declared."""
    value = project.get("requires-python")
    if value is None:
        return None
    try:
        return SpecifierSet(value)
    except (InvalidSpecifier, TypeError):
        raise InputError(
            f"In `{shown}`, `project.requires-python` is not a valid version specifier: `{value}`."
        ) from None


def group_requirements(
    table: object, groups: Sequence[str], shown: str
) -> list[tuple[str, tuple[Requirement, ...]]]:
    """Resolve each of *groups* (includes followed) to its requirements."""
    if not groups:
        return []
    table = table_of(table, "[dependency-groups]", shown)
    known = {canonicalize_name(name): name for name in table}
    for group in groups:
        if canonicalize_name(group) not in known:
            raise InputError(
                f"Dependency group `{group}` is not defined in `{shown}`; "
                + defined_names("groups", table)
            )
    try:
        resolver = DependencyGroupResolver(table)
        return [(canonicalize_name(group), resolver.resolve(group)) for group in groups]
    except ExceptionGroup as exc:
        reasons = "; ".join(str(error).splitlines()[0] for error in exc.exceptions)
        raise InputError(f"`[dependency-groups]` in `{shown}` is invalid: {reasons}.") from None
    except ValueError as exc:
        raise InputError(f"`[dependency-groups]` in `{shown}` is invalid: {exc}.") from None


class _SelfReferences(msgspec.Struct):
    """Replaces requirements on the project itself by what they stand for.

    ``example[test]`` inside ``example``'s own extras or groups means "the
    project's dependencies and its ``test`` extra"; no index offers the
    project being locked, so it must be expanded here.
    """

    name: NormalizedName | None
    base: list[Requirement]
    by_extra: Mapping[NormalizedName, list[Requirement]]

    def expand(self, reqs: Sequence[Requirement]) -> list[Requirement]:
        return self._expand(reqs, frozenset())

    def _expand(self, reqs: Sequence[Requirement], seen: frozenset[str]) -> list[Requirement]:
        out: list[Requirement] = []
        for req in reqs:
            if canonicalize_name(req.name) != self.name or req.url is not None:
                out.append(req)
                continue
            extras = sorted({canonicalize_name(extra) for extra in req.extras} - seen)
            nested = [*self.base, *(r for extra in extras for r in self.by_extra.get(extra, []))]
            for expanded in self._expand(nested, seen | set(extras)):
                out.append(_with_marker(expanded, req.marker))
        return list(dict.fromkeys(out))


def _with_marker(req: Requirement, marker: Marker | None) -> Requirement:
    """Return *req* applying only where *marker* holds as well."""
    if marker is None:
        return req
    combined = Requirement(str(req))
    combined.marker = marker if req.marker is None else Marker(f"({req.marker}) and ({marker})")
    return combined


def _index_config(table: Mapping[str, Any], prefix: str, source: str, path: Path) -> IndexConfig:
    """Build an :class:`IndexConfig` from a ``[tool.uv]``-shaped *table*.

    *prefix* is the table's dotted key (``tool.uv``, or ``""`` at the top of
    a ``freewheel.toml``), for messages.
    """
    shown = display_path(path, Path.cwd())
    base_dir = path.parent

    def key(name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    def fail(message: str) -> InputError:
        return InputError(f"In `{shown}`, {message}")

    pip = table.get("pip", {})
    if not isinstance(pip, dict):
        raise fail(f"`[{key('pip')}]` must be a table.")

    def setting(name: str) -> tuple[object, str]:
        if name in pip:
            return pip[name], key(f"pip.{name}")
        return table.get(name), key(name)

    def choice(name: str, allowed: tuple[str, ...]) -> str | None:
        value, where = setting(name)
        if value is not None and value not in allowed:
            options = ", ".join(f"`{option}`" for option in allowed)
            raise fail(f"`{where}` is `{value}`; expected one of {options}.")
        return value

    def strings(name: str) -> tuple[str, ...]:
        value, where = setting(name)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise fail(f"`{where}` must be a list of strings.")
        return tuple(value)

    index_url, where = setting("index-url")
    if index_url is not None and not isinstance(index_url, str):
        raise fail(f"`{where}` must be a string.")
    no_index, where = setting("no-index")
    if no_index is not None and not isinstance(no_index, bool):
        raise fail(f"`{where}` must be `true` or `false`.")
    exclude_newer, where = setting("exclude-newer")
    if isinstance(exclude_newer, datetime.date):
        exclude_newer = exclude_newer.isoformat()
    elif exclude_newer is not None and not isinstance(exclude_newer, str):
        raise fail(f"`{where}` must be a date or a timestamp.")
    environments = strings("environments")
    required_environments = strings("required-environments")
    for name, markers in (("environments", environments), ("required-environments", required_environments)):
        for environment in markers:
            try:
                Marker(environment)
            except InvalidMarker as exc:
                raise fail(
                    f"`{key(name)}` entry `{environment}` is not a valid marker: "
                    f"{str(exc).splitlines()[0]}"
                ) from None
    conflicts = table.get("conflicts", [])
    if not isinstance(conflicts, list):
        raise fail(f"`{key('conflicts')}` must be a list.")

    indexes = _indexes(
        table.get("index", []), key("index"), f"{shown} [{key('index')}]", base_dir, fail
    )
    pins, sources = _sources(table.get("sources", {}), key("sources"), key("index"), indexes, fail)
    return IndexConfig(
        indexes=indexes,
        pins=pins,
        sources=sources,
        index_strategy=choice("index-strategy", INDEX_STRATEGIES),
        index_url=None if index_url is None else location_url(index_url, base_dir),
        extra_index_urls=tuple(location_url(url, base_dir) for url in strings("extra-index-url")),
        find_links=tuple(location_url(url, base_dir) for url in strings("find-links")),
        no_index=no_index,
        prerelease=choice("prerelease", PRERELEASE_MODES),
        resolution=choice("resolution", RESOLUTION_MODES),
        exclude_newer=exclude_newer,
        environments=environments,
        required_environments=required_environments,
        conflicts=tuple(conflicts),
        source=source,
    )


def _indexes(
    entries: object, where: str, origin: str, base_dir: Path, fail: Callable[[str], InputError]
) -> tuple[Index, ...]:
    if not isinstance(entries, list):
        raise fail(f"`[[{where}]]` must be an array of tables.")
    indexes: list[Index] = []
    names: set[str | None] = set()
    for number, entry in enumerate(entries, start=1):
        label = f"`[[{where}]]` entry {number}"
        if not isinstance(entry, dict):
            raise fail(f"{label} must be a table.")
        unknown = sorted(set(entry) - _INDEX_KEYS)
        if unknown:
            raise fail(f"{label}: unknown key `{unknown[0]}`.")
        url = entry.get("url")
        if url is None:
            raise fail(f"{label}: `url` is missing.")
        if not isinstance(url, str):
            raise fail(f"{label}: `url` must be a string.")
        name = entry.get("name")
        if name is not None and (not isinstance(name, str) or not _INDEX_NAME_RE.match(name)):
            raise fail(
                f"{label}: `name` must be a string of letters, digits, `-`, `_` and `.`, "
                f"not `{name}`."
            )
        if name is not None and name in names:
            raise fail(f"{label}: the index name `{name}` is already used by an earlier entry.")
        names.add(name)
        for flag in ("explicit", "default"):
            if not isinstance(entry.get(flag, False), bool):
                raise fail(f"{label}: `{flag}` must be `true` or `false`.")
        if entry.get("explicit") and name is None:
            raise fail(f"{label}: an `explicit` index needs a `name` for sources to refer to.")
        index_format = entry.get("format", "simple")
        if index_format not in ("simple", "flat"):
            raise fail(f"{label}: `format` is `{index_format}`; expected `simple` or `flat`.")
        authenticate = entry.get("authenticate", "auto")
        if authenticate not in _AUTHENTICATE:
            raise fail(
                f"{label}: `authenticate` is `{authenticate}`; "
                "expected `always`, `never` or `auto`."
            )
        api, files = _cache_control(entry.get("cache-control", {}), label, fail)
        indexes.append(
            Index(
                url=location_url(url, base_dir),
                name=name,
                format=index_format,
                explicit=entry.get("explicit", False),
                default=entry.get("default", False),
                origin=origin,
                authenticate=authenticate,
                ignore_error_codes=_error_codes(entry.get("ignore-error-codes", []), label, fail),
                cache_control_api=api,
                cache_control_files=files,
            )
        )
    defaults = [index for index in indexes if index.default]
    if len(defaults) > 1:
        raise fail(f"more than one `[[{where}]]` entry sets `default = true`.")
    return tuple(indexes)


def _error_codes(value: object, label: str, fail: Callable[[str], InputError]) -> frozenset[int]:
    """An index's ``ignore-error-codes``: HTTP statuses, as uv accepts them."""
    # A TOML boolean is a Python int; it is no status code.
    if not isinstance(value, list) or not all(
        isinstance(code, int) and not isinstance(code, bool) and 100 <= code <= 599
        for code in value
    ):
        raise fail(
            f"{label}: `ignore-error-codes` must be a list of HTTP status codes, "
            "such as `[401, 403]`."
        )
    return frozenset(value)


def _cache_control(
    value: object, label: str, fail: Callable[[str], InputError]
) -> tuple[str | None, str | None]:
    """An index's ``cache-control`` table as its ``(api, files)`` header values."""
    if not isinstance(value, dict):
        raise fail(f"{label}: `cache-control` must be a table with keys `api` and `files`.")
    unknown = sorted(set(value) - {"api", "files"})
    if unknown:
        raise fail(
            f"{label}: `cache-control` has an unknown key `{unknown[0]}`; use `api` or `files`."
        )
    for key, header in value.items():
        if not isinstance(header, str):
            raise fail(
                f"{label}: `cache-control.{key}` must be a Cache-Control header value, "
                'such as `"max-age=600"`.'
            )
    return value.get("api"), value.get("files")


def _sources(
    table: object,
    where: str,
    index_where: str,
    indexes: Sequence[Index],
    fail: Callable[[str], InputError],
) -> tuple[dict[NormalizedName, str], dict[NormalizedName, Any]]:
    if not isinstance(table, dict):
        raise fail(f"`[{where}]` must be a table.")
    names = {index.name for index in indexes}
    pins: dict[NormalizedName, str] = {}
    sources: dict[NormalizedName, Any] = {}
    for project, spec in table.items():
        if isinstance(spec, dict) and set(spec) == {"index"}:
            index = spec["index"]
            if index not in names:
                raise fail(
                    f"`[{where}]` pins `{project}` to the index `{index}`, "
                    f"but no `[[{index_where}]]` entry has that name."
                )
            pins[canonicalize_name(project)] = index
        elif isinstance(spec, (dict, list)):
            sources[canonicalize_name(project)] = spec
        else:
            raise fail(f"`[{where}]` entry `{project}` must be a table or an array of tables.")
    return pins, sources
