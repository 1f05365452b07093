"""The ``--python``/``--system`` options of the ``pip`` commands, and the
environment they name, announced as uv announces it."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from freewheel.cli import console
from freewheel.config.settings import cache_settings, cli_layer, env_layer
from freewheel.python.environments import Environment, environment_lock, find_environment
from freewheel.util.fs import display_path


def add_environment_options(parser: argparse.ArgumentParser, *, mutable: bool) -> None:
    """``--python``, ``--system`` and, for commands that change the
    environment, ``--break-system-packages``."""
    group = parser.add_argument_group("Python options")
    group.add_argument(
        "-p",
        "--python",
        help="The interpreter, or virtual environment directory, to act on "
        "(a path, a version such as 3.12, or a command name)",
    )
    group.add_argument(
        "--system",
        action="store_true",
        default=None,
        help="Use the first Python on PATH instead of a virtual environment",
    )
    if mutable:
        group.add_argument(
            "--break-system-packages",
            action="store_true",
            default=None,
            help="Allow changing an externally managed (PEP 668) interpreter's packages",
        )


@contextlib.contextmanager
def probe_cache_dir(args: argparse.Namespace) -> Iterator[Path | None]:
    """Where interpreter descriptions are cached for a command's
    ``--cache-dir``; with ``--no-cache``, a directory removed afterwards."""
    cache = cache_settings([cli_layer(args), env_layer(os.environ)])
    if cache.no_cache.value:
        with tempfile.TemporaryDirectory(prefix="freewheel-cache-") as directory:
            yield Path(directory)
    else:
        yield cache.directory.value


def environment_from_args(args: argparse.Namespace, *, mutable: bool) -> Environment:
    """The environment for a command's options, announced as uv does.

    ``FREEWHEEL_PYTHON`` stands in for ``--python``. Unless ``-q``, stderr
    names the environment when it is neither the active one nor the
    ``.venv`` of the working directory, so that acting on another
    environment never goes unnoticed.
    """
    cwd = Path.cwd()
    with probe_cache_dir(args) as cache_dir:
        environment = find_environment(
            python=args.python or os.environ.get("FREEWHEEL_PYTHON") or None,
            system=bool(args.system),
            cwd=cwd,
            break_system_packages=bool(getattr(args, "break_system_packages", False)),
            mutable=mutable,
            cache_dir=cache_dir,
        )
    expected = {cwd / ".venv"}
    if os.environ.get("VIRTUAL_ENV"):
        expected.add(Path(os.environ["VIRTUAL_ENV"]).absolute())
    if not args.quiet and environment.root not in expected:
        print(
            f"Using Python {environment.python_version} environment at: "
            f"{display_path(environment.root, cwd)}",
            file=sys.stderr,
        )
    return environment


@contextlib.contextmanager
def changing(environment: Environment, *, quiet: int) -> Iterator[None]:
    """Hold *environment*'s lock while a command changes it, after finishing
    what a killed command left half done there (said unless ``-q``)."""
    from freewheel.install.transaction import finish_interrupted

    with environment_lock(environment.root):
        finished = finish_interrupted(environment.root)
        if finished and not quiet:
            console.warn(finished)
        yield
