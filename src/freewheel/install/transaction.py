"""File-system changes to an environment that are undone unless committed,
even when the process changing it is killed.

Every change is journalled *before* it is made, so an interruption between
the two is still undone: undoing a change that did not happen is a no-op.
Files and directories that are replaced or removed are first renamed to a
hidden sibling (same directory, so the rename is atomic and cannot cross
devices) and only deleted on :meth:`Transaction.commit`.

The journal is a file in the environment (:data:`JOURNAL`), one JSON array
per line, written with one system call per change: a process killed at any
point leaves it whole up to its last change. Its first line names the
directory that must never be pruned; a line ``["commit"]`` marks the point
after which the change is kept. :func:`finish_interrupted` reads what a
killed process left: before the mark it undoes every change, newest first;
after it, it deletes what was set aside, as :meth:`Transaction.commit`
would have.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from freewheel.util.fs import read_regular

from .errors import InstallError

# The journal of the change in progress, in the environment's root.
JOURNAL = ".freewheel-transaction"


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Read once: the umask can only be read by setting it, which is not
# thread-safe.
UMASK = _current_umask()

_Change = Literal["new dir", "new", "set aside"]
_Entry = tuple[_Change, Path, Path | None]


class Transaction:
    """A journal of created and set-aside paths in the environment at
    *root*, undone in reverse order unless committed.

    Directories that a commit leaves empty are removed, up to *root*, never
    *keep* (the environment's ``site-packages``) or its parents.

    :raises OSError: when the journal cannot be created.
    :raises InstallError: when the environment already has one: a change
        that was interrupted and not yet finished, or one in progress.
    """

    def __init__(self, root: Path, *, keep: Path) -> None:
        self._token = secrets.token_hex(4)
        self._root = root
        self._keep = keep
        # (change, path, where the original was set aside)
        self._entries: list[_Entry] = []
        self._path = root / JOURNAL
        try:
            self._fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        except FileExistsError:
            raise InstallError(
                f"The environment {root} is being changed by another freewheel command, "
                f"or one was interrupted: its journal {self._path} exists.",
                hint="run the command again: a freewheel command that changes the environment "
                "first completes or undoes an interrupted change",
            ) from None
        self._note(["begin", str(keep)])

    def _note(self, line: list[str]) -> None:
        os.write(self._fd, (json.dumps(line) + "\n").encode())

    def _journal(self, change: _Change, path: Path, backup: Path | None = None) -> None:
        self._entries.append((change, path, backup))
        self._note([change, str(path)] + ([str(backup)] if backup is not None else []))

    def make_dirs(self, directory: Path) -> None:
        """Create *directory* and any missing parents."""
        missing = []
        while not directory.is_dir():
            missing.append(directory)
            directory = directory.parent
        for path in reversed(missing):
            self._journal("new dir", path)
            path.mkdir()

    def will_create(self, path: Path) -> None:
        """Note that *path* (a file, link or directory tree) is about to be created."""
        self._journal("new", path)

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
        self._journal("set aside", path, backup)
        os.rename(path, backup)
        return True

    def rollback(self) -> None:
        """Undo every change, newest first, as far as the file system allows."""
        _undo(self._entries)
        self._entries.clear()
        self._close()

    def commit(self) -> list[Path]:
        """Keep the changes: delete what was set aside, and the directories
        that leaves empty; return the original paths of what was set aside."""
        self._note(["commit"])
        removed = _finish(self._entries, self._root, self._keep)
        self._entries.clear()
        self._close()
        return removed

    def _close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            self._path.unlink(missing_ok=True)


def _undo(entries: list[_Entry]) -> None:
    for change, path, backup in reversed(entries):
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


def _finish(entries: list[_Entry], root: Path, keep: Path) -> list[Path]:
    removed = []
    for _, path, backup in entries:
        if backup is not None:
            if os.path.lexists(backup):
                _remove(backup)
            removed.append(path)
    prune_empty_dirs((path.parent for path in removed), keep=keep, prefix=root)
    return removed


def finish_interrupted(root: Path) -> str | None:
    """Complete or undo the change a killed process left in the environment
    at *root*; say which, or return ``None`` when there was none.

    Call it holding the environment's lock, before reading the environment.

    :raises InstallError: when the journal cannot be read, or names paths
        that are not the environment's (then nothing is changed).
    """
    path = root / JOURNAL
    try:
        text = read_regular(path).decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _unreadable(path, exc.strerror or str(exc)) from None
    keep, entries, committed = _parse_journal(text, root, path)
    if committed:
        _finish(entries, root, keep)
    else:
        _undo(entries)
    path.unlink(missing_ok=True)
    what = "completed" if committed else "undone"
    return f"An interrupted change to {root} was found and {what} (its journal was {path})."


def unfinished(root: Path) -> Path | None:
    """The journal of an unfinished change to the environment at *root*, if any."""
    path = root / JOURNAL
    return path if os.path.lexists(path) else None


def _parse_journal(text: str, root: Path, path: Path) -> tuple[Path, list[_Entry], bool]:
    """The directory to keep, the changes, and whether they were committed.

    A last line cut short is ignored: its change was never started.
    """
    lines = text.split("\n")
    rows: list[list[str]] = []
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except ValueError:
            if number >= len(lines) - 1:
                break
            raise _unreadable(path, f"line {number} is not a journal entry") from None
        if not isinstance(row, list) or not row or not all(isinstance(item, str) for item in row):
            raise _unreadable(path, f"line {number} is not a journal entry")
        rows.append(row)
    if not rows or rows[0][0] != "begin" or len(rows[0]) != 2:
        raise _unreadable(path, "it does not start as a journal does")
    real_root = Path(os.path.realpath(root))
    keep = Path(rows[0][1])
    entries: list[_Entry] = []
    committed = False
    for row in rows[1:]:
        if row == ["commit"]:
            committed = True
            continue
        change, *paths = row
        if change not in ("new dir", "new", "set aside") or len(paths) != (2 if change == "set aside" else 1):
            raise _unreadable(path, f"it holds an unknown entry {row!r}")
        target = Path(paths[0])
        backup = Path(paths[1]) if len(paths) == 2 else None
        if not _inside(target, real_root) or (backup is not None and not _is_backup_of(backup, target)):
            raise _unreadable(path, f"it names {target}, which is not the environment's to change")
        entries.append((change, target, backup))  # type: ignore[arg-type]
    return keep, entries, committed


def _inside(path: Path, real_root: Path) -> bool:
    """Whether *path*, through any link in its directories, is under *real_root*."""
    normal = Path(os.path.normpath(path))
    return normal.is_absolute() and Path(os.path.realpath(normal.parent)).is_relative_to(real_root)


def _is_backup_of(backup: Path, path: Path) -> bool:
    name = backup.name
    return (
        backup.parent == path.parent
        and name.startswith(f".{path.name}.freewheel-")
        and name.endswith("~")
    )


def _unreadable(path: Path, reason: str) -> InstallError:
    return InstallError(
        f"The journal {path} of an interrupted change cannot be used: {reason}. Nothing was changed.",
        hint="check the environment, then remove that file, or recreate the environment",
    )


def prune_empty_dirs(directories: Iterable[Path], *, keep: Path, prefix: Path) -> None:
    """Remove each of *directories* that is empty, then its empty parents.

    Stops at *prefix*, at *keep* and at any parent of *keep*.
    """
    protected = {prefix, keep, *keep.parents}
    for directory in sorted(set(directories), key=lambda path: len(path.parts), reverse=True):
        while directory not in protected and directory.is_relative_to(prefix):
            try:
                directory.rmdir()
            except OSError:
                break
            directory = directory.parent


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path)
