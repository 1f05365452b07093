"""Installing wheels into an environment, all or nothing.

Each wheel is unpacked once into the shared cache (:func:`unpack`), checked
and planned in full before the environment is touched, then placed under a
:class:`~freewheel.install.transaction.Transaction`: files are linked from
the unpacked tree, except those whose content depends on the environment
(scripts with ``#!python``, entry-point launchers, ``RECORD``,
``INSTALLER``, ``REQUESTED``, ``direct_url.json``), which are written.

Files go into directories the transaction made (most of them, in a new
environment) without a look at what is there, each wheel's journalled in
one write, and are linked by a pool of threads; files going where something
may already be are set aside and placed one at a time. ``RECORD`` is
written from the unpacked tree's manifest: no installed file is read back.

A wheel's ``.dist-info`` is assembled under a hidden name and renamed into
place last, so a distribution never looks installed before its files are
there. An installed version of the same project is replaced by installing
the new one over it, then setting aside what only the old one owned, then
its ``.dist-info``: the old version stays importable until the swap, files
both own are replaced rather than deleted and re-created, and an interrupted
upgrade puts the old version back exactly as it was. Any failure, or an
interruption, rolls back every wheel of the batch.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import msgspec
from packaging.utils import NormalizedName
from packaging.version import Version

from freewheel.util.fs import atomic_write_bytes, read_regular

from .errors import InstallError
from .link import Linker, LinkMode
from .records import RecordEntry, format_record, hash_bytes
from .scheme import Scheme
from .scripts import launcher, parse_entry_points, rewrite_shebang, with_versioned_pip
from .site_packages import SOURCE_KEY_FILE
from .transaction import Transaction, write_new
from .uninstall import distributions_by_name, installed_paths
from .unpack import Unpacked, unpack
from .wheelfile import WheelInfo

INSTALLER_NAME = "freewheel"

# Files of a wheel's .dist-info that describe one installation, not the
# wheel: freewheel writes its own.
_PER_INSTALL = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json", SOURCE_KEY_FILE})

# What ``python -m compileall`` does per file, but answering, for each
# NUL-terminated path on stdin in order, the cache file written (empty when
# none), so that it can be recorded. A module that does not compile (Python 2
# syntax, a template) is skipped, as pip skips it: it cannot be imported.
_COMPILE_SCRIPT = r"""
import os, py_compile, sys
for raw in sys.stdin.buffer.read().split(b"\0")[:-1]:
    try:
        cache = os.fsencode(py_compile.compile(os.fsdecode(raw), doraise=True))
    except (py_compile.PyCompileError, OSError, ValueError):
        cache = b""
    sys.stdout.buffer.write(cache + b"\0")
