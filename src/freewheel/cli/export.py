"""``freewheel export``: the project's lock as a ``requirements.txt`` or a
``pylock.toml`` of one selection of extras and groups, or as a wheelhouse
(its files, with both)."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from freewheel.errors import UsageError

if TYPE_CHECKING:
    from freewheel.index.models import DistFile
    from freewheel.resolver.result import LockGraph

FORMATS = ("requirements.txt", "pylock.toml", "wheelhouse")


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli import options, sync

    parser.add_argument("--format", choices=FORMATS, default="requirements.txt", help="The format to export to")
    parser.add_argument("-o", "--output-file", help="Write the export to this file instead of standard output")
    parser.add_argument("--no-hashes", action="store_true", help="Leave out the hashes of each package's files")
    parser.add_argument("--no-header", action="store_true", help="Leave out the header comment")
    house = parser.add_argument_group("Wheelhouse options (--format wheelhouse)")
    house.add_argument("--dest", metavar="DIR", help="The directory to fill with the selection's files")
    house.add_argument("--sdists", action="store_true", help="Also download the sdists")
    house.add_argument("--prune", action="store_true", help="Remove the wheels and sdists the selection does not list")
    house.add_argument("--index-html", action="store_true", help="Write an index.html of the directory's files")
    sync.add_selection_options(parser)
    sync.add_lock_options(parser)
    options.add_index_options(parser)
    options.add_resolver_options(parser)
    options.add_global_options(parser)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    from freewheel.cli.lock import project_lock
    from freewheel.cli.sync import selection_of
    from freewheel.lock.pylock import dumps
    from freewheel.lock.requirements_txt import EXPORT_OPTIONS, render_lock
    from freewheel.lock.selection import select
    from freewheel.project.sync import chosen_extras_and_groups, read_pylock

    wheelhouse_flags = args.sdists or args.prune or args.index_html
    if (args.format == "wheelhouse") != (args.dest is not None) or (wheelhouse_flags and args.dest is None):
        raise UsageError("--format wheelhouse and --dest DIR go together (with --sdists, --prune, --index-html).")
    if args.format == "wheelhouse" and args.output_file:
        raise UsageError("--format wheelhouse writes into --dest; leave out -o.")
    graph, path, workspace = project_lock(args)
    extras, groups = chosen_extras_and_groups(read_pylock(path), selection_of(args), path.name, root=workspace.root)
    command = " ".join(["freewheel", "export", *(shlex.quote(a) for a in argv)])
    if args.format == "wheelhouse":
        return _wheelhouse(args, graph, extras, groups, path, command)
    if args.format == "pylock.toml":
        text = dumps(select(graph, extras=extras, groups=groups), command=None if args.no_header else command)
    else:
        options = msgspec.structs.replace(
            EXPORT_OPTIONS, header=not args.no_header, command=command, hashes=not args.no_hashes
        )
        text = render_lock(graph, options, extras=extras, groups=groups)
    if args.output_file:
        from freewheel.util.fs import atomic_write_text

        try:
            atomic_write_text(Path(args.output_file), text)
        except OSError as error:
            raise UsageError(f"Could not write {args.output_file}: {error.strerror or error}.") from None
    else:
        sys.stdout.write(text)
    return 0



def _wheelhouse(
    args: argparse.Namespace,
    graph: LockGraph,
    extras: Sequence[str],
    groups: Sequence[str],
    lock_path: Path,
    command: str,
) -> int:
    """Every wheel (with ``--sdists``, every sdist) the selection lists, for
    every environment it supports, into ``--dest``, with the selection as
    ``pylock.toml`` and as a ``requirements.txt`` with hashes beside them."""
    from freewheel.cli import progress
    from freewheel.cli.context import build_context
    from freewheel.cli.resolve import open_cache
    from freewheel.dists import wheelhouse
    from freewheel.inputs.gather import Gathered
    from freewheel.lock.pylock import dumps
    from freewheel.lock.requirements_txt import EXPORT_OPTIONS, render_lock
    from freewheel.lock.selection import select
    from freewheel.project.sync import fetch_wheels
    from freewheel.util.fs import atomic_write_text, display_path

    dest = Path(args.dest)
    wheelhouse.prepare(dest)
    selected = select(graph, extras=extras, groups=groups)
    context = build_context(args, Gathered((), (), (), (), (lock_path.parent / "pyproject.toml",)), pip_section="download")
    files = [f for package in selected.packages for f in package.files if f.kind == "wheel" or args.sdists]
    bars = progress.wanted(quiet=bool(context.quiet), no_progress=bool(args.no_progress))
    cache = open_cache(context.settings)
    try:

        def fetch(wanted: Sequence[tuple[DistFile, Collection[str]]]) -> list[Path]:
            with progress.Bar("Downloading", len(wanted), enabled=bars) as bar:
                return fetch_wheels([dist for dist, _ in wanted], context.settings, cache, on_done=bar.advance)

        placed, pruned = wheelhouse.fill(dest, files, fetch, prune_others=args.prune, write_index=args.index_html)
    finally:
        cache.close()
    header = None if args.no_header else command
    atomic_write_text(dest / "pylock.toml", dumps(selected, command=header))
    options = msgspec.structs.replace(EXPORT_OPTIONS, header=not args.no_header, command=command, hashes=True)
    atomic_write_text(dest / "requirements.txt", render_lock(graph, options, extras=extras, groups=groups))
    if not context.quiet:
        print(wheelhouse.summary(placed, pruned, display_path(dest.resolve(), context.cwd)), file=sys.stderr)
    return 0
