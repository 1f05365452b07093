"""Gathering what the user asked for from the command's sources.

``pip compile`` (and later ``pip install``) accept any mix of requirements
files, ``pyproject.toml``, ``setup.cfg``, ``setup.py`` and standard input, plus
constraints and overrides files. :func:`gather` reads them all into one
:class:`Gathered` value, keeping each requirement's source for ``# via``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import msgspec

from freewheel.errors import InputError
from freewheel.inputs.pyproject import read_pyproject
from freewheel.inputs.requirements_txt import (
    MAX_FILE_SIZE,
    RequirementsFile,
    SourcedRequirement,
    decode_text,
    parse_requirements,
    read_limited,
    read_requirements,
)
from freewheel.inputs.setup_cfg import read_setup_cfg, read_setup_py


class Gathered(msgspec.Struct, frozen=True):
    """Requirements, constraints and overrides, plus file-level options."""

    requirements: tuple[SourcedRequirement, ...]
    constraints: tuple[SourcedRequirement, ...]
    overrides: tuple[SourcedRequirement, ...]
    files: tuple[RequirementsFile, ...]
    pyprojects: tuple[Path, ...]


def _stdin_text() -> str:
    """Standard input, decoded as a requirements file is, and bounded."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        data = read_limited(buffer)
        text = None if data is None else decode_text(data, "Standard input")
    else:  # a text stream without bytes underneath
        text = sys.stdin.read(MAX_FILE_SIZE + 1)
        text = None if len(text) > MAX_FILE_SIZE else text
    if text is None:
        raise InputError(
            f"Standard input holds more than {MAX_FILE_SIZE >> 20} MiB of requirements; "
            "freewheel stops reading it."
        )
    return text


def _read_source(
    path: str, *, extras: Sequence[str], all_extras: bool, groups: Sequence[str]
) -> tuple[RequirementsFile | None, tuple[SourcedRequirement, ...], Path | None]:
    if path == "-":
        parsed = parse_requirements(_stdin_text(), source_path=None, base_dir=Path.cwd())
        return parsed, parsed.requirements, None
    file = Path(path)
    if not file.exists():
        raise InputError(f"The requirements source {path} does not exist.")
    if file.name == "pyproject.toml":
        project = read_pyproject(path, extras=extras, all_extras=all_extras, groups=groups)
        return None, project.requirements, file
    if file.name == "setup.cfg":
        project = read_setup_cfg(path, extras=extras, all_extras=all_extras)
        return None, project.requirements, None
    if file.name == "setup.py":
        project = read_setup_py(path, extras=extras, all_extras=all_extras)
        return None, project.requirements, None
    parsed = read_requirements(path)
    return parsed, parsed.requirements, None


def gather(
    sources: Sequence[str],
    *,
    constraints: Sequence[str] = (),
    overrides: Sequence[str] = (),
    extras: Sequence[str] = (),
    all_extras: bool = False,
    groups: Sequence[str] = (),
) -> Gathered:
    """Read every source; raise :class:`InputError` on the first bad one."""
    if (extras or all_extras or groups) and not any(
        Path(s).name in ("pyproject.toml", "setup.cfg", "setup.py") for s in sources
    ):
        raise InputError(
            "--extra, --all-extras and --group need a pyproject.toml, setup.cfg or setup.py source "
            "to take them from."
        )
    requirements: list[SourcedRequirement] = []
    constraint_list: list[SourcedRequirement] = []
    files: list[RequirementsFile] = []
    pyprojects: list[Path] = []
    for source in sources:
        parsed, found, pyproject = _read_source(
            source, extras=extras, all_extras=all_extras, groups=groups
        )
        requirements += found
        if parsed is not None:
            files.append(parsed)
            constraint_list += parsed.constraints
        if pyproject is not None:
            pyprojects.append(pyproject)
    for path in constraints:
        parsed = read_requirements(path, kind="constraints")
        constraint_list += parsed.requirements + parsed.constraints
        files.append(parsed)
    override_list: list[SourcedRequirement] = []
    for path in overrides:
        parsed = read_requirements(path, kind="overrides")
        override_list += parsed.requirements
    return Gathered(
        tuple(requirements), tuple(constraint_list), tuple(override_list), tuple(files), tuple(pyprojects)
    )