"""


class WheelToInstall(msgspec.Struct, frozen=True):
    """A wheel to install and what the caller knows about it.

    ``expected_sha256`` (hex) is checked before the wheel is read;
    ``requested`` writes ``REQUESTED`` (the user asked for this project, it
    is not only a dependency); ``direct_url`` is written as the PEP 610
    ``direct_url.json`` when the wheel came from a URL or path rather than
    an index; ``source_key`` (a digest of the local project the wheel was
    built from) is written into the ``.dist-info`` as ``SOURCE_KEY_FILE``,
    for a later sync to tell whether that project changed since.
    """

    path: Path
    expected_sha256: str | None = None
    requested: bool = False
    direct_url: Mapping[str, Any] | None = None
    source_key: str | None = None


class InstallResult(msgspec.Struct, frozen=True):
    """What installing one wheel did.

    ``replaced`` are the ``.dist-info`` directories of the versions it
    replaced (a reinstall of the same version replaces its own).
    """

    name: NormalizedName
    version: Version
    dist_info: Path
    replaced: tuple[Path, ...]


class _Placement(msgspec.Struct, frozen=True):
    """One file to put at *target* in the environment: linked from
    *source*, written from *data*, or made a symbolic link to
    *link_target*."""

    target: str
    record: RecordEntry
    source: str | None = None
    data: bytes | None = None
    link_target: str | None = None
    executable: bool = False


class _Layout(msgspec.Struct, frozen=True):
    wheel: WheelInfo
    tree: str
    lib_dir: str
    placements: tuple[_Placement, ...]
    replaced: tuple[tuple[Path, tuple[Path, ...]], ...]

    @property
    def dist_info(self) -> str:
        return os.path.join(self.lib_dir, self.wheel.dist_info)

    @property
    def staging(self) -> str:
        """Where the ``.dist-info`` is assembled, hidden."""
        return os.path.join(self.lib_dir, f".{self.wheel.dist_info}.freewheel-partial")

    def record_rows(self) -> list[RecordEntry]:
        """The rows of the ``RECORD`` installed: every file placed, and itself."""
        record = RecordEntry(_record_path(os.path.join(self.dist_info, "RECORD"), self.lib_dir))
        return [*(placement.record for placement in self.placements), record]


class _DamagedTree(Exception):
    """A file of the unpacked tree of the wheel at *index* is missing, or
    not a regular file."""

    def __init__(self, index: int) -> None:
        self.index = index


# Files linked by one task of the pool: a wheel of fewer is linked by one
# thread, in order.
_CHUNK = 256


def install_wheels(
    wheels: Sequence[WheelToInstall],
    scheme: Scheme,
    *,
    archive_bucket: Path,
    link_mode: LinkMode | None = None,
    compile_bytecode: bool = False,
    on_copy_fallback: Callable[[], None] | None = None,
    on_unpacked: Callable[[], None] = lambda: None,
    thorough: Sequence[bool] = (),
) -> list[InstallResult]:
    """Install *wheels* into the environment *scheme* describes, as one batch.

    Wheels are unpacked into *archive_bucket* (or found there already) in
    parallel, *on_unpacked* being called as each is ready; a tree found
    there is checked in full for the wheels *thorough* marks (by position),
    and is unpacked again if a file of it turns out missing. They are
    linked into the environment by *link_mode* (the fastest that works when
    ``None``; *on_copy_fallback* is called if files had to be copied
    instead of linked). With *compile_bytecode*, the environment's interpreter
    compiles the installed modules once for the whole batch, and the
    ``.pyc`` files are added to each ``RECORD``.

    :raises InstallError: when a wheel is invalid or unsafe, an installed
        version cannot be replaced, or the file system fails; the
        environment is then left as it was. An interruption
        (``KeyboardInterrupt``) also restores it before propagating; a
        killed process leaves a journal that
        :func:`~freewheel.install.transaction.finish_interrupted` finishes.
    """
    full = [*thorough, *[False] * (len(wheels) - len(thorough))]
    linker = Linker(link_mode, on_copy_fallback=on_copy_fallback)

    def unpacked(wheel: WheelToInstall, check: bool) -> Unpacked:
        return unpack(wheel.path, archive_bucket, expected_sha256=wheel.expected_sha256, thorough=check)

    installed_before = distributions_by_name([scheme.purelib, scheme.platlib])
    with ThreadPoolExecutor() as pool:
        layouts = []
        for wheel, tree in zip(wheels, pool.map(unpacked, wheels, full), strict=True):
            on_unpacked()
            layouts.append(_layout(wheel, tree, scheme, installed_before))
        healed: set[int] = set()
        while True:
            try:
                installed = _install(layouts, scheme, linker, pool)
                break
            except _DamagedTree as damaged:
                if damaged.index in healed:
                    raise InstallError(
                        f"The unpacked copy of {layouts[damaged.index].wheel.filename} in the cache "
                        "lost a file again while it was being installed. The environment was left as it was."
                    ) from None
                healed.add(damaged.index)
                wheel = wheels[damaged.index]
                layouts[damaged.index] = _layout(wheel, unpacked(wheel, True), scheme, installed_before)
    if compile_bytecode:
        _compile(installed, layouts, scheme.executable)
    return installed


def _install(
    layouts: Sequence[_Layout], scheme: Scheme, linker: Linker, pool: ThreadPoolExecutor
) -> list[InstallResult]:
    """Place every layout's files under one transaction, then commit it."""
    try:
        transaction = Transaction(scheme.prefix, keep=scheme.purelib)
    except OSError as exc:
        raise InstallError(
            f"Could not start changing the environment {scheme.prefix}: {exc.strerror or exc}."
        ) from None
    winners = {placement.target: (i, j) for i, layout in enumerate(layouts) for j, placement in enumerate(layout.placements)}
    links: list[tuple[Future[None], int]] = []
    index = 0
    try:
        for index, layout in enumerate(layouts):
            # Where two placements of the batch go to one path, the last wins,
            # as if it had replaced the other.
            placements = [p for j, p in enumerate(layout.placements) if winners[p.target] == (index, j)]
            links += [(task, index) for task in _place(layout, placements, transaction, linker, pool)]
        for task, index in links:
            task.result()
        installed = []
        for index, layout in enumerate(layouts):
            installed.append(_finish(layout, transaction))
    except BaseException as exc:
        # No thread may create anything once the rollback has started.
        for task, _ in links:
            task.cancel()
        wait([task for task, _ in links])
        transaction.rollback()
        if not isinstance(exc, OSError):
            raise
        if _is_damaged(exc, layouts[index].tree):
            raise _DamagedTree(index) from None
        raise InstallError(
            f"Could not install {layouts[index].wheel.filename}: {exc.strerror or exc} ({exc.filename}). "
            "The environment was left as it was."
        ) from None
    transaction.commit()
    return installed


