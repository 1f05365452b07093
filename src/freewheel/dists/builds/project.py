"""What a source tree says about building it: its ``[build-system]`` table
(PEP 518/517), and its metadata when ``[project]`` gives it statically
(PEP 621), so that no build is needed to know what it requires."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from freewheel.errors import FreewheelError, UsageError

# What pip and uv assume for a project without pyproject.toml, or without a
# [build-system] table: setuptools' own PEP 517 shim for setup.py projects.
LEGACY_REQUIRES = ("setuptools>=40.8.0",)
LEGACY_BACKEND = "setuptools.build_meta:__legacy__"


class BuildError(FreewheelError):
    """A distribution could not be built, or its build could not be set up.

    Not a :class:`~freewheel.errors.MetadataError`: the resolver passes over
    a version whose metadata is merely unavailable, but a build that fails
    stops the command, naming the package, as uv does, rather than leave
    the reason inside the explanation of a failed resolution.
    """


class BuildSystem(msgspec.Struct, frozen=True):
    """A project's ``[build-system]``: what to install, and which backend to call."""

    requires: tuple[Requirement, ...]
    backend: str
    backend_path: tuple[str, ...] = ()


def check_project(path: Path) -> Path:
    """*path* as a project directory, or a clear error."""
    project = path.resolve()
    if not project.is_dir() or not (
        (project / "pyproject.toml").is_file() or (project / "setup.py").is_file()
    ):
        raise UsageError(
            f"{path} is not a Python project directory: it has no pyproject.toml or setup.py."
        )
    return project


def _pyproject(tree: Path) -> dict[str, Any] | None:
    import tomllib  # only a build reads a project: resolving from pages needs none

    path = tree / "pyproject.toml"
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise BuildError(f"The pyproject.toml of {tree} cannot be read: {error}.") from None


def build_system(tree: Path) -> BuildSystem:
    """The build system of the source tree at *tree* (PEP 517's defaults when it names none)."""
    data = _pyproject(tree)
    table = (data or {}).get("build-system")
    if table is None:
        if data is not None and not (tree / "setup.py").is_file() and not (tree / "setup.cfg").is_file():
            raise BuildError(
                f"{tree} has a pyproject.toml without a [build-system] table, and no setup.py: "
                "there is nothing to build it with."
            )
        return BuildSystem(tuple(Requirement(r) for r in LEGACY_REQUIRES), LEGACY_BACKEND)
    if not isinstance(table, dict):
        raise BuildError(f"In the pyproject.toml of {tree}, [build-system] must be a table.")
    requires = table.get("requires")
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        raise BuildError(f"In the pyproject.toml of {tree}, build-system.requires must be a list of strings.")
    try:
        parsed = tuple(Requirement(r) for r in requires)
    except InvalidRequirement as error:
        raise BuildError(f"In the pyproject.toml of {tree}, build-system.requires is invalid: {error}") from None
    backend = table.get("build-backend")
    if backend is None:
        # PEP 517: a [build-system] without a backend means setuptools' legacy one.
        return BuildSystem(parsed, LEGACY_BACKEND)
    path = table.get("backend-path", [])
    if not isinstance(backend, str) or not isinstance(path, list):
        raise BuildError(f"In the pyproject.toml of {tree}, build-system.build-backend must be a string.")
    return BuildSystem(parsed, backend, tuple(str(p) for p in path))


def static_metadata(tree: Path) -> bytes | None:
    """The core metadata the ``[project]`` table of *tree* gives without a
    build, as ``METADATA`` text, or ``None`` when a field the resolver needs
    is dynamic or the table is absent or malformed.

    PEP 621: a field not listed in ``dynamic`` is what the build will
    produce, so a static name, version, dependencies, optional
    dependencies and Requires-Python are the final ones.
    """
    try:
        data = _pyproject(tree)
    except BuildError:
        return None
    project = (data or {}).get("project")
    if not isinstance(project, dict):
        return None
    dynamic = project.get("dynamic", [])
    wanted = {"version", "dependencies", "optional-dependencies", "requires-python"}
    if not isinstance(dynamic, list) or wanted & set(dynamic):
        return None
    try:
        lines = ["Metadata-Version: 2.2", f"Name: {project['name']}", f"Version: {Version(project['version'])}"]
        python = project.get("requires-python")
        if python is not None:
            lines.append(f"Requires-Python: {SpecifierSet(python)}")
        lines += [f"Requires-Dist: {Requirement(r)}" for r in project.get("dependencies", [])]
        for extra, items in project.get("optional-dependencies", {}).items():
            lines.append(f"Provides-Extra: {canonicalize_name(extra)}")
            marker = f'extra == "{canonicalize_name(extra)}"'
            for item in items:
                requirement = Requirement(item)
                requirement.marker = Marker(f"({requirement.marker}) and {marker}" if requirement.marker else marker)
                lines.append(f"Requires-Dist: {requirement}")
    except (KeyError, TypeError, AttributeError, InvalidRequirement, InvalidVersion, InvalidSpecifier, InvalidMarker):
        # A malformed table: the backend will say what is wrong with it.
        return None
    return ("\n".join(lines) + "\n\n").encode()
