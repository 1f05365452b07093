"""The ``freewheel`` command line.

Each command is a module under :mod:`freewheel.cli` with two functions:
``configure(parser)`` adds its arguments, ``main(args, argv)`` runs it
(``argv`` is what followed the command's name, for output headers). Command
modules import their heavy dependencies inside ``main``, so building the
parser stays cheap and ``freewheel --version`` fast.

The top layer: may import anything; nothing imports it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from freewheel import __version__
from freewheel.cli import console
from freewheel.errors import FreewheelError, UsageError

# The exit code of a failure freewheel did not foresee: that of any other
# error, so that scripts never take a crash for "no solution" (1).
UNEXPECTED_EXIT_CODE = 2

# (words, module, help): the command line ``freewheel WORDS...`` runs MODULE.
# A module never takes the name of a function of this package (``run``):
# importing it would replace that function on the package.
COMMANDS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("pip", "compile"), "pip_compile", "Resolve requirements into a pinned requirements.txt"),
    (("pip", "install"), "pip_install", "Install packages into an environment"),
    (("pip", "download"), "pip_download", "Download distributions for one or many targets into a directory"),
    (("pip", "wheel"), "pip_wheel", "Build wheels of packages and their dependencies into a directory"),
    (("pip", "sync"), "pip_sync", "Make an environment exactly a pinned set of packages"),
    (("pip", "uninstall"), "pip_uninstall", "Remove packages from an environment"),
    (("pip", "list"), "pip_list", "List installed packages"),
    (("pip", "freeze"), "pip_freeze", "List installed packages as requirements"),
    (("pip", "show"), "pip_show", "Show information about installed packages"),
    (("pip", "check"), "pip_check", "Check that installed packages have compatible dependencies"),
    (("add",), "add", "Add requirements to the project"),
    (("remove",), "remove", "Remove requirements from the project"),
    (("run",), "project_run", "Run a command in the project environment, synced first"),
    (("lock",), "lock", "Lock the project's dependencies for every supported environment in pylock.toml"),
    (("sync",), "sync", "Make the project environment exactly what the lock selects"),
    (("export",), "export", "Export the project's lock as requirements.txt or pylock.toml"),
    (("tree",), "tree", "Show the project's locked dependency tree"),
    (("venv",), "venv", "Create a virtual environment"),
    (("cache",), "cache", "Inspect and clean the cache"),
    (("explain",), "explain", "Show which index offered what for a package, and why each version was taken or rejected"),
)


def selected(argv: Sequence[str]) -> tuple[str, ...] | None:
    """The words of the command *argv* runs, if it names one."""
    words = tuple(a for a in argv if not a.startswith("-"))
    for command, _, _ in COMMANDS:
        if words[: len(command)] == command:
            return command
    return None


def build_parser(
    argv: Sequence[str] | None = None,
) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser | None]:
    """The parser for *argv*, and that of the command it runs (``None`` when
    it names none): only that command is configured (and its module
    imported); the others are listed with their help. Without *argv*, every
    command is configured."""
    chosen = selected(argv) if argv is not None else None
    # No abbreviated options, as in uv: '--extra x' must not pass for
    # '--extra-index-url x' where a command has no --extra.
    parser = argparse.ArgumentParser(
        prog="freewheel",
        description="Resolve, lock and install Python packages from many indexes.",
        allow_abbrev=False,
    )
    parser.add_argument("-V", "--version", action="version", version=f"freewheel {__version__}")
    groups: dict[tuple[str, ...], argparse._SubParsersAction] = {
        (): parser.add_subparsers(dest="command", metavar="COMMAND")
    }
    chosen_parser = None
    for words, module_name, help_text in COMMANDS:
        for depth in range(1, len(words)):
            prefix = words[:depth]
            if prefix not in groups:
                group_parser = groups[words[: depth - 1]].add_parser(
                    prefix[-1], help=f"{prefix[-1]} commands", allow_abbrev=False
                )
                groups[prefix] = group_parser.add_subparsers(metavar="COMMAND")
        command = groups[words[:-1]].add_parser(
            words[-1], help=help_text, description=help_text + ".", allow_abbrev=False
        )
        if argv is None or words == chosen:
            module = importlib.import_module(f"freewheel.cli.{module_name}")
            module.configure(command)
            command.set_defaults(handler=module.main, words=words)
            if words == chosen:
                chosen_parser = command
    return parser, chosen_parser


def _describe_interpreter_ahead(argv: list[str]) -> None:
    """Start describing the interpreter ``pip compile`` will likely resolve
    for, the one discovery finds, while the command's modules import: a
    pyenv shim is run anew each time (its choice depends on the directory
    and pyenv's settings), and takes a tenth of a second, as the imports do.
    A command line that may name another interpreter (``--python``, or
    ``--directory``, from which discovery would start), or asks for help,
    is left alone; settings that name one only cost the guess's process."""
    if argv[:2] != ["pip", "compile"] or os.environ.get("FREEWHEEL_PYTHON"):
        return
    for arg in argv[2:]:
        if arg.partition("=")[0] in ("--python", "--directory", "--help") or arg.startswith(("-p", "-h")):
            return
    from pathlib import Path

    from freewheel.python.interpreters import find_python, probe_ahead

    try:
        probe_ahead(find_python(None, cwd=Path.cwd()))
    except Exception:  # only a guess: the command meets the same error where it is reported
        pass


def run(argv: Sequence[str]) -> int:
    """Run the command line *argv*; return the process exit code."""
    argv = list(argv)
    if argv in (["--version"], ["-V"]):
        # The common probe "is it installed" should not pay for building
        # the whole parser.
        print(f"freewheel {__version__}")
        return 0
    _describe_interpreter_ahead(argv)
    parser, command = build_parser(argv)
    words = selected(argv) or ()
    if command is not None and tuple(argv[: len(words)]) == words:
        args = _parse_command(command, argv[len(words) :])
    else:
        args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    rest = argv[_after_words(argv, args.words) :]
    console.set_color(getattr(args, "color", None))
    try:
        if getattr(args, "directory", None):
            _change_directory(args.directory)
        return handler(args, rest)
    except FreewheelError as error:
        _print_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        print(console.prefixed("error", "interrupted"), file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``freewheel pip list | head``): not an error
        # worth a traceback. Point stdout at devnull so the interpreter's
        # final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as error:  # the net under every command: see _print_unexpected
        _print_unexpected(error, verbose=bool(getattr(args, "verbose", 0)))
        return UNEXPECTED_EXIT_CODE


def _parse_command(command: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """*argv* parsed by the parser of the command it runs.

    Options may come between positional arguments (``pip install six -q
    idna``), as pip and uv allow, and a usage error shows the command's own
    usage line.
    """
    try:
        return command.parse_intermixed_args(argv)
    except TypeError:
        # argparse cannot intermix around sub-commands (`cache dir`), and
        # says so with this error before parsing anything.
        return command.parse_args(argv)


def _change_directory(directory: str) -> None:
    try:
        os.chdir(directory)
    except OSError as error:
        raise UsageError(f"Cannot run in the directory {directory} (--directory): {error.strerror}.") from None


def _after_words(argv: list[str], words: tuple[str, ...]) -> int:
    """Index in *argv* just past the command's own words."""
    position = 0
    for word in words:
        position = argv.index(word, position) + 1
    return position


def _print_unexpected(error: Exception, *, verbose: bool) -> None:
    """One line for a failure no :class:`FreewheelError` explains (a bug, or
    a fault of the system nobody foresaw); its traceback only with ``-v``."""
    import traceback

    from freewheel.util.urls import strip_credentials

    if verbose:
        print(strip_credentials("".join(traceback.format_exception(error))), end="", file=sys.stderr)
    summary = " ".join(str(error).split()) or "no details"
    _print_error(
        FreewheelError(
            f"Unexpected failure ({type(error).__name__}): {summary}",
            hint="this is a bug in freewheel or a fault it does not handle yet; "
            + ("please report it with the traceback above" if verbose else "rerun with -v to see where it happened"),
        )
    )


def _print_error(error: FreewheelError) -> None:
    from freewheel.util.urls import strip_credentials

    text = f"error: {error.message}"
    if error.hint:
        text += f"\n\nhint: {error.hint}"
    # Messages quote settings and requirement lines, which may hold index URLs.
    print("\n".join(_styled(line) for line in strip_credentials(text).split("\n")), file=sys.stderr)


def _styled(line: str) -> str:
    """*line* with its ``error:`` or ``hint:`` prefix styled (hints may
    also stand inside a message, as resolution failures give them)."""
    for kind in ("error", "hint"):
        if line.startswith(f"{kind}: "):
            return console.prefixed(kind, line.removeprefix(f"{kind}: "))
    return line
