"""``freewheel lock``: resolve the project for every supported environment
and write ``pylock.toml`` beside its workspace root."""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
from packaging.utils import canonicalize_name

from freewheel.errors import UsageError

if TYPE_CHECKING:
    from freewheel.cli.context import CommandContext
    from freewheel.project.lock import LockPlan
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
    from freewheel.cli import console
    from freewheel.cli.context import build_context
    from freewheel.inputs.gather import Gathered
    from freewheel.project.workspace import discover

    started = time.monotonic()
    workspace = discover(Path.cwd(), project=Path(args.project) if args.project else None)
    context = build_context(args, Gathered((), (), (), (), (workspace.root.path,)), pip_section="install")
    graph = update_lock(args, workspace, context, check=bool(args.check))
    if not context.quiet:
        elapsed = console.duration(time.monotonic() - started)
        print(f"Resolved {console.packages(len(graph.packages))} in {elapsed}", file=sys.stderr)
    return 0


def project_lock(args: argparse.Namespace) -> tuple[LockGraph, Path, Workspace]:
    """The lock of the project *args* name, brought up to date first unless
    ``--frozen`` (``--locked``: it must be up to date already), its path,
    and the project's workspace.

    For the commands that read the lock: ``export`` and ``tree``.
    """
    from freewheel.cli.context import build_context
    from freewheel.inputs.gather import Gathered
    from freewheel.project.sync import lock_file
    from freewheel.project.workspace import discover

    if args.frozen and args.locked:
        raise UsageError("--frozen and --locked exclude each other: --frozen uses the lock without checking it.")
    workspace = discover(Path.cwd(), project=Path(args.project) if args.project else None)
    if not args.frozen:
        context = build_context(args, Gathered((), (), (), (), (workspace.root.path,)), pip_section="install")
        update_lock(args, workspace, context, check=args.locked)
    from freewheel.lock.pylock import loads

    path = lock_file(workspace)
    return loads(path.read_text(encoding="utf-8"), origin=str(path)), path, workspace


def update_lock(args: argparse.Namespace, workspace: Workspace, context: CommandContext, *, check: bool) -> LockGraph:
    """Lock *workspace* and write its ``pylock.toml`` when that changes it.

    A lock made from the same inputs (requirements, sources, indexes,
    settings) is up to date as it is: no index is read, unless *args* ask
    to upgrade. With *check*, nothing is written: a lock that is missing or
    would change is an error (``lock --check``, ``sync --locked``).
    """
    from freewheel.lock.pylock import dumps
    from freewheel.project.lock import fingerprint, plan_lock

    path = workspace.directory / LOCK_FILE
    plan = plan_lock(workspace, default_python=context.target.python_version)
    inputs = fingerprint(plan, workspace, _lock_settings(context))
    previous = _read_lock(path)
    upgrading = getattr(args, "upgrade", False) or getattr(args, "upgrade_package", ())
    if previous is not None and previous.inputs == inputs and not upgrading:
        return previous
    graph = msgspec.structs.replace(lock_workspace(args, workspace, context, plan, previous), inputs=inputs)
    text = dumps(graph)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return graph
    if check:
        reason = "is missing" if previous is None else "needs to be updated"
        raise UsageError(f"The lock file {path} {reason}; run `freewheel lock`.")
    from freewheel.util.fs import atomic_write_text

    atomic_write_text(path, text)
    return graph


def _lock_settings(context: CommandContext) -> list[object]:
    """The settings a lock depends on besides the project's own tables."""
    resolver = context.settings.resolver
    return [
        context.indexes.indexes,
        context.indexes.strategy.value,
        resolver.prerelease.value,
        resolver.resolution.value,
        resolver.exclude_newer.value,
    ]


def lock_workspace(
    args: argparse.Namespace,
    workspace: Workspace,
    context: CommandContext,
    plan: LockPlan,
    previous: LockGraph | None,
) -> LockGraph:
    """Resolve *plan* for every environment *workspace* supports, preferring
    the versions of the *previous* lock unless *args* ask to upgrade."""
    from freewheel.cli.context import warn
    from freewheel.cli import progress
    from freewheel.cli.builds import sdist_builds
    from freewheel.cli.resolve import (
        ResolveRequest,
        fork_providers,
        hashed_files,
        open_cache,
        resolver_session,
        universal_target,
    )
    from freewheel.dists.direct import materialize_all
    from freewheel.inputs.gather import Gathered
    from freewheel.project.lock import lock, locked_source, preferences_within, unused_sources

    gathered = Gathered((), (), (), (), (workspace.root.path,))
    request = ResolveRequest.from_args(
        args, gathered, context, existing_output=None, target=universal_target(plan.requires_python)
    )
    upgrade = {canonicalize_name(name) for name in getattr(args, "upgrade_package", ())}
    if getattr(args, "upgrade", False):
        previous = None
    prefer = None if previous is None else functools.partial(preferences_within, previous, upgrade=upgrade)
    with open_cache(context.settings) as cache:
        found = materialize_all(
            [(source.url, source.name) for source in plan.direct],
            settings=context.settings,
            cache=cache,
            builds=sdist_builds(request.build, context, cache),
        )
        brought = list(zip(plan.direct, found, strict=True))
        request = msgspec.structs.replace(
            request,
            references={s.name: m for s, m in brought if s.condition is None},
            pinned={s.url: m for s, m in brought if s.condition is not None},
        )
        direct = {m.dist.index.url: locked_source(s, m, workspace.directory) for s, m in brought}
        bars = progress.wanted(quiet=bool(context.quiet), no_progress=bool(getattr(args, "no_progress", False)))
        with resolver_session(request, context, cache) as base, progress.Bar("Resolving", None, enabled=bars) as bar:
            providers = fork_providers(request, base.source, prefer, on_examined=bar.advance)
            graph = lock(plan, workspace, providers, previous, direct)
            hashed = hashed_files(base.source, [dist for package in graph.packages for dist in package.files])
    packages = [
        msgspec.structs.replace(package, files=tuple(hashed[dist.url] for dist in package.files))
        for package in graph.packages
    ]
    graph = msgspec.structs.replace(graph, packages=tuple(packages))
    for message in unused_sources(workspace, graph):
        warn(message, quiet=context.quiet)
    return graph


def _read_lock(path: Path) -> LockGraph | None:
    """The existing lock, or ``None`` when there is none or it no longer
    reads (it then only loses its say in which versions are preferred)."""
    from freewheel.lock.pylock import PylockError, loads

    try:
        return loads(path.read_text(encoding="utf-8"), origin=str(path))
    except (PylockError, OSError, UnicodeDecodeError):
        return None
