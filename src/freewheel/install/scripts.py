"""Scripts: entry-point launchers and ``#!python`` shebang rewriting.

Both are POSIX scripts run by the environment's interpreter, written the way
pip writes them. Windows ``.exe`` launchers are not produced.
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
from pathlib import Path

import msgspec

from .errors import InstallError

# Longer shebang lines are cut short by some kernels.
_MAX_SHEBANG = 127
_VERSIONED_PIP = re.compile(r"pip3\.\d+")


class EntryPointScript(msgspec.Struct, frozen=True):
    """A ``console_scripts`` or ``gui_scripts`` entry: ``name = module:attr``."""

    name: str
    module: str
    attr: str
    gui: bool


def shebang(executable: Path) -> bytes:
    """The first line(s) that make a script run with *executable*.

    A path with spaces or too long for the kernel goes through ``/bin/sh``
    with the ``'''exec'`` trick, which Python reads as a string literal.
    """
    path = os.fsencode(executable)
    if b" " not in path and len(path) + 2 <= _MAX_SHEBANG:
        return b"#!" + path + b"\n"
    quoted = shlex.quote(os.fsdecode(path)).encode()
    return b"#!/bin/sh\n'''exec' " + quoted + b' "$0" "$@"\n' + b"' '''\n"


def rewrite_shebang(content: bytes, executable: Path) -> bytes | None:
    """*content* with a ``#!python``/``#!pythonw`` first line made to run
    *executable*, or ``None`` when it has no such line (it is kept as is).
    """
    if not content.startswith(b"#!python"):
        return None
    _, newline, rest = content.partition(b"\n")
    return shebang(executable) + (rest if newline else b"")


def parse_entry_points(text: str, *, source: str) -> list[EntryPointScript]:
    """The console and GUI scripts an ``entry_points.txt`` declares.

    :raises InstallError: when the file is not valid INI, or a script's
        name could be a path or its object reference is not
        ``module:attr``.
    """
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise InstallError(f"The entry_points.txt of {source} is not valid: {exc.message}.") from None
    scripts = []
    for section, gui in (("console_scripts", False), ("gui_scripts", True)):
        if not parser.has_section(section):
            continue
        for name, value in parser.items(section):
            scripts.append(_entry_point(name, value, gui, source))
    return scripts


def with_versioned_pip(scripts: list[EntryPointScript], python_version: tuple[int, int]) -> list[EntryPointScript]:
    """*scripts* with pip's versioned launcher named for the target interpreter.

    pip's wheel declares ``pip3.N`` for the Python that built it (newer ones
    declare none). As uv does, every ``pip3.N`` is dropped and, next to a
    ``pip3``, a ``pip3.M`` is made for the interpreter installed into.
    """
    kept = [script for script in scripts if not _VERSIONED_PIP.fullmatch(script.name)]
    template = next((script for script in kept if script.name == "pip3" and not script.gui), None)
    if template is not None:
        kept.append(msgspec.structs.replace(template, name=f"pip3.{python_version[1]}"))
    return kept


def launcher(script: EntryPointScript, executable: Path) -> bytes:
    """The content of the launcher for *script*, run by *executable*."""
    top = script.attr.split(".", 1)[0]
    body = (
        "# -*- coding: utf-8 -*-\n"
        "import re\n"
        "import sys\n"
        f"from {script.module} import {top}\n"
        'if __name__ == "__main__":\n'
        '    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])\n'
        f"    sys.exit({script.attr}())\n"
    )
    return shebang(executable) + body.encode("utf-8")


def _entry_point(name: str, value: str, gui: bool, source: str) -> EntryPointScript:
    reference = value.split("[", 1)[0].strip()
    module, _, attr = reference.partition(":")
    module, attr = module.strip(), attr.strip()
    if not name or any(char in name for char in "/\\\0") or name in (".", ".."):
        raise InstallError(
            f"{source} declares a script named {name!r}; script names cannot contain "
            "path separators."
        )
    if not (_dotted(module) and _dotted(attr)):
        raise InstallError(
            f"{source} declares the script {name} as {value!r}, which is not a "
            "'module:function' reference."
        )
    return EntryPointScript(name, module, attr, gui)


def _dotted(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))
