"""File-system helpers: writes that never leave a half-written file behind,
reads that never wait on something that is not a file, and paths as
messages show them."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write *data* to *path* through a temporary file and a rename.

    Readers see the old content or the new, never a mix; an interrupted
    write leaves the old file untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_regular(path: Path) -> bytes:
    """The content of the regular file *path*.

    Files others may have replaced (an environment's metadata, the cache)
    are read through here: a named pipe or device in their place would make
    a plain read wait forever, or never end.

    :raises OSError: when *path* cannot be read or is not a regular file.
    """
    # Non-blocking, so that opening a named pipe returns at once (POSIX);
    # Windows has neither the flag nor the pipes.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        return handle.read()


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
