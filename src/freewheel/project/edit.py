"""Adding and removing a project's requirements in ``pyproject.toml``, as uv edits it.

The file is edited with ``tomlkit``, so its formatting and comments stay
as they are: only the list that changes is rewritten (one requirement a
line, as uv writes them), and sources and indexes are added as uv adds
them. A requirement already listed under the same name is replaced; a new
one goes where it keeps a sorted list sorted, else at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import msgspec
import tomlkit
import tomlkit.exceptions
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from tomlkit.items import Array, Table

from freewheel.errors import InputError, UsageError


class Target(msgspec.Struct, frozen=True):
    """Which list of requirements to edit: the project's ``dependencies``,
    an ``optional`` dependency set (an extra) or a dependency ``group``."""

    kind: Literal["dependencies", "optional", "group"] = "dependencies"
    name: NormalizedName | None = None

    @property
    def key(self) -> str:
        """The dotted key of the list, as messages name it."""
        if self.kind == "optional":
            return f"project.optional-dependencies.{self.name}"
        if self.kind == "group":
            return f"dependency-groups.{self.name}"
        return "project.dependencies"


class NewIndex(msgspec.Struct, frozen=True):
    """An ``[[index]]`` entry to add unless one of that *name* exists."""

    name: str
    url: str


def add_requirements(
    text: str,
    requirements: Sequence[Requirement],
    *,
    target: Target,
    sources: Mapping[NormalizedName, Mapping[str, Any]] = {},
    index: NewIndex | None = None,
    settings_table: str | None = None,
    shown: str = "pyproject.toml",
) -> str:
    """*text* (a ``pyproject.toml``) with *requirements* added to *target*.

    *sources* are written into the sources table of *settings_table*
    (``tool.freewheel`` or ``tool.uv``; ``tool.uv`` when ``None``), and
    *index* into its ``[[index]]`` entries.
    """
    document = _parse(text, shown)
    array = _target_array(document, target, create=True, shown=shown)
    for requirement in requirements:
        _put(array, requirement)
    if sources or index is not None:
        settings = _settings(document, settings_table)
        if index is not None:
            entries = settings.get("index")
            if entries is None:
                entries = tomlkit.aot()
                settings.append("index", entries)
            if not any(entry.get("name") == index.name for entry in entries):
                entry = tomlkit.table()
                entry.update({"name": index.name, "url": index.url})
                entry.add(tomlkit.nl())
                entries.append(entry)
        if sources:
            table = settings.get("sources")
            created = table is None
            table = tomlkit.table() if table is None else table
            for name, source in sources.items():
                key = next((k for k in table if canonicalize_name(k) == name), name)
                table[key] = _inline(source)
            if created:
                _append_table(settings, "sources", table)
    return _dumps(document)


def remove_requirements(
    text: str,
    names: Sequence[str],
    *,
    target: Target,
    settings_table: str | None = None,
    shown: str = "pyproject.toml",
) -> str:
    """*text* without the requirements on *names* in *target*, and without
    the sources of those no other list requires.

    :raises UsageError: naming a package *target* does not list, and where
        it is listed instead.
    """
    document = _parse(text, shown)
    array = _target_array(document, target, create=False, shown=shown)
    for name in names:
        wanted = canonicalize_name(name)
        positions = [i for i, item in enumerate(array or ()) if _name_of(item) == wanted]
        if not positions:
            elsewhere = [t.key for t in _targets(document) if t != target and _listed(document, t, wanted)]
            raise UsageError(
                f"The dependency `{name}` could not be found in `{target.key}`.",
                hint=f"`{name}` is listed in `{elsewhere[0]}`" if elsewhere else None,
            )
        assert array is not None
        for position in reversed(positions):
            del array[position]
        if not array:
            # What is left is the layout of the removed lines: uv writes `[]`.
            array.clear()
        if not any(_listed(document, t, wanted) for t in _targets(document)):
            settings = _settings(document, settings_table, create=False)
            sources = settings.get("sources")
            for key in [k for k in sources or () if canonicalize_name(k) == wanted]:
                del sources[key]
            if sources is not None and not sources:
                del settings["sources"]
    return _dumps(document)


def with_lower_bound(requirement: Requirement, version: Version) -> Requirement:
    """*requirement* bounded below by *version*, as ``uv add`` writes it,
    unless it has a version specifier or a URL already."""
    if requirement.specifier or requirement.url:
        return requirement
    bounded = Requirement(str(requirement))
    bounded.specifier = bounded.specifier & f">={version}"
    return bounded


def format_requirement(requirement: Requirement) -> str:
    """*requirement* as ``uv add`` writes it: the normalized name, and the
    marker in single quotes, so that TOML needs no escapes."""
    text = canonicalize_name(requirement.name)
    if requirement.extras:
        text += f"[{','.join(sorted(requirement.extras))}]"
    if requirement.url:
        text += f" @ {requirement.url}"
        if requirement.marker:
            text += " "
    text += str(requirement.specifier)
    if requirement.marker:
        text += f"; {str(requirement.marker).replace(chr(34), chr(39))}"
    return text


def _inline(values: Mapping[str, Any]) -> Any:
    """*values* as an inline table spaced as uv writes it: ``{ index = "name" }``."""
    body = ", ".join(f"{key} = {tomlkit.item(value).as_string()}" for key, value in values.items())
    return tomlkit.parse(f"x = {{ {body} }}\n")["x"]


def _append_table(parent: Any, key: str, table: Table) -> None:
    """Append the filled *table*, with a blank line before whatever follows."""
    table.add(tomlkit.nl())
    parent.append(key, table)


def _dumps(document: tomlkit.TOMLDocument) -> str:
    # A table appended last ends in the blank line meant to separate it.
    return tomlkit.dumps(document).rstrip("\n") + "\n"


def _parse(text: str, shown: str) -> tomlkit.TOMLDocument:
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise InputError(f"`{shown}` is not valid TOML: {exc}.") from None


def _settings(document: tomlkit.TOMLDocument, prefix: str | None, *, create: bool = True) -> Table:
    """The ``[tool.*]`` table settings go into."""
    tool = document.get("tool")
    if tool is None:
        if not create:
            return tomlkit.table()
        tool = tomlkit.table(is_super_table=True)
        document.append("tool", tool)
    name = (prefix or "tool.uv").removeprefix("tool.")
    table = tool.get(name)
    if table is None:
        if not create:
            return tomlkit.table()
        table = tomlkit.table(is_super_table=True)
        tool.append(name, table)
    return table


def _target_array(
    document: tomlkit.TOMLDocument, target: Target, *, create: bool, shown: str
) -> Array | None:
    key = "dependencies" if target.kind == "dependencies" else target.name
    assert key is not None
    if target.kind == "group":
        holder, table_key = document, "dependency-groups"
    else:
        project = document.get("project")
        if project is None:
            raise UsageError(f"`{shown}` has no `[project]` table to add dependencies to.")
        holder, table_key = project, "optional-dependencies"
    parent = holder if target.kind == "dependencies" else holder.get(table_key)
    if parent is None:
        if not create:
            return None
        parent = tomlkit.table()
        parent[key] = tomlkit.array()
        _append_table(holder, table_key, parent)
    existing = next((k for k in parent if canonicalize_name(k) == canonicalize_name(key)), None)
    if existing is None:
        if not create:
            return None
        parent[key] = tomlkit.array()
        existing = key
    array = parent[existing]
    if not isinstance(array, Array):
        raise InputError(f"In `{shown}`, `{target.key}` must be a list of requirements.")
    return array


def _name_of(item: object) -> NormalizedName | None:
    if not isinstance(item, str):
        return None  # an include-group table
    try:
        return canonicalize_name(Requirement(item).name)
    except ValueError:
        return None


def _put(array: Array, requirement: Requirement) -> None:
    """Replace the entry on the same package (with the same marker), or
    insert *requirement* where it keeps a sorted list sorted."""
    name = canonicalize_name(requirement.name)
    text = format_requirement(requirement)
    for position, item in enumerate(array):
        if _name_of(item) == name and Requirement(str(item)).marker == requirement.marker:
            array[position] = text
            array.multiline(True)
            return
    names = [_name_of(item) or "" for item in array]
    position = len(array)
    if names == sorted(names):
        position = next((i for i, other in enumerate(names) if other > name), len(array))
    array.insert(position, text)
    # uv writes one requirement a line.
    array.multiline(True)


def _targets(document: tomlkit.TOMLDocument) -> list[Target]:
    project = document.get("project", {})
    targets = [Target()]
    targets += [Target("optional", canonicalize_name(e)) for e in project.get("optional-dependencies", {})]
    targets += [Target("group", canonicalize_name(g)) for g in document.get("dependency-groups", {})]
    return targets


def _listed(document: tomlkit.TOMLDocument, target: Target, name: NormalizedName) -> bool:
    array = _target_array(document, target, create=False, shown="")
    return any(_name_of(item) == name for item in array or ())



def edit_project(
    pyproject: Path,
    edit: Callable[[str, Mapping[NormalizedName, Version]], str],
    *,
    lock: Callable[[], Path] | None,
    bound: bool,
) -> None:
    """Rewrite *pyproject* with *edit*, then relock with *lock* (unless ``None``).

    *edit* gets the file's text and the locked versions: none at first;
    with *bound*, after locking, each package's locked version, to write
    ``>=`` bounds from, and the project is locked again. When locking fails,
    the file is put back as it was, as uv does.
    """
    from freewheel.project.sync import read_pylock
    from freewheel.util.fs import atomic_write_text

    original = pyproject.read_text(encoding="utf-8")
    atomic_write_text(pyproject, edit(original, {}))
    if lock is None:
        return
    try:
        lock_path = lock()
        if bound:
            versions = {
                package.name: package.version
                for package in read_pylock(lock_path).packages
                if package.version is not None
            }
            atomic_write_text(pyproject, edit(original, versions))
            lock()
    except BaseException:
        atomic_write_text(pyproject, original)
        raise
