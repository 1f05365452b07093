"""``freewheel pip compile``: requirements in, a pinned requirements.txt out."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from packaging.specifiers import SpecifierSet

from freewheel.cli import console
from freewheel.cli.context import CommandContext, prepare_network, start_context, warn
from freewheel.errors import UsageError
from freewheel.inputs.gather import gather
from freewheel.util.fs import atomic_write_text

# Options uv leaves out of the header because they say where packages came
# from (and may carry credentials), unless the matching --emit-* is given.
_INDEX_FLAGS = {"--index", "--default-index", "-i", "--index-url", "--extra-index-url"}
_FIND_LINKS_FLAGS = {"-f", "--find-links"}
_QUIET_FLAGS = {"-q", "--quiet", "-v", "--verbose", "--no-progress"}
_VALUE_FLAGS = _INDEX_FLAGS | _FIND_LINKS_FLAGS


def header_command(argv: list[str], *, emit_index_url: bool, emit_find_links: bool) -> str:
    """The command line as the header shows it."""
    dropped = set(_QUIET_FLAGS)
    if not emit_index_url:
        dropped |= _INDEX_FLAGS
    if not emit_find_links:
        dropped |= _FIND_LINKS_FLAGS
    kept: list[str] = []
    skip_value = False
    for arg in argv:
        if skip_value:
            skip_value = False
            continue
        flag, eq, _ = arg.partition("=")
        quiet_or_verbose = arg[:1] == "-" and arg[1:2] not in ("", "-") and set(arg[1:]) <= {"q", "v"}
        if flag in dropped or quiet_or_verbose:
            skip_value = flag in _VALUE_FLAGS and not eq
            continue
        kept.append(arg)
    return " ".join(["freewheel", "pip", "compile", *(shlex.quote(a) for a in kept)])


def configure(parser: argparse.ArgumentParser) -> None:
    from freewheel.cli import options

    parser.add_argument(
        "src_files", nargs="*", metavar="SRC_FILE", help="requirements.in, pyproject.toml, setup.cfg, setup.py or - for stdin"
    )
    options.add_requirement_sources(parser)
    out = parser.add_argument_group("Output options")
    out.add_argument("-o", "--output-file", help="Write the pinned requirements to this file")
    out.add_argument("--no-header", action="store_true", default=None, help="Leave out the header comment")
    out.add_argument("--no-annotate", action="store_true", default=None, help="Leave out the '# via' comments")
    out.add_argument(
        "--annotation-style", choices=("split", "line"), default=None, help="How to write the '# via' comments"
    )
    out.add_argument("--custom-compile-command", help="The command to name in the header")
    out.add_argument(
        "--generate-hashes", action="store_true", default=None, help="Include the hashes of each package's files"
    )
    out.add_argument("--emit-index-url", action="store_true", default=None, help="Write the index URLs into the output")
    out.add_argument(
        "--emit-find-links", action="store_true", default=None, help="Write the --find-links locations into the output"
    )
    out.add_argument(
        "--emit-index-annotation", action="store_true", default=None, help="Note the index each package came from"
    )
    out.add_argument("--no-strip-extras", action="store_true", default=None, help="Keep extras in the output")
    parser.add_argument(
        "--universal",
        action="store_true",
        default=None,
        help="Resolve for every platform and every Python from --python-version up, writing markers",
    )
    options.add_index_options(parser)
    options.add_resolver_options(parser)
    options.add_python_options(parser)
    options.add_global_options(parser)


def main(args: argparse.Namespace, argv: list[str]) -> int:
    started = time.monotonic()
    if not args.src_files and not args.group:
        raise UsageError(
            "No requirements given: name a requirements.in, pyproject.toml, setup.cfg or setup.py "
            "file, or - to read requirements from standard input."
        )
    sources = args.src_files or ["pyproject.toml"]
    gathered = gather(
        sources,
        constraints=args.constraints,
        overrides=args.overrides,
        extras=args.extra,
        all_extras=bool(args.all_extras),
        groups=args.group,
    )
    pending = start_context(args, gathered, pip_section="install")
    prepare_network(pending.settings)
    # Imported while the certificates load and the interpreter describes
    # itself, beside them (a tenth of a second each).
    from freewheel.cli.resolve import (
        ResolveRequest,
        open_lookups,
        run_resolution,
        run_universal,
        universal_target,
        walk_ahead,
    )
    from freewheel.lock.requirements_txt import OutputOptions, render
    from freewheel.resolver.resolution import yanked_warnings

    output_path = Path(args.output_file) if args.output_file else None
    if output_path is not None and output_path.is_dir():
        raise UsageError(f"The output file {args.output_file} is a directory; name a file with -o.")
    with open_lookups(pending.settings) as lookups:
        # The direct requirements' pages do not depend on the target: they
        # are read while the interpreter still describes itself, and so is
        # what the running interpreter, the likely target, would need.
        lookups.prefetch(gathered.requirements)
        walked = None if args.universal else walk_ahead(args, gathered, pending, lookups, existing_output=output_path)
        context: CommandContext = pending.finish()
        if args.universal:
            if args.python_platform:
                raise UsageError("--universal resolves for every platform; leave out --python-platform.")
            requires_python = SpecifierSet(
                f">={context.target.python_version.major}.{context.target.python_version.minor}"
            )
            request = ResolveRequest.from_args(
                args, gathered, context, existing_output=output_path, target=universal_target(requires_python)
            )
            pins = run_universal(request, context, requires_python, lookups)
        else:
            request = ResolveRequest.from_args(args, gathered, context, existing_output=output_path)
            pins = run_resolution(request, context, lookups, walked)

    options = OutputOptions(
        header=not args.no_header,
        command=args.custom_compile_command
        or header_command(argv, emit_index_url=bool(args.emit_index_url), emit_find_links=bool(args.emit_find_links)),
        annotate=not args.no_annotate,
        annotation_style=args.annotation_style or "split",
        hashes=bool(args.generate_hashes),
        strip_extras=not args.no_strip_extras,
        emit_index_url=bool(args.emit_index_url),
        emit_find_links=bool(args.emit_find_links),
        emit_index_annotation=bool(args.emit_index_annotation),
    )
    text = render(pins, context.indexes.indexes, options)
    if output_path is not None:
        try:
            atomic_write_text(output_path, text)
        except OSError as error:
            raise UsageError(f"Could not write {args.output_file}: {error.strerror or error}.") from None
    # As uv: -q silences status lines; the result still goes to standard
    # output unless it also went to a file.
    if not context.quiet or output_path is None:
        sys.stdout.write(text)
    if not context.quiet:
        elapsed = console.duration(time.monotonic() - started)
        print(f"Resolved {console.packages(len(pins))} in {elapsed}", file=sys.stderr)
    for message in yanked_warnings(pins):
        warn(message, quiet=context.quiet)
    return 0
