"""Creating virtual environments in-process, as ``python -m venv`` lays them out.

The base interpreter is probed (once, cached) for its version and
location; nothing runs inside the new environment. The layout is the
stdlib's on POSIX: ``pyvenv.cfg``, ``bin/python`` as a symlink to the base
interpreter with ``python3`` and ``python3.X`` pointing at it,
``lib/python3.X/site-packages``, and the activation scripts of the stdlib
``venv`` package with their placeholders filled by the stdlib itself. Like
uv, freewheel adds a ``.gitignore`` so the environment is never committed,
and records itself in ``pyvenv.cfg``.
"""

from __future__ import annotations

import os
import shutil
import sys
import types
import venv as stdlib_venv
from pathlib import Path

import msgspec

from freewheel import __version__
from freewheel.errors import UsageError
from freewheel.python.interpreters import InterpreterInfo


class VirtualEnvironment(msgspec.Struct, frozen=True):
    """Where the parts of a virtual environment are."""

    root: Path
    bin_dir: Path
    python: Path
    site_packages: Path


def is_virtualenv(path: Path) -> bool:
    """Whether *path* is a virtual environment (it holds a ``pyvenv.cfg``)."""
    return (path / "pyvenv.cfg").is_file()


def read_pyvenv_cfg(root: Path) -> dict[str, str]:
    """The ``key = value`` pairs of *root*'s ``pyvenv.cfg``, read as ``site`` does."""
    values: dict[str, str] = {}
    for line in (root / "pyvenv.cfg").read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def base_executable(info: InterpreterInfo) -> Path:
    """The interpreter binary behind *info*, outside any virtual environment.

    A new environment must point at the base installation, not at another
    environment that may be deleted later; its ``pyvenv.cfg`` ``home`` says
    where that is. Symlinks are resolved so that ``home`` is the directory
    of the real binary, as ``python -m venv`` records it.
    """
    executable = Path(info.executable)
    if info.is_virtualenv:
        home = read_pyvenv_cfg(Path(info.sys_prefix)).get("home")
        if home is None:
            raise UsageError(f"The virtual environment {info.sys_prefix} has no home in its pyvenv.cfg.")
        major, minor = info.version[:2]
        names = (f"python{major}.{minor}", f"python{major}", "python")
        executable = next(
            (Path(home) / name for name in names if (Path(home) / name).is_file()),
            Path(home) / names[0],
        )
    return Path(os.path.realpath(executable))


def layout(root: Path, info: InterpreterInfo) -> VirtualEnvironment:
    """The paths of a virtual environment for *info* at *root*."""
    bin_dir = root / "bin"
    return VirtualEnvironment(
        root=root,
        bin_dir=bin_dir,
        python=bin_dir / "python",
        site_packages=root / "lib" / _lib_name(info) / "site-packages",
    )


def _lib_name(info: InterpreterInfo) -> str:
    major, minor = info.version[:2]
    # A free-threaded build keeps its packages apart: lib/python3.13t.
    threaded = "t" if info.abis and info.abis[-1].endswith("t") else ""
    return f"python{major}.{minor}{threaded}"


def create_venv(
    root: Path,
    base: InterpreterInfo,
    *,
    prompt: str | None = None,
    system_site_packages: bool = False,
    clear: bool = False,
    force: bool = False,
) -> VirtualEnvironment:
    """Create a virtual environment for the interpreter *base* at *root*.

    *root* may be missing or an empty directory. An existing virtual
    environment is replaced only with *clear*; any other non-empty directory
    only with *clear* and *force*. *prompt* ``"."`` means the name of the
    working directory, as for ``python -m venv``.

    :raises UsageError: when *root* cannot be used, or *base* is not a
        CPython on a POSIX system.
    """
    if os.name == "nt":
        raise UsageError("freewheel venv cannot create environments on Windows yet; use `python -m venv`.")
    if base.implementation != "cpython":
        raise UsageError(
            f"freewheel venv supports CPython only; {base.executable} is {base.implementation}."
        )
    root = root.absolute()
    # Before clearing: the base may be found through the environment replaced.
    executable = base_executable(base)
    _prepare(root, clear=clear, force=force)
    env = layout(root, base)
    env.site_packages.mkdir(parents=True)
    # The stdlib's rule: 64-bit Linux tools look for lib64.
    if sys.maxsize > 2**32 and sys.platform != "darwin":
        (root / "lib64").symlink_to("lib")
    if prompt == ".":
        prompt = Path.cwd().name
    _write_pyvenv_cfg(root, base, executable, prompt, system_site_packages)
    env.bin_dir.mkdir()
    env.python.symlink_to(executable)
    major, minor = base.version[:2]
    for name in dict.fromkeys(("python3", f"python{major}.{minor}", _lib_name(base))):
        (env.bin_dir / name).symlink_to("python")
    _install_activation_scripts(env, prompt)
    (root / ".gitignore").write_text("*\n", encoding="utf-8")
    return env


