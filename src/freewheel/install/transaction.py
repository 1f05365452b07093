"""File-system changes to an environment that are undone unless committed,
even when the process changing it is killed.

Every change is journalled *before* it is made, so an interruption between
the two is still undone: undoing a change that did not happen is a no-op.
Files and directories that are replaced or removed are first renamed to a
hidden sibling (same directory, so the rename is atomic and cannot cross
devices) and only deleted on :meth:`Transaction.commit`.

The journal is a file in the environment (:data:`JOURNAL`), one JSON array
per line, written with one system call per change or batch of changes made
together: a process killed at any point leaves it whole up to its last
line. Directories the transaction creates are remembered: a path in one of
them cannot hold anything that was there before, so it is created without
looking first. Its first line names the
directory that must never be pruned; a line ``["commit"]`` marks the point
after which the change is kept. :func:`finish_interrupted` reads what a
killed process left: before the mark it undoes every change, newest first;
after it, it deletes what was set aside, as :meth:`Transaction.commit`
would have.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal

import msgspec

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
# Paths are kept as given (strings on the installer's hot path) and made
# Path objects only when a change is undone or finished.
_Entry = tuple[_Change, "str | Path", "Path | None"]


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
        # Directories known to exist or planned, those of them this
        # transaction makes, and those of these already made.
        self._dirs: set[str] = set()
        self._made: set[str] = set()
        self._created: set[str] = set()
        self._note([["begin", str(keep)]])

    def _note(self, lines: Sequence[list[str]]) -> None:
        data = memoryview(b"".join(msgspec.json.encode(line) + b"\n" for line in lines))
        while data:
            data = data[os.write(self._fd, data):]

    def _journal(self, change: _Change, path: str | Path, backup: Path | None = None) -> None:
        self._entries.append((change, path, backup))
        self._note([[change, str(path)] + ([str(backup)] if backup is not None else [])])

    def plan_dirs(self, directories: Iterable[str | Path]) -> list[str]:
        """Journal, in one write, each of *directories* and their parents
        that does not exist yet; return them, parents first.

        The caller creates them (:meth:`create_dirs`) before anything in
        them. Only directories not known yet are looked at.
        """
        missing: list[str] = []
        for directory in map(os.fspath, directories):
            chain = []
            while directory not in self._dirs:
                parent = os.path.dirname(directory)
                # In a directory this transaction makes, nothing exists yet.
                if parent not in self._made and os.path.isdir(directory):
                    break
                chain.append(directory)
                directory = parent
            self._dirs.add(directory)
            chain.reverse()
            self._dirs.update(chain)
            self._made.update(chain)
            missing += chain
        if missing:
            self._entries += [("new dir", path, None) for path in missing]
            self._note([["new dir", path] for path in missing])
        return missing

    def create_dirs(self, directories: Iterable[str]) -> None:
        """Create the planned *directories* (parents first) not created yet.

        Safe from several threads at once: one of them creates each.
        """
        for directory in directories:
            if directory not in self._created:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(directory)
                self._created.add(directory)

    def make_dirs(self, directories: Iterable[str | Path]) -> None:
        """Create each of *directories* and any missing parents."""
        self.create_dirs(self.plan_dirs(directories))

    def made(self, directory: str) -> bool:
        """Whether this transaction makes *directory*: nothing else is in it."""
        return directory in self._made

    def will_create(self, path: str | Path) -> None:
        """Note that *path* (a file, link or directory tree) is about to be created."""
        self._journal("new", path)

    def will_create_all(self, paths: Sequence[str]) -> None:
        """Note, in one write, that the files *paths* are about to be created."""
        if paths:
            self._entries += [("new", path, None) for path in paths]
            self._note([["new", path] for path in paths])

    def write(self, path: str | Path, data: bytes, *, executable: bool = False) -> None:
        """Create the file *path* holding *data*."""
        self.will_create(path)
        write_new(path, data, executable=executable)

    def set_aside(self, path: str | Path) -> bool:
        """Move *path* out of the way if it exists; return whether it did.

        A path in a directory this transaction made holds nothing to set
        aside, and is not looked at.
        """
        text = os.fspath(path)
        if os.path.dirname(text) in self._made or not os.path.lexists(text):
            return False
        directory, name = os.path.split(text)
        backup = Path(directory, f".{name}.freewheel-{self._token}~")
        self._journal("set aside", path, backup)
        os.rename(text, backup)
        return True

    def rollback(self) -> None:
        """Undo every change, newest first, as far as the file system allows."""
        _undo(self._entries)
        self._entries.clear()
        self._close()

    def commit(self) -> list[Path]:
        """Keep the changes: delete what was set aside, and the directories
        that leaves empty; return the original paths of what was set aside."""
        self._note([["commit"]])
        removed = _finish(self._entries, self._root, self._keep)
        self._entries.clear()
        self._close()
        return removed

    def _close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
            self._path.unlink(missing_ok=True)


def write_new(path: str | Path, data: bytes, *, executable: bool = False) -> None:
    """Create the file *path* (which must not exist) holding *data*;
    *executable* makes it executable for everyone the umask allows."""
    with open(path, "xb", buffering=0) as handle:
        handle.write(data)
    if executable:
        os.chmod(path, 0o777 & ~UMASK)


def _undo(entries: list[_Entry]) -> None:
    for change, text, backup in reversed(entries):
        path = Path(text)
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
            removed.append(Path(path))
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
    # A batch names many files in each directory: each is resolved once.
    inside = functools.cache(lambda directory: Path(os.path.realpath(directory)).is_relative_to(real_root))
    for row in rows[1:]:
        if row == ["commit"]:
            committed = True
            continue
        change, *paths = row
        if change not in ("new dir", "new", "set aside") or len(paths) != (2 if change == "set aside" else 1):
            raise _unreadable(path, f"it holds an unknown entry {row!r}")
        target = Path(paths[0])
        backup = Path(paths[1]) if len(paths) == 2 else None
        if not _inside(target, inside) or (backup is not None and not _is_backup_of(backup, target)):
            raise _unreadable(path, f"it names {target}, which is not the environment's to change")
        entries.append((change, target, backup))  # type: ignore[arg-type]
    return keep, entries, committed


def _inside(path: Path, inside: Callable[[Path], bool]) -> bool:
    """Whether *path*, through any link in its directories, is in the
    environment: whether its normalized parent is, by *inside*."""
    normal = Path(os.path.normpath(path))
    return normal.is_absolute() and inside(normal.parent)


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
