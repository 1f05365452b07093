"""``[tool.uv.sources]`` (or ``[tool.freewheel.sources]``), read with uv's meaning.

A package's source says where it comes from instead of the indexes: one
named index, a URL, a local path, a git repository or another member of the
workspace. A package may have one source, or a list of them told apart by
``marker``, ``extra`` or ``group`` (``torch`` from a CPU index with the
``cpu`` extra and from a CUDA index with ``cu124``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import msgspec
from packaging.markers import InvalidMarker, Marker
from packaging.utils import NormalizedName, canonicalize_name

from freewheel.errors import InputError
from freewheel.resolver.markers import MarkerTree


class SourceCondition(msgspec.Struct, frozen=True, kw_only=True):
    """When a source applies: where *marker* holds, and only with *extra*
    (an optional dependency set) or *group* (a dependency group) selected.
    ``None`` fields do not restrict."""

    marker: Marker | None = None
    extra: NormalizedName | None = None
    group: NormalizedName | None = None


class IndexSource(SourceCondition, frozen=True, kw_only=True):
    """``{ index = "name" }``: only from the ``[[index]]`` named *index*."""

    index: str


class UrlSource(SourceCondition, frozen=True, kw_only=True):
    """``{ url = "..." }``: a wheel or sdist at *url* (*subdirectory* inside an sdist)."""

    url: str
    subdirectory: str | None = None


class PathSource(SourceCondition, frozen=True, kw_only=True):
    """``{ path = "..." }``: a local project directory or file, *path* absolute.

    *editable* and *package* are as written (``None`` when not given).
    """

    path: Path
    editable: bool | None = None
    package: bool | None = None


class GitSource(SourceCondition, frozen=True, kw_only=True):
    """``{ git = "..." }``: a git repository at one of *rev*, *tag* or
    *branch* (its default branch when none is given)."""

    git: str
    rev: str | None = None
    tag: str | None = None
    branch: str | None = None
    subdirectory: str | None = None


class WorkspaceSource(SourceCondition, frozen=True, kw_only=True):
    """``{ workspace = true }``: the workspace member of that name."""

    editable: bool | None = None


Source = IndexSource | UrlSource | PathSource | GitSource | WorkspaceSource

_KINDS = ("git", "url", "path", "index", "workspace")
_CONDITIONS = ("marker", "extra", "group")
# The keys each kind takes besides its own and the conditions; uv's set.
_OPTIONS: Mapping[str, tuple[str, ...]] = {
    "git": ("rev", "tag", "branch", "subdirectory", "lfs"),
    "url": ("subdirectory",),
    "path": ("editable", "package"),
    "index": (),
    "workspace": ("editable",),
}
_KNOWN = (*_KINDS, *sorted({o for options in _OPTIONS.values() for o in options}), *_CONDITIONS)


def parse_sources(
    table: Mapping[str, Any],
    *,
    where: str,
    shown: str,
    base_dir: Path,
    index_names: Collection[str],
    extras: Collection[NormalizedName],
    groups: Collection[NormalizedName],
) -> dict[NormalizedName, tuple[Source, ...]]:
    """The sources table *table* (at the dotted key *where* in the file
    *shown*), typed and checked.

    Paths are made absolute against *base_dir*. Sources naming an index must
    name one of *index_names*; those restricted to an extra or a group must
    name one of *extras* or *groups*; the entries of a list for one extra or
    group must not overlap.

    :raises InputError: naming the file and the key of the first wrong entry.
    """

    def fail(key: str, message: str) -> InputError:
        return InputError(f"In `{shown}`, `{key}` {message}")

    sources: dict[NormalizedName, tuple[Source, ...]] = {}
    for project, spec in table.items():
        key = f"{where}.{project}"
        entries = spec if isinstance(spec, list) else [spec]
        if not entries:
            raise fail(key, "is an empty list; give at least one source.")
        parsed = tuple(
            _source(entry, f"{key}[{number}]" if isinstance(spec, list) else key, base_dir, fail)
            for number, entry in enumerate(entries)
        )
        for number, source in enumerate(parsed):
            at = f"{key}[{number}]" if isinstance(spec, list) else key
            if isinstance(source, IndexSource) and source.index not in index_names:
                raise fail(
                    at,
                    f"names the index `{source.index}`, but no `[[{where.rsplit('.', 1)[0]}.index]]` "
                    "entry has that name; define it, or correct the name.",
                )
            if source.extra is not None and source.extra not in extras:
                raise fail(at, f"applies to the extra `{source.extra}`, which `[project.optional-dependencies]` does not define.")
            if source.group is not None and source.group not in groups:
                raise fail(at, f"applies to the dependency group `{source.group}`, which `[dependency-groups]` does not define.")
        _check_disjoint(parsed, key, fail)
        sources[canonicalize_name(project)] = parsed
    return sources


def _source(entry: object, key: str, base_dir: Path, fail: Callable[[str, str], InputError]) -> Source:
    if not isinstance(entry, dict):
        raise fail(key, "must be a table, such as `{ index = \"name\" }`.")
    unknown = sorted(set(entry) - set(_KNOWN))
    if unknown:
        expected = ", ".join(f"`{k}`" for k in _KNOWN)
        raise fail(key, f"has an unknown key `{unknown[0]}`; expected one of {expected}.")
    kinds = [kind for kind in _KINDS if kind in entry]
    if not kinds:
        raise fail(key, "names no source: set one of `git`, `url`, `path`, `index` or `workspace`.")
    if len(kinds) > 1:
        raise fail(key, f"sets both `{kinds[0]}` and `{kinds[1]}`; a source is one of them.")
    kind = kinds[0]
    for option in entry:
        if option not in (kind, *_OPTIONS[kind], *_CONDITIONS):
            raise fail(key, f"sets `{option}`, which a `{kind}` source does not take.")
    revisions = [name for name in ("rev", "tag", "branch") if name in entry]
    if len(revisions) > 1:
        raise fail(key, f"sets both `{revisions[0]}` and `{revisions[1]}`; give at most one.")
    for name, value in entry.items():
        if name in ("editable", "package", "lfs", "workspace"):
            if not isinstance(value, bool):
                raise fail(key, f"sets `{name}` to `{value}`; it must be `true` or `false`.")
        elif not isinstance(value, str):
            raise fail(key, f"sets `{name}` to `{value}`; it must be a string.")
    if "extra" in entry and "group" in entry:
        raise fail(key, "sets both `extra` and `group`; a source applies to one of them.")
    condition: dict[str, Any] = {
        "marker": _marker(entry.get("marker"), key, fail),
        "extra": canonicalize_name(entry["extra"]) if "extra" in entry else None,
        "group": canonicalize_name(entry["group"]) if "group" in entry else None,
    }
    if kind == "index":
        return IndexSource(index=entry["index"], **condition)
    if kind == "url":
        return UrlSource(url=entry["url"], subdirectory=entry.get("subdirectory"), **condition)
    if kind == "path":
        return PathSource(
            path=Path(os.path.normpath(base_dir.absolute() / entry["path"])),
            editable=entry.get("editable"),
            package=entry.get("package"),
            **condition,
        )
    if kind == "git":
        return GitSource(
            git=entry["git"],
            rev=entry.get("rev"),
            tag=entry.get("tag"),
            branch=entry.get("branch"),
            subdirectory=entry.get("subdirectory"),
            **condition,
        )
    if not entry["workspace"]:
        raise fail(key, "sets `workspace = false`; remove the source, or set `workspace = true`.")
    return WorkspaceSource(editable=entry.get("editable"), **condition)


def _marker(text: str | None, key: str, fail: Callable[[str, str], InputError]) -> Marker | None:
    if text is None:
        return None
    try:
        return Marker(text)
    except InvalidMarker as exc:
        raise fail(f"{key}.marker", f"is not a valid marker: `{text}`: {str(exc).splitlines()[0]}") from None


def _check_disjoint(
    sources: tuple[Source, ...], key: str, fail: Callable[[str, str], InputError]
) -> None:
    """Two sources for the same selection must not both apply anywhere:
    which one wins would be a guess (uv refuses such lists too)."""
    for first in range(len(sources)):
        for second in range(first + 1, len(sources)):
            a, b = sources[first], sources[second]
            if (a.extra, a.group) != (b.extra, b.group):
                continue
            if MarkerTree.from_marker(a.marker).is_disjoint(MarkerTree.from_marker(b.marker)):
                continue
            raise fail(
                key,
                f"has sources {first} and {second} that both apply where "
                f"`{a.marker or 'always'}` and `{b.marker or 'always'}` hold; "
                "give each a `marker` that excludes the other's.",
            )
