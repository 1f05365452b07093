"""A wheelhouse: a flat directory of distribution files, filled for several
targets and usable as ``--find-links`` or served as a flat index.

Files come from the download store (each downloaded once, hash-checked) and
are linked, or copied where links are refused, into the directory under a
temporary name and renamed into place, so a file in the directory is always
whole. A file already there is kept only when its sha256 is the one the
index gives for it.
"""

from __future__ import annotations

import html
import os
import shutil
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

import msgspec
from packaging.utils import parse_wheel_filename

from freewheel.dists.hashing import sha256_file
from freewheel.errors import UsageError
from freewheel.index.models import DistFile
from freewheel.util.fs import atomic_write_text, file_url_path

#: Name of the optional flat index page written into a wheelhouse.
INDEX_PAGE = "index.html"

_DIST_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")


class Placed(msgspec.Struct, frozen=True):
    """A file of the wheelhouse after a run: its name, sha256 and size, and
    whether this run put it there."""

    filename: str
    sha256: str
    size: int
    added: bool


def prepare(dest: Path) -> None:
    """Create *dest* if needed and check that files can be written into it.

    :raises UsageError: when *dest* is a file, or cannot be created or written.
    """
    try:
        dest.mkdir(parents=True, exist_ok=True)
        probe = dest / f".freewheel-{uuid.uuid4().hex}.tmp"
        probe.touch()
        probe.unlink()
    except OSError as error:
        raise UsageError(
            f"Cannot write into the destination directory {dest}: {error.strerror or error}."
        ) from None


def built(sdist: DistFile, wheel: Path) -> DistFile:
    """The wheel at *wheel*, built from *sdist*, as a file to put in a
    wheelhouse: a local file, vouched for by its own sha256 (the sdist's
    was checked when it was fetched)."""
    _, _, _, tags = parse_wheel_filename(wheel.name)
    return msgspec.structs.replace(
        sdist,
        filename=wheel.name,
        url=wheel.resolve().as_uri(),
        kind="wheel",
        tags=tags,
        hashes={"sha256": sha256_file(wheel)},
        core_metadata=None,
        size=wheel.stat().st_size,
    )


def is_source_tree(dist: DistFile) -> bool:
    """Whether *dist* is a direct reference to a directory (a local project,
    a git checkout) rather than a file."""
    path = file_url_path(dist.url)
    return path is not None and path.is_dir()


def up_to_date(dest: Path, dist: DistFile, allowed: Collection[str] = ()) -> bool:
    """Whether *dest* already holds *dist*'s file: same name, and the sha256
    the index gives (a file the index gives no hash for is never trusted),
    which must be one of *allowed* (a requirement's ``--hash`` values) when
    any is given."""
    path = dest / dist.filename
    expected = dist.hashes.get("sha256")
    if expected is None or (allowed and expected.lower() not in allowed):
        return False
    try:
        return path.is_file() and sha256_file(path) == expected.lower()
    except OSError:
        return False


def place(source: Path, dest: Path, filename: str) -> None:
    """Put the file at *source* into *dest* as *filename*, replacing any
    file of that name: a hard link, or a copy where links are refused."""
    target = dest / filename
    spooled = dest / f".{filename}.{uuid.uuid4().hex}.tmp"
    try:
        try:
            os.link(source, spooled)
        except OSError:
            shutil.copyfile(source, spooled)
        os.replace(spooled, target)
    finally:
        spooled.unlink(missing_ok=True)


def record(dest: Path, dist: DistFile, *, added: bool) -> Placed:
    """What *dest* holds for *dist* once placed (hashed when the index gave no hash)."""
    path = dest / dist.filename
    sha256 = dist.hashes.get("sha256") or sha256_file(path)
    return Placed(dist.filename, sha256.lower(), path.stat().st_size, added)


def is_distribution(filename: str) -> bool:
    """Whether *filename* names a wheel or an sdist."""
    return filename.endswith(_DIST_SUFFIXES)


def prune(dest: Path, keep: Iterable[str]) -> list[str]:
    """Remove the distribution files of *dest* not named in *keep*; return
    their names, sorted. Other files are left alone."""
    kept = set(keep)
    removed = sorted(
        entry.name
        for entry in dest.iterdir()
        if entry.is_file() and is_distribution(entry.name) and entry.name not in kept
    )
    for name in removed:
        (dest / name).unlink()
    return removed


def index_page(dest: Path, known: Mapping[str, str]) -> str:
    """A flat index page (PEP 503 shape) of every distribution file in
    *dest*: one link per file, with its sha256 from *known* (filename to
    sha256) or computed."""
    links = []
    for entry in sorted(dest.iterdir(), key=lambda e: e.name):
        if entry.is_file() and is_distribution(entry.name):
            sha256 = known.get(entry.name) or sha256_file(entry)
            name = html.escape(entry.name)
            links.append(f'    <a href="{quote(entry.name)}#sha256={sha256}">{name}</a><br/>\n')
    return (
        "<!DOCTYPE html>\n<html>\n  <head><title>Links</title></head>\n  <body>\n"
        + "".join(links)
        + "  </body>\n</html>\n"
    )


def fill(
    dest: Path,
    needed: Iterable[DistFile],
    fetch: Callable[[Sequence[tuple[DistFile, Collection[str]]]], Sequence[Path]],
    *,
    allowed: Mapping[str, Collection[str]] | None = None,
    prune_others: bool = False,
    write_index: bool = False,
) -> tuple[list[Placed], list[str]]:
    """Put every file of *needed* into *dest* (one per filename, the first
    named), fetching with *fetch* only those *dest* does not hold already:
    it gives the local paths of the files it is given, each checked against
    the index's sha256 and, when any, the sha256 values given with it
    (*allowed*, by filename: requirements' ``--hash`` values). With
    *prune_others*, remove the distribution files not needed; with
    *write_index*, write :data:`INDEX_PAGE`. Return what *dest* holds of
    *needed*, and the names pruned."""
    wanted: dict[str, DistFile] = {}
    for dist in needed:
        wanted.setdefault(dist.filename, dist)
    allowed = allowed or {}
    missing = [
        (dist, allowed.get(dist.filename, ())) for dist in wanted.values()
        if not up_to_date(dest, dist, allowed.get(dist.filename, ()))
    ]
    for (dist, _), path in zip(missing, fetch(missing), strict=True):
        place(path, dest, dist.filename)
    added = {dist.filename for dist, _ in missing}
    placed = [record(dest, dist, added=dist.filename in added) for dist in wanted.values()]
    pruned = prune(dest, wanted) if prune_others else []
    if write_index:
        atomic_write_text(dest / INDEX_PAGE, index_page(dest, {p.filename: p.sha256 for p in placed}))
    return placed, pruned


def summary(placed: Sequence[Placed], pruned: Sequence[str], where: str) -> str:
    """One line on what a run left in the wheelhouse shown as *where*."""
    added = [p for p in placed if p.added]
    line = (
        f"{len(placed)} files ({_size(sum(p.size for p in placed))}) in {where}: "
        f"{len(added)} added ({_size(sum(p.size for p in added))}), {len(placed) - len(added)} already there"
    )
    return line + (f", {len(pruned)} pruned" if pruned else "")


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
