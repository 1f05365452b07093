"""File-system helpers: writes that never leave a half-written file behind,
reads that never wait on something that is not a file, and paths as
messages show them."""

from __future__ import annotations

import errno
import itertools
import os
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit


def atomic_write_bytes(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write *data* to *path* through a temporary file and a rename.

    Readers see the old content or the new, never a mix; an interrupted
    write leaves the old file untouched, and at worst a temporary file
    named ``.<name>.<pid>-<n>.tmp`` beside it.

    The file keeps the permissions of the one it replaces; a new one gets
    those any new file gets (``0o666`` less the umask), as an editor or pip
    would give it: a lock file, a ``pyproject.toml`` or a wheel's ``RECORD``
    is not made unreadable to others. A *private* file (the cache's, which
    may hold what an index answered behind credentials) is its owner's
    alone, as pip's and uv's caches are.
    """
    # Few system calls: a cold run writes hundreds of cache files, and where
    # other threads are busy, each call that lets go of the GIL costs a
    # futex round trip between cores to take it back. Hence raw descriptors
    # rather than a file object (which asks whether it is a terminal, and
    # where it stands), and names from the process id and a counter rather
    # than from random bytes (also a system call).
    mode = 0o600 if private else 0o666
    fd, temporary = _create_beside(path, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        if not private:
            _keep_mode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
_temporary_names = itertools.count()


def _create_beside(path: Path, mode: int) -> tuple[int, Path]:
    """A new temporary file in *path*'s directory (created if missing),
    open for writing: its descriptor and its path.

    O_EXCL keeps writers apart; a name taken already (left by a killed
    process that had this one's id) is passed over for the next.
    """
    made_parent = False
    while True:
        temporary = path.parent / f".{path.name}.{os.getpid()}-{next(_temporary_names)}.tmp"
        try:
            return os.open(temporary, _CREATE_FLAGS, mode), temporary
        except FileExistsError:
            continue
        except FileNotFoundError:
            if made_parent:
                raise
            path.parent.mkdir(parents=True, exist_ok=True)
            made_parent = True


def _keep_mode(path: Path, temporary: Path) -> None:
    """Give *temporary* the permissions of *path*, when *path* exists."""
    try:
        existing = stat.S_IMODE(os.stat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return
    os.chmod(temporary, existing)


class NotARegularFile(OSError):
    """What :func:`read_regular` raises for a path that is something else
    than a file or directory: a named pipe, a device, a socket."""


def read_regular(path: Path) -> bytes:
    """The content of the regular file *path*.

    Files others may have replaced (an environment's metadata, the cache)
    are read through here: a named pipe or device in their place would make
    a plain read wait forever, or never end.

    :raises OSError: when *path* cannot be read or is not a regular file
        (:class:`IsADirectoryError`, :class:`NotARegularFile`).
    """
    # Non-blocking, so that opening a named pipe returns at once (POSIX);
    # Windows has neither the flag nor the pipes. Plain descriptors: a warm
    # run reads thousands of small records, and a file object's own
    # questions (buffer size, position) cost as much as the reads.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(status.st_mode):
            raise NotARegularFile(errno.EINVAL, "not a regular file", str(path))
        # One read for the whole file as it stood, then until the end, in
        # case it grew meanwhile.
        chunks = [os.read(fd, status.st_size + 1)]
        while chunks[-1]:
            chunks.append(os.read(fd, 1 << 16))
    finally:
        os.close(fd)
    return b"".join(chunks)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def display_path(path: str | os.PathLike[str], cwd: Path) -> str:
    """*path* as messages and annotations show it, as uv shows paths.

    An absolute path inside *cwd* is shown relative to it; any other path
    is shown as given (a relative one keeps the user's spelling, ``./a.in``
    or ``sub/../a.in``).
    """
    text = os.fspath(path)
    if not os.path.isabs(text):
        return text
    try:
        return str(Path(text).relative_to(cwd))
    except ValueError:
        return text


def file_url_path(url: str) -> Path | None:
    """The local path a ``file:`` URL names; ``None`` for any other URL
    (one that does not even parse, such as ``http://[::1``, included)."""
    if url.lstrip()[:5].lower() != "file:":
        # Every request asks; most are not file URLs, and parsing costs.
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme != "file":
        return None
    if os.name == "nt":
        # Imported here: urllib.request costs every command 15 ms of start-up.
        from urllib.request import url2pathname

        return Path(url2pathname(parts.path))
    return Path(unquote(parts.path))
