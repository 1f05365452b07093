"""``freewheel cache dir|clean|prune``: show and shrink the cache."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

DEFAULT_OFFLINE_DAYS = 30.0


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli import options

    commands = parser.add_subparsers(dest="cache_command", metavar="COMMAND", required=True)
    directory = commands.add_parser(
        "dir", help="Print the cache directory", description="Print the cache directory.", allow_abbrev=False
    )
    clean = commands.add_parser(
        "clean",
        help="Remove the whole cache, or the entries of some packages",
        description="Remove the whole cache, or the entries of some packages.",
        allow_abbrev=False,
    )
    clean.add_argument("packages", nargs="*", metavar="PACKAGE", help="Only remove the entries of these packages")
    prune = commands.add_parser(
        "prune",
        help="Remove what no command will use",
        description="Remove what no command will use: files left by interrupted writes and unpacks, "
        "cache formats of older freewheel versions, damaged entries, and copies of "
        "responses the server forbade caching (kept for --offline) once they are old.",
        allow_abbrev=False,
    )
    prune.add_argument(
        "--offline-days",
        type=float,
        default=DEFAULT_OFFLINE_DAYS,
        metavar="DAYS",
        help=f"Remove offline-only copies older than this many days (default: {DEFAULT_OFFLINE_DAYS:g})",
    )
    for command in (directory, clean, prune):
        command.add_argument("--cache-dir", help="Path to the cache directory")
        options.add_global_options(command, cache=False, network=False)


def format_size(size: int) -> str:
    """*size* bytes for people: ``512 B``, ``1.5 KiB``, ``3.2 MiB``."""
    if size < 1024:
        return f"{size} B"
    amount = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        amount /= 1024
        if amount < 1024:
            break
    return f"{amount:.1f} {unit}"


def main(args: argparse.Namespace, argv: list[str]) -> int:
    from freewheel.cache import cache_root

    root = cache_root(args.cache_dir, os.environ)
    if args.cache_command == "dir":
        print(root)
        return 0
    if args.cache_command == "clean":
        return _clean(root, args.packages, quiet=args.quiet)
    return _prune(root, args.offline_days, quiet=args.quiet)


def _report(text: str, quiet: int) -> None:
    if not quiet:
        print(text, file=sys.stderr)


def _removed(files: int, size: int) -> str:
    return f"{files} file{'' if files == 1 else 's'} ({format_size(size)})"


def _clean(root: Path, packages: list[str], *, quiet: int) -> int:
    from packaging.utils import InvalidName, canonicalize_name

    from freewheel.cache.maintenance import clean
    from freewheel.errors import UsageError

    names = []
    for package in packages:
        try:
            names.append(canonicalize_name(package, validate=True))
        except InvalidName:
            raise UsageError(f"{package!r} is not a valid package name.") from None
    if not root.is_dir():
        _report(f"No cache found at {root}", quiet)
        return 0
    removal = clean(root, names)
    if not names:
        _report(f"Cleared the cache at {root}: removed {_removed(removal.files, removal.bytes)}", quiet)
    elif removal.files:
        _report(f"Removed {_removed(removal.files, removal.bytes)} for {', '.join(names)}", quiet)
    else:
        _report(f"No cache entries found for {', '.join(names)}", quiet)
    return 0


def _prune(root: Path, offline_days: float, *, quiet: int) -> int:
    from freewheel.cache.maintenance import prune
    from freewheel.errors import UsageError

    if offline_days < 0:
        raise UsageError(f"--offline-days {offline_days:g} is negative; give a number of days of 0 or more.")
    if not root.is_dir():
        _report(f"No cache found at {root}", quiet)
        return 0
    pruned = prune(root, offline_max_age=offline_days * 86400, now=time.time())
    total = pruned.total
    if not total.files:
        _report(f"Nothing to prune in the cache at {root}", quiet)
        return 0
    _report(f"Pruned the cache at {root}: removed {_removed(total.files, total.bytes)}", quiet)
    for removal, reason in (
        (pruned.temporary, "left by interrupted writes and unpacks"),
        (pruned.old_buckets, "in the formats of older freewheel versions"),
        (pruned.undecodable, "damaged"),
        (pruned.offline_copies, f"offline-only copies older than {offline_days:g} days"),
    ):
        if removal.files:
            _report(f"  {_removed(removal.files, removal.bytes)}: {reason}", quiet)
    return 0
