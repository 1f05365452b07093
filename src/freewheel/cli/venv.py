"""``freewheel venv``: create a virtual environment."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli import options

    parser.add_argument(
        "path", nargs="?", default=".venv", metavar="PATH", help="Where to create it (default: .venv)"
    )
    parser.add_argument(
        "-p",
        "--python",
        help="The base interpreter: a version such as 3.12, a path, or a command name "
        "(default: the first python3 or python on PATH outside a virtual environment)",
    )
    parser.add_argument("--prompt", help="The prompt prefix the activation scripts show ('.': the working directory's name)")
    parser.add_argument(
        "--system-site-packages",
        action="store_true",
        default=None,
        help="Give the environment access to the base interpreter's site-packages",
    )
    parser.add_argument(
        "-c", "--clear", action="store_true", default=None, help="Replace an existing virtual environment"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        default=None,
        help="With --clear, also empty a directory that is not a virtual environment",
    )
    parser.add_argument(
        "--seed",
        action="store_true",
        default=None,
        help="Install pip (and, before Python 3.12, setuptools and wheel) from the indexes",
    )
    options.add_index_options(parser)
    options.add_global_options(parser)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    from freewheel.cli.environments import probe_cache_dir
    from freewheel.install.site_packages import read_site_packages
    from freewheel.python.environments import system_interpreter
    from freewheel.python.interpreters import find_python, probe
    from freewheel.python.venv import (
        base_executable,
        create_venv,
        is_virtualenv,
        seed_packages,
    )
    from freewheel.util.fs import display_path

    cwd = Path.cwd()
    with probe_cache_dir(args) as cache_dir:
        if args.python:
            base = probe(find_python(args.python, cwd=cwd, cache_dir=cache_dir), cache_dir=cache_dir)
        else:
            base = system_interpreter(cache_dir=cache_dir)
    root = Path(args.path).expanduser()
    shown = display_path(root.absolute(), cwd)
    implementation = base.markers["platform_python_implementation"]
    _status(args, f"Using {implementation} {base.markers['python_full_version']} interpreter at: {base_executable(base)}")
    _status(args, f"Creating virtual environment {'with seed packages ' if args.seed else ''}at: {shown}")
    clear = bool(args.clear) or (is_virtualenv(root) and _confirm_replace(shown))
    env = create_venv(
        root,
        base,
        prompt=args.prompt,
        system_site_packages=bool(args.system_site_packages),
        clear=clear,
        force=bool(args.force),
    )
    if args.seed:
        _seed(args, env.python, seed_packages(base), shown)
        for dist in read_site_packages([env.site_packages]).distributions:
            _status(args, f" + {dist.name}=={dist.version}")
    _status(args, f"Activate with: source {display_path(env.bin_dir, cwd)}/activate")
    return 0


def _seed(args: argparse.Namespace, python: Path, packages: tuple[str, ...], shown: str) -> None:
    """Resolve and install *packages* as `pip install` would, from the
    indexes the command's options and configuration name."""
    from freewheel.cli.pip_install import install_seed
    from freewheel.errors import FreewheelError

    try:
        install_seed(args, python, packages)
    except FreewheelError as error:
        # As uv: the environment stays, without its seed packages.
        raise FreewheelError(
            f"Could not install the seed packages ({', '.join(packages)}) into {shown}: {error.message}",
            hint=error.hint,
        ) from None


def _status(args: argparse.Namespace, line: str) -> None:
    if not args.quiet:
        print(line, file=sys.stderr)


def _confirm_replace(shown: str) -> bool:
    """Ask on a terminal whether to replace an existing environment, as uv does.

    Without a terminal to ask on, the answer is no and :func:`create_venv`
    explains how to say yes (``--clear``).
    """
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    print(
        f"A virtual environment already exists at {shown}. Do you want to replace it? [Y/n] ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    return input().strip().lower() in ("", "y", "yes")
