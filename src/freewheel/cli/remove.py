"""``freewheel remove``: remove requirements from the project, then lock and sync."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName
from packaging.version import Version

if TYPE_CHECKING:
    from freewheel.project.edit import Target


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli.add import add_edit_options

    parser.add_argument("packages", nargs="+", metavar="PACKAGE", help="Names of the requirements to remove")
    add_edit_options(parser)


def target_of(args: argparse.Namespace) -> Target:
    """The list ``--dev``, ``--optional`` or ``--group`` names (the
    project's dependencies by default)."""
    from packaging.utils import canonicalize_name

    from freewheel.project.edit import Target

    if args.dev:
        return Target("group", canonicalize_name("dev"))
    if args.optional:
        return Target("optional", canonicalize_name(args.optional))
    if args.group:
        return Target("group", canonicalize_name(args.group))
    return Target()


def main(args: argparse.Namespace, argv: list[str]) -> int:
    from pathlib import Path

    from freewheel.cli.sync import relock, sync_after_edit
    from freewheel.project.edit import edit_project, remove_requirements
    from freewheel.project.workspace import discover

    workspace = discover(Path.cwd(), project=Path(args.project) if args.project else None)
    project = workspace.project
    target = target_of(args)

    def edit(text: str, versions: Mapping[NormalizedName, Version]) -> str:
        return remove_requirements(
            text, args.packages, target=target, settings_table=project.settings_table, shown=str(project.path)
        )

    lock = relock(args)
    edit_project(project.path, edit, lock=lock, bound=False)
    sync_after_edit(args, lock)
    return 0
