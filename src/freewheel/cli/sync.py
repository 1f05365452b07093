"""``freewheel sync``: make the project environment exactly what the lock selects."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from freewheel.project.sync import Scope, Selection, SyncResult
    from freewheel.project.workspace import Workspace


def add_selection_options(parser: argparse.ArgumentParser) -> None:
    """The options that choose what of the lock to install, as uv's."""
    group = parser.add_argument_group("Selection options")
    group.add_argument("--extra", action="append", default=[], help="Include this optional dependency group")
    group.add_argument("--all-extras", action="store_true", help="Include every optional dependency group")
    group.add_argument("--no-dev", action="store_true", help="Leave out the `dev` dependency group")
    group.add_argument("--only-dev", action="store_true", help="Only the `dev` dependency group, not the project")
    group.add_argument("--group", action="append", default=[], help="Include this dependency group")
    group.add_argument("--no-group", action="append", default=[], help="Leave out this dependency group")
    group.add_argument("--no-default-groups", action="store_true", help="Leave out the default groups")
    group.add_argument(
        "--only-group", action="append", default=[], help="Only this dependency group, not the project's dependencies"
    )
    group.add_argument("--all-groups", action="store_true", help="Include every dependency group")
    group.add_argument(
        "--no-install-project", action="store_true", help="Do not install the project itself, only its dependencies"
    )


def add_package_options(parser: argparse.ArgumentParser) -> None:
    """Which workspace members to install for (``sync``, ``run``), as uv's."""
    which = parser.add_argument_group("Workspace options").add_mutually_exclusive_group()
    which.add_argument(
        "--package", metavar="NAME", help="Act on this workspace member instead of the project around the working directory"
    )
    which.add_argument("--all-packages", action="store_true", help="Act on every workspace member")


def selection_of(args: argparse.Namespace) -> Selection:
    """The selection the options of :func:`add_selection_options` ask for."""
    from freewheel.project.sync import Selection

    return Selection(
        extras=tuple(args.extra),
        all_extras=args.all_extras,
        groups=tuple(args.group),
        no_groups=tuple(args.no_group),
        no_dev=args.no_dev,
        only_groups=(*args.only_group, *(["dev"] if args.only_dev else [])),
        all_groups=args.all_groups,
        no_default_groups=args.no_default_groups,
        install_project=not args.no_install_project,
    )


def add_lock_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("Lock options")
    # As in uv: one cannot both check the lock and skip checking it.
    either = group.add_mutually_exclusive_group()
    either.add_argument(
        "--locked", action="store_true", help="Assert that the lock is up to date; fail instead of updating it"
    )
    either.add_argument("--frozen", action="store_true", help="Use the lock as it is, without checking it")
    group.add_argument(
        "--project", metavar="DIR", help="The project to act on, instead of the one around the working directory"
    )


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli import options
    from freewheel.install import LINK_MODES

    add_selection_options(parser)
    add_package_options(parser)
    add_lock_options(parser)
    group = parser.add_argument_group("Installer options")
    group.add_argument("--inexact", action="store_true", help="Keep packages the lock does not select")
    group.add_argument("--dry-run", action="store_true", help="Show what would change, change nothing")
    group.add_argument("--reinstall", action="store_true", default=None, help="Reinstall everything")
    group.add_argument(
        "--reinstall-package", action="append", default=[], metavar="PACKAGE", help="Reinstall this package"
    )
    group.add_argument("--link-mode", choices=LINK_MODES, help="How files get from the cache into the environment")
    group.add_argument(
        "--compile-bytecode", action="store_true", default=None, help="Compile installed modules to bytecode"
    )
    parser.add_argument_group("Python options").add_argument(
        "-p", "--python", help="The interpreter to create the project environment with"
    )
    options.add_index_options(parser)
    options.add_resolver_options(parser)
    options.add_global_options(parser)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    sync(args)
    return 0


def sync(args: argparse.Namespace) -> Path:
    """Sync the project environment as *args* say (``sync``, and ``run``
    before running); return the environment's directory."""
    from packaging.utils import canonicalize_name

    from freewheel.cli import console, progress
    from freewheel.cli.builds import build_request, sdist_builds
    from freewheel.cli.context import build_context
    from freewheel.cli.environments import probe_cache_dir
    from freewheel.cli.pip_install import _COPY_FALLBACK
    from freewheel.cli.resolve import open_cache
    from freewheel.inputs.gather import Gathered
    from freewheel.project.sync import (
        lock_file,
        project_environment,
        read_pylock,
        select_installs,
        sync_environment,
    )
    from freewheel.project.workspace import discover
    from freewheel.util.fs import display_path

    quiet = bool(args.quiet)
    cwd = Path.cwd()
    workspace = discover(cwd, project=Path(args.project) if args.project else None)
    with probe_cache_dir(args) as cache_dir:
        environment, base = project_environment(workspace, python=args.python, cache_dir=cache_dir)
    if base is not None:
        _say(quiet, f"Using Python {environment.python_version} interpreter at: {base.executable}")
        _say(quiet, f"Creating virtual environment at: {display_path(environment.root, cwd)}")
    gathered = Gathered((), (), (), (), (workspace.root.path,))
    context = build_context(args, gathered, pip_section="install", interpreter=environment.interpreter)
    selection = selection_of(args)
    bars = progress.wanted(quiet=quiet, no_progress=bool(args.no_progress))
    with open_cache(context.settings) as cache:
        if not args.frozen:
            from freewheel.cli.lock import update_lock

            started = time.monotonic()
            graph = update_lock(args, workspace, context, check=args.locked)
            resolved = console.duration(time.monotonic() - started)
            _say(quiet, f"Resolved {console.packages(len(graph.packages))} in {resolved}")
        lock_path = lock_file(workspace)
        installs = select_installs(
            read_pylock(lock_path),
            selection,
            lock_path=lock_path,
            markers=environment.interpreter.markers,
            tags=context.target.tags,
            scope=scope_of(args, workspace),
        )
        reinstall = True if args.reinstall else {canonicalize_name(n) for n in args.reinstall_package}
        result = sync_environment(
            environment,
            installs,
            settings=context.settings,
            cache=cache,
            exact=not args.inexact,
            reinstall=reinstall,
            dry_run=args.dry_run,
            link_mode=args.link_mode,
            compile_bytecode=bool(args.compile_bytecode),
            on_copy_fallback=lambda: console.warn(_COPY_FALLBACK),
            bar=lambda description, total: progress.Bar(description, total, enabled=bars),
            on_finished=lambda message: None if quiet else console.warn(message),
            builds=sdist_builds(build_request(args, context), context, cache),
        )
    _report(result, dry_run=args.dry_run, quiet=quiet)
    return environment.root