def _is_damaged(error: OSError, tree: str) -> bool:
    """Whether *error* is about a file of *tree* that is missing, or not a
    regular file any more."""
    name = error.filename
    if not isinstance(name, str) or not name.startswith((tree + "/", tree + os.sep)):
        return False
    try:
        return not stat.S_ISREG(os.lstat(name).st_mode)
    except OSError:
        return True


def _layout(
    wheel: WheelToInstall, unpacked: Unpacked, scheme: Scheme, installed: Mapping[NormalizedName, list[Path]]
) -> _Layout:
    """Decide every file's place and content, touching nothing; *installed*
    are the ``.dist-info`` directories in the environment, by project."""
    contents = unpacked.contents
    info = contents.info
    tree = os.fspath(unpacked.tree)
    lib_dir = os.fspath(scheme.lib_dir(info))
    per_install = {f"{info.dist_info}/{name}" for name in _PER_INSTALL}
    placements = []
    for path, entry in sorted(contents.files.items()):
        if path in per_install:
            continue
        category, target = scheme.destination(info, path)
        # A member outside .data lands at its own path under lib_dir, which
        # is what RECORD names: no relative path needs computing.
        record = entry if category == "root" else RecordEntry(_record_path(target, lib_dir), entry.hash, entry.size)
        if path in contents.symlinks:
            placements.append(_Placement(target, record, link_target=contents.symlinks[path]))
            continue
        source = f"{tree}{os.sep}{path}"
        rewritten = rewrite_shebang(read_regular(source), scheme.executable) if category == "scripts" else None
        if rewritten is not None:
            placements.append(_written(target, rewritten, lib_dir, executable=True))
        else:
            placements.append(_Placement(target, record, source=source))
    entry_points = f"{info.dist_info}/entry_points.txt"
    if entry_points in contents.files:
        text = read_regular(os.path.join(tree, entry_points)).decode("utf-8")
        scripts = parse_entry_points(text, source=info.filename)
        for script in with_versioned_pip(scripts, scheme.python_version):
            content = launcher(script, scheme.executable)
            placements.append(_written(os.path.join(scheme.scripts, script.name), content, lib_dir, executable=True))
    dist_info = os.path.join(lib_dir, info.dist_info)
    placements.append(_written(os.path.join(dist_info, "INSTALLER"), f"{INSTALLER_NAME}\n".encode(), lib_dir))
    if wheel.requested:
        placements.append(_written(os.path.join(dist_info, "REQUESTED"), b"", lib_dir))
    if wheel.direct_url is not None:
        direct_url = json.dumps(dict(wheel.direct_url), sort_keys=True).encode()
        placements.append(_written(os.path.join(dist_info, "direct_url.json"), direct_url, lib_dir))
    if wheel.source_key is not None:
        key = f"{wheel.source_key}\n".encode()
        placements.append(_written(os.path.join(dist_info, SOURCE_KEY_FILE), key, lib_dir))
    replaced = tuple(
        (old, tuple(installed_paths(old, prefix=scheme.prefix)))
        for old in installed.get(info.name, [])
    )
    return _Layout(info, tree, lib_dir, tuple(placements), replaced)


def _written(target: str, data: bytes, lib_dir: str, *, executable: bool = False) -> _Placement:
    record = RecordEntry(_record_path(target, lib_dir), hash_bytes(data), len(data))
    return _Placement(target, record, data=data, executable=executable)


def _record_path(target: str, lib_dir: str) -> str:
    """*target* as ``RECORD`` names it: relative to *lib_dir*, ``/``-separated.

    Scripts come out as ``../../../bin/name``, as pip writes them.
    """
    try:
        return os.path.relpath(target, lib_dir).replace(os.sep, "/")
    except ValueError:
        # On another Windows drive no relative path exists.
        return target


