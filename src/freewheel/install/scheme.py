"""Where each part of a wheel goes in an environment.

A wheel's root goes to purelib or platlib (its ``Root-Is-Purelib``);
``{name}-{version}.data/{category}/...`` goes to that category's directory,
and headers to a directory named after the project, as pip places them.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from freewheel.python.interpreters import InterpreterInfo

from .errors import InstallError
from .wheelfile import WheelInfo, unsafe_path_reason


class Scheme(msgspec.Struct, frozen=True):
    """The install directories of one environment and its interpreter.

    ``include`` is the directory under which each project's headers get a
    directory of their own; ``executable`` is the interpreter scripts are
    made to run with, ``python_version`` its major and minor version;
    ``prefix`` is the environment's root, outside which nothing is ever
    removed.
    """

    purelib: Path
    platlib: Path
    scripts: Path
    data: Path
    include: Path
    executable: Path
    python_version: tuple[int, int]
    prefix: Path

    @classmethod
    def from_interpreter(cls, info: InterpreterInfo) -> Scheme:
        """The scheme pip uses for *info*'s default installs.

        In a virtual environment ``sysconfig`` names the base interpreter's
        include directory, which is not the environment's to write to, so
        headers go under ``{prefix}/include/site/pythonX.Y`` as pip puts them.
        """
        paths = info.paths
        major, minor, _ = info.version
        if info.is_virtualenv:
            include = Path(info.sys_prefix, "include", "site", f"python{major}.{minor}")
        else:
            include = Path(paths["include"])
        return cls(
            purelib=Path(paths["purelib"]),
            platlib=Path(paths["platlib"]),
            scripts=Path(paths["scripts"]),
            data=Path(paths["data"]),
            include=include,
            executable=Path(info.executable),
            python_version=(major, minor),
            prefix=Path(info.sys_prefix),
        )

    def lib_dir(self, wheel: WheelInfo) -> Path:
        """Where the wheel's root and its ``.dist-info`` go."""
        return self.purelib if wheel.root_is_purelib else self.platlib

    def destination(self, wheel: WheelInfo, path: str) -> tuple[str, str]:
        """The category and installed location of the archive member *path*.

        The category is ``"root"`` for members outside the ``.data``
        directory.

        :raises InstallError: if the location would not be inside the
            category's directory (the archive was checked already; this
            guards against a scheme that makes it so).
        """
        data_dir = f"{wheel.data_dir}/"
        if path.startswith(data_dir):
            category, _, relative = path[len(data_dir) :].partition("/")
            base = {
                "purelib": self.purelib,
                "platlib": self.platlib,
                "scripts": self.scripts,
                "data": self.data,
                "headers": self.include / wheel.name,
            }[category]
        else:
            category, relative, base = "root", path, self.lib_dir(wheel)
        # Plain strings: this runs once per file of every wheel installed,
        # and pathlib's joins and checks dominated large installs.
        root = os.path.normpath(base)
        reason = unsafe_path_reason(relative)
        target = os.path.normpath(f"{root}{os.sep}{relative}")
        if reason or not target.startswith(root.rstrip(os.sep) + os.sep):
            raise InstallError(
                f"{wheel.filename} is unsafe to install: {path} would be written "
                f"outside {root}."
            )
        return category, target