def _prepare(root: Path, *, clear: bool, force: bool) -> None:
    """Make sure *root* is absent or empty, clearing it when allowed."""
    if root.is_file() or (root.is_symlink() and not root.is_dir()):
        raise UsageError(f"Cannot create a virtual environment at {root}: a file is in the way.")
    if not root.is_dir() or not any(root.iterdir()):
        return
    if is_virtualenv(root):
        if not clear:
            raise UsageError(
                f"A virtual environment already exists at {root}.",
                hint="use --clear to replace it",
            )
    elif not (clear and force):
        raise UsageError(
            f"A directory that is not a virtual environment already exists at {root}, "
            "and it is not empty.",
            hint="choose another path, or pass --clear --force to delete its contents",
        )
    # Keep the directory itself: it may be a mount point or carry permissions.
    for entry in root.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _write_pyvenv_cfg(
    root: Path,
    base: InterpreterInfo,
    executable: Path,
    prompt: str | None,
    system_site_packages: bool,
) -> None:
    # Laid out as uv writes it; ``site`` reads only ``home`` and
    # ``include-system-site-packages``, other tools read the rest.
    lines = [
        f"home = {executable.parent}",
        f"implementation = {base.markers['platform_python_implementation']}",
        f"freewheel = {__version__}",
        f"version_info = {base.markers['python_full_version']}",
        f"include-system-site-packages = {'true' if system_site_packages else 'false'}",
    ]
    if prompt is not None:
        lines.append(f"prompt = {prompt}")
    (root / "pyvenv.cfg").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _install_activation_scripts(env: VirtualEnvironment, prompt: str | None) -> None:
    """Copy the stdlib ``venv`` activation scripts, filled in by the stdlib.

    The scripts are shell code and work for any Python version, so the
    running interpreter's templates serve every environment. Python 3.11's
    templates expect the prompt already in parentheses; 3.12 and later add
    them themselves.
    """
    name = prompt if prompt is not None else env.root.name
    context = types.SimpleNamespace(
        env_dir=str(env.root),
        env_name=env.root.name,
        prompt=f"({name}) " if sys.version_info < (3, 12) else name,
        bin_name=env.bin_dir.name,
        bin_path=str(env.bin_dir),
        env_exe=str(env.python),
    )
    templates = Path(stdlib_venv.__file__).parent / "scripts"
    stdlib_venv.EnvBuilder().install_scripts(context, str(templates))


def seed_packages(base: InterpreterInfo) -> tuple[str, ...]:
    """What ``venv --seed`` installs for *base*, as uv: pip, plus setuptools
    and wheel for Pythons older than 3.12 (whose ``venv`` still installed
    setuptools, and whose users' builds may expect them)."""
    return ("pip",) if base.version >= (3, 12) else ("pip", "setuptools", "wheel")


def interpreter_in(env: VirtualEnvironment, base: InterpreterInfo) -> InterpreterInfo:
    """*base* as seen from inside the environment *env* made from it.

    A new environment runs the same interpreter with another prefix and
    install paths; deriving them saves probing it (a process per build).
    """
    site = str(env.site_packages)
    paths = {"purelib": site, "platlib": site, "scripts": str(env.bin_dir), "data": str(env.root)}
    return msgspec.structs.replace(
        base,
        executable=str(env.python),
        sys_prefix=str(env.root),
        paths={**base.paths, **paths},
        is_virtualenv=True,
        externally_managed=False,
    )