def _place(
    layout: _Layout,
    placements: Sequence[_Placement],
    transaction: Transaction,
    linker: Linker,
    pool: ThreadPoolExecutor,
) -> list[Future[None]]:
    """Place *placements* of *layout* (its ``.dist-info`` files in its
    staging directory); return the pool's tasks still placing some."""
    final, staging = layout.dist_info, layout.staging
    transaction.make_dirs([layout.lib_dir])
    transaction.set_aside(staging)
    transaction.make_dirs([staging])
    inside = final + os.sep
    located = [
        (placement, staging + placement.target[len(final):] if placement.target.startswith(inside) else placement.target)
        for placement in placements
    ]
    transaction.plan_dirs(sorted({os.path.dirname(location) for _, location in located}))
    # RECORD is known already: it is written with the rest.
    record = layout.record_rows()
    new = [(_Placement(final + os.sep + "RECORD", record[-1], data=format_record(record).encode()), staging + os.sep + "RECORD")]
    for placement, location in located:
        if transaction.made(os.path.dirname(location)):
            new.append((placement, location))
            continue
        # Something may be there already: set it aside, one file at a time.
        transaction.set_aside(location)
        if placement.data is not None:
            transaction.write(location, placement.data, executable=placement.executable)
            continue
        transaction.will_create(location)
        _create(placement, location, linker, layout)
    # In directories made for this batch nothing can be in the way: their
    # files are journalled at once, then made by the pool, each task
    # making the directories its files need first.
    transaction.will_create_all([location for _, location in new])
    tasks = []
    for start in range(0, len(new), _CHUNK):
        chunk = new[start : start + _CHUNK]
        directories: set[str] = set()
        for _, location in chunk:
            directory = os.path.dirname(location)
            while directory not in directories and transaction.made(directory):
                directories.add(directory)
                directory = os.path.dirname(directory)
        tasks.append(pool.submit(_create_all, chunk, sorted(directories), transaction, linker, layout))
    return tasks


def _create_all(
    located: Sequence[tuple[_Placement, str]],
    directories: Sequence[str],
    transaction: Transaction,
    linker: Linker,
    layout: _Layout,
) -> None:
    transaction.create_dirs(directories)
    for placement, location in located:
        _create(placement, location, linker, layout)


def _create(placement: _Placement, location: str, linker: Linker, layout: _Layout) -> None:
    """Make the file *placement* describes at *location* (journalled already)."""
    if placement.data is not None:
        write_new(location, placement.data, executable=placement.executable)
    elif placement.link_target is not None:
        os.symlink(placement.link_target, location)
    else:
        assert placement.source is not None
        linker.link(placement.source, location, source_root=layout.tree, target_root=layout.lib_dir)


def _finish(layout: _Layout, transaction: Transaction) -> InstallResult:
    """Set aside what only the versions replaced owned, and move the
    ``.dist-info`` into place."""
    final, staging = layout.dist_info, layout.staging
    new_paths = {placement.target for placement in layout.placements}
    for _, old_paths in layout.replaced:
        for path in old_paths:
            if os.fspath(path) not in new_paths:
                transaction.set_aside(path)
    transaction.will_create(final)
    os.rename(staging, final)
    return InstallResult(
        name=layout.wheel.name,
        version=layout.wheel.version,
        dist_info=Path(final),
        replaced=tuple(old for old, _ in layout.replaced),
    )


def _compile(installed: list[InstallResult], layouts: list[_Layout], executable: Path) -> None:
    modules = [
        (index, placement.target)
        for index, layout in enumerate(layouts)
        for placement in layout.placements
        if placement.target.endswith(".py") and placement.target.startswith(layout.lib_dir + os.sep)
    ]
    if not modules:
        return
    try:
        result = subprocess.run(
            [str(executable), "-I", "-c", _COMPILE_SCRIPT],
            input=b"\0".join(os.fsencode(path) for _, path in modules) + b"\0",
            capture_output=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise InstallError(
            f"The packages were installed, but {executable} failed to compile their "
            f"bytecode ({exc}). They work without it; imports are slower the first time."
        ) from None
    caches: list[list[str]] = [[] for _ in installed]
    answers = result.stdout.split(b"\0")
    for (index, _), answer in zip(modules, answers, strict=False):
        if answer:
            caches[index].append(os.fsdecode(answer))
    for dist, layout, own in zip(installed, layouts, caches, strict=True):
        rows = layout.record_rows() + [RecordEntry(_record_path(cache, layout.lib_dir)) for cache in own]
        atomic_write_bytes(dist.dist_info / "RECORD", format_record(rows).encode())
