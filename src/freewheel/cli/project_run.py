"""``freewheel run``: sync the project environment, then run a command in it.

As ``uv run``, the sync keeps packages the lock does not select (pass
``--exact`` to remove them), and the command runs with the environment's
``bin`` first on ``PATH`` and ``VIRTUAL_ENV`` set; its exit code is
``run``'s. A ``--`` before the command ends ``run``'s options; a later one
is the command's.
"""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli import options
    from freewheel.cli.sync import add_lock_options, add_package_options, add_selection_options

    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND", help="The command and its arguments")
    add_selection_options(parser)
    add_package_options(parser)
    add_lock_options(parser)
    parser.add_argument("--no-sync", action="store_true", help="Run without syncing the environment first")
    parser.add_argument("--exact", action="store_true", help="Remove packages the lock does not select")
    parser.add_argument_group("Python options").add_argument(
        "-p", "--python", help="The interpreter to create the project environment with"
    )
    options.add_index_options(parser)
    options.add_global_options(parser)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    import os
    import subprocess
    from pathlib import Path

    from freewheel.cli.sync import sync, sync_args
    from freewheel.errors import UsageError
    from freewheel.project.workspace import discover

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise UsageError("Name a command to run, such as `freewheel run python -V`.")
    if args.no_sync:
        workspace = discover(Path.cwd(), project=Path(args.project) if args.project else None)
        root = workspace.directory / ".venv"
        if not (root / "pyvenv.cfg").is_file():
            raise UsageError(
                f"The project has no environment at {root} yet.", hint="run without --no-sync to create it"
            )
    else:
        before = sync_args(args, selection=True)
        before.inexact = not args.exact
        root = sync(before)
    environ = dict(os.environ)
    environ["VIRTUAL_ENV"] = str(root)
    environ["PATH"] = os.pathsep.join([str(root / "bin"), environ.get("PATH", "")])
    environ.pop("PYTHONHOME", None)
    try:
        return subprocess.run(command, env=environ, check=False).returncode
    except FileNotFoundError:
        raise UsageError(
            f"`{command[0]}` was not found in the project environment or on PATH.",
            hint="add the package that provides it with `freewheel add`",
        ) from None
