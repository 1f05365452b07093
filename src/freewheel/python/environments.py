"""Finding the Python environment a ``pip`` command acts on, as uv does.

Order: an explicit ``--python`` (an interpreter, or a virtual environment
or prefix directory), then the active virtual environment
(``VIRTUAL_ENV``), then a ``.venv`` in the working directory or a parent.
A system interpreter is used only when asked for with ``--system``, or by
commands that merely read the environment (``pip list``, ``freeze``,
``show``, ``check``), which fall back to the first ``python3``/``python``
on ``PATH``. Changing an externally managed interpreter (PEP 668) needs
``--break-system-packages``.
"""

from __future__ import annotations

import configparser
import hashlib
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from freewheel.errors import UsageError
from freewheel.python.interpreters import (
    InterpreterInfo,
    environment_python,
    find_python,
    path_pythons,
    probe,
    virtual_environments,
)

if TYPE_CHECKING:
    import filelock

SCHEME_KEYS = ("purelib", "platlib", "scripts", "data", "include")


class Environment(msgspec.Struct, frozen=True):
    """A Python environment packages are read from or installed into.

    ``scheme`` maps each install scheme key (``purelib``, ``platlib``,
    ``scripts``, ``data``, ``include``) to its directory, as the
    interpreter's ``sysconfig`` reports them.
    """

    interpreter: InterpreterInfo
    scheme: Mapping[str, Path]

    @classmethod
    def from_interpreter(cls, info: InterpreterInfo) -> Environment:
        return cls(info, {key: Path(info.paths[key]) for key in SCHEME_KEYS})

    @property
    def root(self) -> Path:
        """``sys.prefix``: the virtual environment or installation directory."""
        return Path(self.interpreter.sys_prefix)

    @property
    def python(self) -> Path:
        return Path(self.interpreter.executable)

    @property
    def site_packages(self) -> tuple[Path, ...]:
        """Where distributions live: ``purelib``, then ``platlib`` if different."""
        return tuple(dict.fromkeys((self.scheme["purelib"], self.scheme["platlib"])))

    @property
    def scripts(self) -> Path:
        return self.scheme["scripts"]

    @property
    def python_version(self) -> str:
        return self.interpreter.markers["python_full_version"]


def find_environment(
    *,
    python: str | None,
    system: bool,
    cwd: Path,
    break_system_packages: bool,
    mutable: bool = True,
    cache_dir: Path | None = None,
) -> Environment:
    """The environment a command should act on (see the module docstring).

    *mutable* says the command will change the environment: then a system
    interpreter is only used when named (``python``) or asked for
    (``system``), and an externally managed one is refused unless
    *break_system_packages*. Interpreters are probed with *cache_dir* (see
    :func:`freewheel.python.interpreters.probe`).

    :raises UsageError: when no environment is found, or it may not be changed.
    """
    if python is not None:
        info = probe(find_python(python, cwd=cwd, cache_dir=cache_dir), cache_dir=cache_dir)
    elif system:
        info = system_interpreter(cache_dir=cache_dir)
    else:
        info = _virtual_environment(cwd, cache_dir)
        if info is None:
            if mutable:
                raise UsageError(
                    f"No virtual environment found: VIRTUAL_ENV is not set and there is no "
                    f".venv in {cwd} or its parents.",
                    hint="create one with `freewheel venv`, or pass --system to use the "
                    "system interpreter",
                )
            info = system_interpreter(cache_dir=cache_dir)
    if mutable and info.externally_managed and not break_system_packages:
        raise UsageError(
            f"The interpreter at {info.sys_prefix} is externally managed, and indicates the "
            f"following:\n\n{_indent(externally_managed_message(info))}\n",
            hint="create a virtual environment with `freewheel venv`, or pass "
            "--break-system-packages to change this interpreter's packages anyway",
        )
    return Environment.from_interpreter(info)


def _virtual_environment(cwd: Path, cache_dir: Path | None) -> InterpreterInfo | None:
    """The active virtual environment, else a ``.venv`` in *cwd* or a parent."""
    active, nearest = virtual_environments(cwd)
    if active is not None:
        what, hint = f"VIRTUAL_ENV is set to {active}", "deactivate that environment, or unset VIRTUAL_ENV"
    elif nearest is not None:
        what, hint = f"Found the virtual environment {nearest}", "recreate it with `freewheel venv --clear`"
    else:
        return None
    python = environment_python(active or nearest)  # type: ignore[arg-type]
    if not python.is_file():
        raise UsageError(f"{what}, but there is no interpreter at {python}.", hint=hint)
    return probe(python, cache_dir=cache_dir)


def system_interpreter(*, cache_dir: Path | None = None) -> InterpreterInfo:
    """The first ``python3`` or ``python`` on ``PATH`` outside a virtual environment.

    An activated virtual environment puts its own ``bin`` first on ``PATH``;
    ``--system`` means the interpreter behind it, so environments are skipped.
    """
    for candidate in path_pythons():
        info = probe(candidate, cache_dir=cache_dir)
        if not info.is_virtualenv:
            return info
    raise UsageError(
        "Could not find a system Python interpreter: no python3 or python on PATH "
        "outside a virtual environment.",
        hint="pass --python with the interpreter to use",
    )


def externally_managed_message(info: InterpreterInfo) -> str:
    """The ``Error`` text of the interpreter's PEP 668 marker file.

    PEP 668 puts the marker in the ``stdlib`` directory, which the probe does
    not report; it is ``lib/pythonX.Y`` (``lib64`` on some distributions) or
    ``Lib`` under the base prefix.
    """
    default = "This Python installation is managed by another package manager."
    for marker in _marker_candidates(info):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            if not parser.read(marker, encoding="utf-8"):
                continue
        except configparser.Error:
            return default
        return parser.get("externally-managed", "Error", fallback=default).strip() or default
    return default


def _marker_candidates(info: InterpreterInfo) -> Iterator[Path]:
    base = Path(info.base_prefix)
    threaded = "t" if info.free_threaded else ""
    stdlib_name = f"python{info.version[0]}.{info.version[1]}{threaded}"
    for lib in ("lib", "lib64"):
        yield base / lib / stdlib_name / "EXTERNALLY-MANAGED"
    yield base / "Lib" / "EXTERNALLY-MANAGED"


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" if line else "" for line in text.splitlines())


def environment_lock(root: Path) -> filelock.FileLock:
    """A lock held while a command changes the environment at *root*.

    It lives outside the environment (which must stay exactly as it was
    when a change fails) and outside the cache (``--no-cache`` processes
    must still exclude each other): in the system's temporary directory,
    named after the environment's real path.
    """
    import filelock

    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:32]
    directory = Path(tempfile.gettempdir()) / "freewheel-locks"
    directory.mkdir(exist_ok=True)
    return filelock.FileLock(str(directory / f"{key}.lock"))
