"""The ``freewheel`` command line.

Parsing lives here; each command is a thin module under :mod:`freewheel.cli`
imported only when it runs, so ``freewheel --version`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from freewheel import __version__
from freewheel.errors import FreewheelError

Command = Callable[[argparse.Namespace, list[str]], int]


def _pip_compile(args: argparse.Namespace, argv: list[str]) -> int:
    from freewheel.cli.pip_compile import pip_compile

    return pip_compile(args, argv[argv.index("compile") + 1 :])


def build_parser() -> argparse.ArgumentParser:
    from freewheel.cli import options

    parser = argparse.ArgumentParser(
        prog="freewheel",
        description="Resolve, lock and install Python packages from many indexes.",
    )
    parser.add_argument("-V", "--version", action="version", version=f"freewheel {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    pip = commands.add_parser("pip", help="pip-compatible commands")
    pip_commands = pip.add_subparsers(dest="pip_command", metavar="COMMAND")

    compile_ = pip_commands.add_parser(
        "compile",
        help="Resolve requirements into a pinned requirements.txt",
        description="Compile requirements.in, pyproject.toml or setup.cfg files into a pinned requirements.txt.",
    )
    compile_.add_argument("src_files", nargs="*", metavar="SRC_FILE", help="requirements.in, pyproject.toml, setup.cfg or - for stdin")
    options.add_requirement_sources(compile_)
    out = compile_.add_argument_group("Output options")
    out.add_argument("-o", "--output-file", help="Write the pinned requirements to this file")
    out.add_argument("--no-header", action="store_true", default=None, help="Leave out the header comment")
    out.add_argument("--no-annotate", action="store_true", default=None, help="Leave out the '# via' comments")
    out.add_argument("--annotation-style", choices=("split", "line"), default=None, help="How to write the '# via' comments")
    out.add_argument("--custom-compile-command", help="The command to name in the header")
    out.add_argument("--generate-hashes", action="store_true", default=None, help="Include the hashes of each package's files")
    out.add_argument("--emit-index-url", action="store_true", default=None, help="Write the index URLs into the output")
    out.add_argument("--emit-find-links", action="store_true", default=None, help="Write the --find-links locations into the output")
    out.add_argument("--emit-index-annotation", action="store_true", default=None, help="Note the index each package came from")
    out.add_argument("--no-strip-extras", action="store_true", default=None, help="Keep extras in the output")
    options.add_index_options(compile_)
    options.add_resolver_options(compile_)
    options.add_python_options(compile_)
    options.add_global_options(compile_)
    compile_.set_defaults(handler=_pip_compile)
    return parser


def run(argv: Sequence[str]) -> int:
    """Run the command line *argv*; return the process exit code."""
    if list(argv) in (["--version"], ["-V"]):
        # The common probe "is it installed" should not pay for building
        # the whole parser.
        print(f"freewheel {__version__}")
        return 0
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Command | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        if args.directory:
            os.chdir(args.directory)
        return handler(args, list(argv))
    except FreewheelError as error:
        _print_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def _print_error(error: FreewheelError) -> None:
    text = f"error: {error.message}"
    if error.hint:
        text += f"\n\nhint: {error.hint}"
    print(text, file=sys.stderr)
