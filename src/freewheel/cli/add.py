"""``freewheel add``: add requirements to the project, then lock and sync."""

from __future__ import annotations

import argparse
import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName
from packaging.version import Version


def add_edit_options(parser: argparse.ArgumentParser) -> None:
    """Where the requirements go (``--dev``, ``--optional``, ``--group``),
    and the lock and sync steps after the edit, as uv's ``add``/``remove``."""
    from freewheel.cli import options
    from freewheel.cli.sync import add_lock_options

    where = parser.add_mutually_exclusive_group()
    where.add_argument("--dev", action="store_true", help="The `dev` dependency group")
    where.add_argument("--optional", metavar="EXTRA", help="This optional dependency group (extra)")
    where.add_argument("--group", help="This dependency group")
    add_lock_options(parser)
    parser.add_argument("--no-sync", action="store_true", help="Do not sync the environment afterwards")
    parser.add_argument_group("Python options").add_argument(
        "-p", "--python", help="The interpreter to create the project environment with"
    )
    options.add_index_options(parser)
    options.add_resolver_options(parser)
    options.add_global_options(parser)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("packages", nargs="+", metavar="PACKAGE", help="Requirements, or paths of local projects")
    parser.add_argument("--editable", action="store_true", help="Add local projects as editable")
    parser.add_argument(
        "--raw", action="store_true", help="Add the requirements as given, without a lower bound from the lock"
    )
    parser.add_argument("--extra", action="append", default=[], help="Enable this extra of the added packages")
    parser.add_argument("-m", "--marker", help="Add the requirements only where this marker holds")
    add_edit_options(parser)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    from freewheel.cli.remove import target_of
    from freewheel.cli.sync import relock, sync_after_edit
    from freewheel.project.edit import add_requirements, edit_project, with_lower_bound
    from freewheel.project.workspace import discover

    workspace = discover(Path.cwd(), project=Path(args.project) if args.project else None)
    project = workspace.project
    target = target_of(args)
    requirements, sources = _requirements(args.packages, project.root, editable=args.editable)
    requirements = [_narrowed(r, args.extra, args.marker) for r in requirements]
    index, index_source = _index(args.index, project)
    if index is None:
        # `--index NAME` names an index the project configures already: it
        # is no URL to add for the lock.
        args.index = []
    if index_source is not None:
        sources.update({r.name: index_source for r in requirements if r.name not in sources})

    def edit(text: str, versions: Mapping[NormalizedName, Version]) -> str:
        bounded = [
            with_lower_bound(r, versions[r.name]) if r.name in versions and not args.raw else r
            for r in requirements
        ]
        return add_requirements(
            text, bounded, target=target, sources=sources, index=index,
            settings_table=project.settings_table, shown=str(project.path),
        )

    lock = relock(args)
    edit_project(project.path, edit, lock=lock, bound=not args.raw)
    sync_after_edit(args, lock)
    return 0


def _requirements(
    packages: list[str], root: Path, *, editable: bool
) -> tuple[list[Any], dict[NormalizedName, dict[str, Any]]]:
    """The requirements *packages* name, and the path sources of local projects among them."""
    import os

    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    from freewheel.errors import UsageError
    from freewheel.project.config import read_project_config

    requirements, sources = [], {}
    for package in packages:
        path = Path(package)
        if package.startswith((".", "/", "~")) or os.sep in package and path.exists():
            directory = path.expanduser().absolute()
            if not (directory / "pyproject.toml").is_file():
                raise UsageError(f"{package} is not a project directory: it has no pyproject.toml.")
            name = read_project_config(directory / "pyproject.toml").name
            if name is None:
                raise UsageError(f"{package} has no `[project]` name to depend on.")
            requirements.append(Requirement(name))
            relative = Path(os.path.relpath(directory, root)).as_posix()
            sources[name] = {"path": relative, **({"editable": True} if editable else {})}
            continue
        if editable:
            raise UsageError(f"--editable needs the path of a local project, not `{package}`.")
        try:
            requirement = Requirement(package)
        except InvalidRequirement as error:
            raise UsageError(f"`{package}` is not a valid requirement: {str(error).splitlines()[0]}") from None
        requirement.name = canonicalize_name(requirement.name)
        requirements.append(requirement)
    return requirements, sources


def _index(values: list[str], project: Any) -> tuple[Any, dict[str, str] | None]:
    """The ``[[index]]`` to add and the source pinning the added packages to
    it, from ``--index NAME=URL`` (a new index) or ``--index NAME`` (one the
    project defines)."""
    from freewheel.errors import UsageError
    from freewheel.project.edit import NewIndex

    if not values:
        return None, None
    if len(values) > 1:
        raise UsageError("Give --index once: the added packages are pinned to that one index.")
    name, sep, url = values[0].partition("=")
    if sep and name and "/" not in name and "://" not in name:
        return NewIndex(name, url), {"index": name}
    if any(index.name == values[0] for index in project.index.indexes):
        return None, {"index": values[0]}
    raise UsageError(
        f"--index {values[0]} names no `[[index]]` of the project; sources need a named index.",
        hint="pass --index NAME=URL to add one",
    )


def _narrowed(requirement: Any, extras: list[str], marker: str | None) -> Any:
    """*requirement* with *extras* enabled and only where *marker* holds (``--extra``, ``--marker``)."""
    from packaging.markers import InvalidMarker, Marker

    from freewheel.errors import UsageError

    narrowed = copy.copy(requirement)
    narrowed.extras = set(requirement.extras) | set(extras)
    if marker is not None:
        try:
            parsed = Marker(marker)
        except InvalidMarker as error:
            raise UsageError(f"--marker `{marker}` is not a valid marker: {str(error).splitlines()[0]}") from None
        narrowed.marker = parsed if requirement.marker is None else Marker(f"({requirement.marker}) and ({marker})")
    return narrowed
