"""File-system changes that are undone unless committed.

Every change is journalled *before* it is made, so an interruption between
the two is still undone: undoing a change that did not happen is a no-op.
Files and directories that are replaced or removed are first renamed to a
hidden sibling (same directory, so the rename is atomic and cannot cross
devices) and only deleted on :meth:`Transaction.commit`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path
from typing import Literal


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once: the umask can only be read by setting it, which is not
# thread-safe.
UMASK = _current_umask()

_Change = Literal["new dir", "new", "set aside"]


class Transaction:
    """A journal of created and set-aside paths, undone in reverse order."""

    def __init__(self) -> None:
        self._token = secrets.token_hex(4)
        # (change, path, where the original was set aside)
        self._journal: list[tuple[_Change, Path, Path | None]] = []

    def make_dirs(self, directory: Path) -> None:
        """Create *directory* and any missing parents."""
        missing = []
        while not directory.is_dir():
            missing.append(directory)
            directory = directory.parent
        for path in reversed(missing):
            self._journal.append(("new dir", path, None))
            path.mkdir()

    def will_create(self, path: Path) -> None:
        """Note that *path* (a file, link or directory tree) is about to be created."""
        self._journal.append(("new", path, None))

    def write(self, path: Path, data: bytes, *, executable: bool = False) -> None:
        """Create the file *path* holding *data*."""
        self.will_create(path)
        with open(path, "xb") as handle:
            handle.write(data)
        if executable:
            os.chmod(path, 0o777 & ~UMASK)

    def set_aside(self, path: Path) -> bool:
        """Move *path* out of the way if it exists; return whether it did."""
        if not os.path.lexists(path):
            return False
        backup = path.with_name(f".{path.name}.freewheel-{self._token}~")
        self._journal.append(("set aside", path, backup))
        os.rename(path, backup)
        return True

    def rollback(self) -> None:
        """Undo every change, newest first, as far as the file system allows."""
        while self._journal:
            change, path, backup = self._journal.pop()
            with contextlib.suppress(OSError):
                if change == "new dir":
                    # Removed only when empty: what is left in it was not
                    # put there by this transaction.
                    path.rmdir()
                elif change == "new":
                    _remove(path)
                elif backup is not None and os.path.lexists(backup):
                    _remove(path)
                    os.rename(backup, path)

    def commit(self) -> list[Path]:
        """Delete what was set aside and return the original paths."""
        removed = []
        for _, path, backup in self._journal:
            if backup is not None:
                _remove(backup)
                removed.append(path)
        self._journal.clear()
        return removed


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path)
