"""``freewheel lock``: resolve the project for every supported environment
and write ``pylock.toml`` beside its workspace root."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from freewheel.errors import UsageError

if TYPE_CHECKING:
    from freewheel.cli.context import CommandContext
    from freewheel.project.workspace import Workspace
    from freewheel.resolver.result import LockGraph

LOCK_FILE = "pylock.toml"


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli import options

    parser.add_argument("--project", metavar="DIR", help="The project to lock (default: found from the working directory)")
    parser.add_argument(
        "--check",
        "--locked",
        dest="check",
        action="store_true",
        default=None,
        help="Fail if the lock file is missing or would change, without writing it",
    )
    options.add_index_options(parser)
    options.add_resolver_options(parser)
    options.add_global_options(parser)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    from freewheel.cli.context import build_context
    from freewheel.inputs.gather import Gathered
    from freewheel.project.workspace import discover

    started = time.monotonic()
    workspace = discover(Path.cwd(), project=Path(args.project) if args.project else None)
    context = build_context(args, Gathered((), (), (), (), (workspace.root.path,)), pip_section="install")
    graph = update_lock(args, workspace, context, check=bool(args.check))
    if not context.quiet:
        elapsed = (time.monotonic() - started) * 1000
        print(f"Resolved {len(graph.packages)} packages in {elapsed:.0f}ms", file=sys.stderr)
    return 0


def update_lock(args: argparse.Namespace, workspace: Workspace, context: CommandContext, *, check: bool) -> LockGraph:
    """Lock *workspace* and write its ``pylock.toml`` when that changes it.

    With *check*, nothing is written: a lock that is missing or would change
    is an error (``lock --check``, ``sync --locked``).
    """
    from freewheel.lock.pylock import dumps

    graph = lock_workspace(args, workspace, context)
    path = workspace.directory / LOCK_FILE
    text = dumps(graph)
    previous = path.read_text(encoding="utf-8") if path.is_file() else None
    if previous == text:
        return graph
    if check:
        reason = "is missing" if previous is None else "needs to be updated"
        raise UsageError(f"The lock file {path} {reason}; run `freewheel lock`.")
    from freewheel.util.fs import atomic_write_text

    atomic_write_text(path, text)
    return graph


def lock_workspace(args: argparse.Namespace, workspace: Workspace, context: CommandContext) -> LockGraph:
    """Resolve *workspace* for every environment it supports, preferring
    what its lock holds unless *args* ask to upgrade."""
    from freewheel.cli.context import warn
    from freewheel.cli.resolve import (
        ResolveRequest,
        fork_providers,
        hashed_files,
        resolver_session,
        universal_target,
    )
    from freewheel.inputs.gather import Gathered
    from freewheel.project.lock import lock, plan_lock, unused_sources

    gathered = Gathered((), (), (), (), (workspace.root.path,))
    plan = plan_lock(workspace, default_python=context.target.python_version)
    request = ResolveRequest.from_args(
        args, gathered, context, existing_output=None, target=universal_target(plan.requires_python)
    )
    upgrade = {canonicalize_name(name) for name in getattr(args, "upgrade_package", ())}
    preferences = {} if getattr(args, "upgrade", False) else _locked_versions(workspace.directory / LOCK_FILE)
    preferences = {name: version for name, version in preferences.items() if name not in upgrade}
    request = dataclasses.replace(
        request, requirements=dataclasses.replace(request.requirements, preferences=preferences)
    )
    with resolver_session(request, context) as base:
        graph = lock(plan, workspace, fork_providers(request, base.source))
        hashed = hashed_files(base.source, [dist for package in graph.packages for dist in package.files])
    packages = [
        dataclasses.replace(package, files=tuple(hashed[dist.url] for dist in package.files))
        for package in graph.packages
    ]
    graph = dataclasses.replace(graph, packages=tuple(packages))
    for message in unused_sources(workspace, graph):
        warn(message, quiet=context.quiet)
    return graph


def _locked_versions(path: Path) -> dict[NormalizedName, Version]:
    """The versions the existing lock file holds, one per name: the
    previous lock is the preference, so that re-locking keeps them (a lock
    that no longer reads only loses that say)."""
    from freewheel.lock.pylock import PylockError, loads

    try:
        graph = loads(path.read_text(encoding="utf-8"), origin=str(path))
    except (PylockError, OSError, UnicodeDecodeError):
        return {}
    versions: dict[NormalizedName, Version] = {}
    for package in graph.packages:
        versions.setdefault(package.name, package.version)
    return versions
