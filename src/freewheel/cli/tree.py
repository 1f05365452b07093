"""``freewheel tree``: the project's locked dependency tree."""

from __future__ import annotations

import argparse
import sys

from freewheel.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli import options, sync

    parser.add_argument("-d", "--depth", type=int, default=None, help="How deep to draw the tree")
    parser.add_argument("--invert", action="store_true", help="Show what depends on each package")
    parser.add_argument(
        "--package", action="append", default=[], help="Start the tree at this package instead of the roots"
    )
    sync.add_lock_options(parser)
    options.add_index_options(parser)
    options.add_resolver_options(parser)
    options.add_global_options(parser)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    from packaging.utils import canonicalize_name

    from freewheel.cli.lock import project_lock
    from freewheel.lock.tree import render

    if args.depth is not None and args.depth < 0:
        raise UsageError("--depth takes a number of levels, 0 or more.")
    graph, _, _ = project_lock(args)
    roots = None
    if args.package:
        wanted = [canonicalize_name(name) for name in args.package]
        locked = {package.name for package in graph.packages}
        missing = [name for name in wanted if name not in locked]
        if missing:
            raise UsageError(f"{missing[0]} is not in the lock.")
        roots = list(dict.fromkeys((p.name, p.version) for name in wanted for p in graph.packages if p.name == name))
    sys.stdout.write(render(graph, roots=roots, invert=args.invert, depth=args.depth))
    return 0
