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
A file is cloned or copied only from a regular file (:class:`NotAFileError`
otherwise); a hard link is made without opening it.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import threading
from collections.abc import Callable
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
    has to copy instead. Safe to use from several threads at once.
    """

    def __init__(
        self, mode: LinkMode | None = None, *, on_copy_fallback: Callable[[], None] | None = None
    ) -> None:
        self._attempts = _ATTEMPTS[mode]
        self._start: dict[tuple[str, str], int] = {}
        self._on_copy_fallback = on_copy_fallback
        self._lock = threading.Lock()

    def link(self, source: str, target: str, *, source_root: str, target_root: str) -> None:
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
                if isinstance(exc, NotAFileError) or exc.errno not in _UNSUPPORTED or index + 1 == len(self._attempts):
                    raise
                index += 1
                continue
            if index and method == "copy":
                self._copying()
            self._start[key] = index
            return

    def _copying(self) -> None:
        with self._lock:
            callback, self._on_copy_fallback = self._on_copy_fallback, None
        if callback is not None:
            callback()


class NotAFileError(OSError):
    """A file to copy or clone is not a regular file (a damaged cache)."""


def _open_source(source: str) -> tuple[int, int]:
    """A descriptor of *source* opened for reading, and its permission bits.

    Neither follows a symbolic link nor waits on a named pipe.

    :raises NotAFileError: when *source* is not a regular file.
    """
    fd = os.open(source, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotAFileError(errno.EINVAL, "not a regular file", source)
    return fd, stat.S_IMODE(mode)


def _clone(source: str, target: str) -> None:
    try:
        import fcntl
    except ImportError:
        raise OSError(errno.ENOTSUP, "reflinks are not supported here") from None
    reader, mode = _open_source(source)
    try:
        writer = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.ioctl(writer, _FICLONE, reader)
            os.fchmod(writer, mode)
        except OSError:
            os.close(writer)
            os.unlink(target)
            raise
        os.close(writer)
    finally:
        os.close(reader)


def _hardlink(source: str, target: str) -> None:
    # The cached file is not opened: a hard link shares what is there.
    os.link(source, target)


def _copy(source: str, target: str) -> None:
    reader, mode = _open_source(source)
    with open(reader, "rb") as fsrc, open(target, "xb") as fdst:
        shutil.copyfileobj(fsrc, fdst)
        os.fchmod(fdst.fileno(), mode)


def _symlink(source: str, target: str) -> None:
    os.symlink(os.path.abspath(source), target)


_METHODS = {"clone": _clone, "hardlink": _hardlink, "copy": _copy, "symlink": _symlink}
