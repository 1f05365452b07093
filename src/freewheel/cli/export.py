"""``freewheel export``: the project's lock as a ``requirements.txt`` or a
``pylock.toml`` of one selection of extras and groups."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path

from freewheel.errors import UsageError

FORMATS = ("requirements.txt", "pylock.toml")


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli import options, sync

    parser.add_argument("--format", choices=FORMATS, default="requirements.txt", help="The format to export to")
    parser.add_argument("-o", "--output-file", help="Write the export to this file instead of standard output")
    parser.add_argument("--no-hashes", action="store_true", help="Leave out the hashes of each package's files")
    parser.add_argument("--no-header", action="store_true", help="Leave out the header comment")
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

    graph, path = project_lock(args)
    extras, groups = chosen_extras_and_groups(read_pylock(path), selection_of(args), path.name)
    command = " ".join(["freewheel", "export", *(shlex.quote(a) for a in argv)])
    if args.format == "pylock.toml":
        text = dumps(select(graph, extras=extras, groups=groups), command=None if args.no_header else command)
    else:
        options = dataclasses.replace(
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

