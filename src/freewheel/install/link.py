"""Placing files from an unpacked wheel into an environment.

Modes, as uv names them: ``clone`` (a copy-on-write reflink, Linux
``FICLONE``), ``hardlink``, ``copy`` and ``symlink``. Without a mode the
fastest that works is used: clone, else hardlink, else copy. What works is
learnt once per (unpacked tree, destination directory) pair: the first
file tries each method in turn, and the rest start from the one that
succeeded. As in uv, ``clone`` falls back to ``hardlink`` where the file
system has no reflinks, and both fall back to ``copy`` where it refuses
links (another device, a link limit); falling back to ``copy`` is reported,
since it costs the disk space and time the links were chosen to save.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Literal

LinkMode = Literal["clone", "hardlink", "copy", "symlink"]
LINK_MODES: tuple[LinkMode, ...] = ("clone", "hardlink", "copy", "symlink")

_ATTEMPTS: dict[LinkMode | None, tuple[LinkMode, ...]] = {
    None: ("clone", "hardlink", "copy"),
    "clone": ("clone", "hardlink", "copy"),
    "hardlink": ("hardlink", "copy"),
    "copy": ("copy",),
    "symlink": ("symlink",),
}

# What file systems answer when a method is not available to them; any
# other error (no space, no permission to write) is the caller's to report.
_UNSUPPORTED = frozenset(
    {
        errno.EXDEV,
        errno.EPERM,
        errno.EMLINK,
        errno.EOPNOTSUPP,
        errno.ENOTSUP,
        errno.EINVAL,
        errno.ENOTTY,
        errno.ENOSYS,
        errno.EBADF,
    }
)

# _IOW(0x94, 9, int): share the source's extents with the target.
_FICLONE = 0x40049409


class Linker:
    """Places files by *mode*, remembering what works for each pair of roots.

    *on_copy_fallback* is called once, the first time a mode that links
    has to copy instead.
    """

    def __init__(
        self, mode: LinkMode | None = None, *, on_copy_fallback: Callable[[], None] | None = None
    ) -> None:
        self._attempts = _ATTEMPTS[mode]
        self._start: dict[tuple[Path, Path], int] = {}
        self._on_copy_fallback = on_copy_fallback

    def link(self, source: Path, target: Path, *, source_root: Path, target_root: Path) -> None:
        """Make *target* (which must not exist) hold the content of *source*.

        :raises OSError: when even the last method allowed fails.
        """
        key = (source_root, target_root)
        index = self._start.get(key, 0)
        while True:
            method = self._attempts[index]
            try:
                _METHODS[method](source, target)
            except OSError as exc:
                if exc.errno not in _UNSUPPORTED or index + 1 == len(self._attempts):
                    raise
                index += 1
                continue
            if index and method == "copy" and self._on_copy_fallback is not None:
                self._on_copy_fallback()
                self._on_copy_fallback = None
            self._start[key] = index
            return


def _clone(source: Path, target: Path) -> None:
    try:
        import fcntl
    except ImportError:
        raise OSError(errno.ENOTSUP, "reflinks are not supported here") from None
    with open(source, "rb") as reader, open(target, "xb") as writer:
        try:
            fcntl.ioctl(writer.fileno(), _FICLONE, reader.fileno())
        except OSError:
            writer.close()
            target.unlink()
            raise
    shutil.copymode(source, target)


def _hardlink(source: Path, target: Path) -> None:
    os.link(source, target)


def _copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    shutil.copymode(source, target)


def _symlink(source: Path, target: Path) -> None:
    os.symlink(os.path.abspath(source), target)


_METHODS = {"clone": _clone, "hardlink": _hardlink, "copy": _copy, "symlink": _symlink}