def scope_of(args: argparse.Namespace, workspace: Workspace) -> Scope:
    """The workspace projects *args* ask for: ``--package NAME``, every
    one (``--all-packages``, or a virtual workspace root), else the
    project around the working directory.

    :raises UsageError: when ``--package`` names no member.
    """
    from packaging.utils import canonicalize_name

    from freewheel.errors import UsageError
    from freewheel.project.sync import Scope
    every = workspace.projects()
    if args.package is not None:
        name = canonicalize_name(args.package)
        member = workspace.members.get(name)
        if member is None:
            known = ", ".join(f"`{m}`" for m in workspace.members) or "none"
            raise UsageError(
                f"The workspace at {workspace.directory} has no member named `{args.package}` "
                f"(--package); its members: {known}."
            )
        return Scope((member,), workspace.members, everything=len(every) == 1, project=name, root=workspace.root)
    virtual_root = workspace.project is workspace.root and workspace.root.name is None
    if args.all_packages or virtual_root or len(every) == 1:
        return Scope(tuple(every), workspace.members, everything=True, project=workspace.project.name, root=workspace.root)
    return Scope(
        (workspace.project,), workspace.members, everything=False, project=workspace.project.name, root=workspace.root
    )


def _report(result: SyncResult, *, dry_run: bool, quiet: bool) -> None:
    """uv's summary: what was prepared and installed, then `` - old`` / `` + new`` lines."""
    from freewheel.cli import console

    changes = result.plan
    if changes.empty:
        _say(quiet, f"Audited {console.packages(len(changes.unchanged))} in {console.duration(result.prepared)}")
        return
    if dry_run:
        _say(quiet, "Would change:")
        added = [(item.name, item.version, item.directory) for item in changes.install]
    else:
        built = len(result.installed)
        _say(quiet, f"Prepared {console.packages(built)} in {console.duration(result.prepared)}")
        _say(quiet, f"Installed {console.packages(built)} in {console.duration(result.applied)}")
        added = list(result.installed)
    lines = [(name, 0, f" - {name}=={result.before[name]}") for name in changes.remove]
    for name, version, directory in added:
        shown = f"{name}=={version}" if version is not None else name
        lines.append((name, 1, f" + {shown}" + (f" (from {directory.as_uri()})" if directory else "")))
    for _, _, line in sorted(lines):
        _say(quiet, line)


def _say(quiet: bool, line: str) -> None:
    if not quiet:
        print(line, file=sys.stderr)


def sync_args(args: argparse.Namespace, *, selection: bool) -> argparse.Namespace:
    """Arguments for :func:`sync` from another command's *args*: what both
    take is carried over, the rest is sync's default. Only with *selection*
    (``run``) are ``--extra``, ``--group``... carried: ``add`` and ``remove``
    spell other things with them."""
    parser = argparse.ArgumentParser(add_help=False)
    configure(parser)
    defaults = parser.parse_args([])
    chooser = argparse.ArgumentParser(add_help=False)
    add_selection_options(chooser)
    skipped = set() if selection else set(vars(chooser.parse_args([])))
    shared = {
        key: value for key, value in vars(args).items() if hasattr(defaults, key) and key not in skipped
    }
    vars(defaults).update(shared)
    return defaults


def relock(args: argparse.Namespace) -> Callable[[], Path] | None:
    """What ``add`` and ``remove`` call to lock the edited project, as
    ``freewheel lock`` does, or ``None`` with ``--frozen``."""
    if args.frozen:
        return None

    def run_lock() -> Path:
        from freewheel.cli.context import build_context
        from freewheel.cli.lock import update_lock
        from freewheel.inputs.gather import Gathered
        from freewheel.project.sync import lock_file
        from freewheel.project.workspace import discover

        workspace = discover(Path.cwd(), project=Path(args.project) if args.project else None)
        context = build_context(args, Gathered((), (), (), (), (workspace.root.path,)), pip_section="install")
        update_lock(args, workspace, context, check=bool(args.locked))
        return lock_file(workspace)

    return run_lock


def sync_after_edit(args: argparse.Namespace, lock: Callable[[], Path] | None) -> None:
    """Sync after ``add`` or ``remove`` locked the project, unless ``--no-sync``."""
    if lock is not None and not args.no_sync:
        after = sync_args(args, selection=False)
        after.frozen = True
        sync(after)
