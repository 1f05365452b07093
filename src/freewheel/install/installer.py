"""Installing wheels into an environment, all or nothing.

Each wheel is unpacked once into the shared cache (:func:`unpack`), checked
and planned in full before the environment is touched, then placed file by
file under a :class:`~freewheel.install.transaction.Transaction`: files are
linked from the unpacked tree, except those whose content depends on the
environment (scripts with ``#!python``, entry-point launchers, ``RECORD``,
``INSTALLER``, ``REQUESTED``, ``direct_url.json``), which are written.

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

import dataclasses
import json
import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName
from packaging.version import Version

from freewheel.util.fs import atomic_write_bytes

from .errors import InstallError
from .link import Linker, LinkMode
from .records import RecordEntry, format_record, hash_bytes, parse_record
from .scheme import Scheme
from .scripts import launcher, parse_entry_points, rewrite_shebang, with_versioned_pip
from .transaction import Transaction
from .uninstall import find_distributions, installed_paths
from .unpack import read_unpacked, unpack
from .wheelfile import WheelInfo

INSTALLER_NAME = "freewheel"

# Files of a wheel's .dist-info that describe one installation, not the
# wheel: freewheel writes its own.
_PER_INSTALL = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})

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


@dataclasses.dataclass(frozen=True, slots=True)
class WheelToInstall:
    """A wheel to install and what the caller knows about it.

    ``expected_sha256`` (hex) is checked before the wheel is read;
    ``requested`` writes ``REQUESTED`` (the user asked for this project, it
    is not only a dependency); ``direct_url`` is written as the PEP 610
    ``direct_url.json`` when the wheel came from a URL or path rather than
    an index.
    """

    path: Path
    expected_sha256: str | None = None
    requested: bool = False
    direct_url: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class InstallResult:
    """What installing one wheel did.

    ``files`` is every path its ``RECORD`` lists; ``replaced`` the
    ``.dist-info`` directories of the versions it replaced (a reinstall of
    the same version replaces its own).
    """

    name: NormalizedName
    version: Version
    dist_info: Path
    files: tuple[Path, ...]
    replaced: tuple[Path, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class _Placement:
    """One file to put into the environment: linked from *source*, written
    from *data*, or made a symbolic link to *link_target*."""

    target: Path
    record: RecordEntry
    source: Path | None = None
    data: bytes | None = None
    link_target: str | None = None
    executable: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class _Layout:
    wheel: WheelInfo
    tree: Path
    lib_dir: Path
    placements: tuple[_Placement, ...]
    replaced: tuple[tuple[Path, tuple[Path, ...]], ...]

    @property
    def dist_info(self) -> Path:
        return self.lib_dir / self.wheel.dist_info


def install_wheels(
    wheels: Sequence[WheelToInstall],
    scheme: Scheme,
    *,
    archive_bucket: Path,
    link_mode: LinkMode | None = None,
    compile_bytecode: bool = False,
    on_copy_fallback: Callable[[], None] | None = None,
) -> list[InstallResult]:
    """Install *wheels* into the environment *scheme* describes, as one batch.

    Wheels are unpacked into *archive_bucket* (or found there already) and
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
    layouts = [
        _layout(wheel, unpack(wheel.path, archive_bucket, expected_sha256=wheel.expected_sha256), scheme)
        for wheel in wheels
    ]
    linker = Linker(link_mode, on_copy_fallback=on_copy_fallback)
    try:
        transaction = Transaction(scheme.prefix, keep=scheme.purelib)
    except OSError as exc:
        raise InstallError(
            f"Could not start changing the environment {scheme.prefix}: {exc.strerror or exc}."
        ) from None
    installed = []
    try:
        for layout in layouts:
            installed.append(_apply(layout, transaction, linker))
    except OSError as exc:
        transaction.rollback()
        filename = layouts[len(installed)].wheel.filename
        raise InstallError(
            f"Could not install {filename}: {exc.strerror or exc} ({exc.filename}). "
            "The environment was left as it was."
        ) from None
    except BaseException:
        transaction.rollback()
        raise
    transaction.commit()
    if compile_bytecode:
        installed = _compile(installed, layouts, scheme.executable)
    return installed


def _layout(wheel: WheelToInstall, tree: Path, scheme: Scheme) -> _Layout:
    """Decide every file's place and content, touching nothing."""
    contents = read_unpacked(tree, wheel.path.name)
    info = contents.info
    lib_dir = scheme.lib_dir(info)
    dist_info_prefix = f"{info.dist_info}/"
    placements = []
    for path, entry in sorted(contents.files.items()):
        if path.startswith(dist_info_prefix) and path.removeprefix(dist_info_prefix) in _PER_INSTALL:
            continue
        category, target = scheme.destination(info, path)
        # A member outside .data lands at its own path under lib_dir, which
        # is what RECORD names: no relative path needs computing.
        record_path = path if category == "root" else _record_path(target, lib_dir)
        record = dataclasses.replace(entry, path=record_path)
        source = tree / path
        if path in contents.symlinks:
            placements.append(_Placement(target, record, link_target=contents.symlinks[path]))
            continue
        rewritten = rewrite_shebang(source.read_bytes(), scheme.executable) if category == "scripts" else None
        if rewritten is not None:
            placements.append(_written(target, rewritten, lib_dir, executable=True))
        else:
            placements.append(_Placement(target, record, source=source))
    entry_points = tree / info.dist_info / "entry_points.txt"
    if entry_points.is_file():
        scripts = parse_entry_points(entry_points.read_text("utf-8"), source=info.filename)
        for script in with_versioned_pip(scripts, scheme.python_version):
            content = launcher(script, scheme.executable)
            placements.append(_written(scheme.scripts / script.name, content, lib_dir, executable=True))
    dist_info = lib_dir / info.dist_info
    placements.append(_written(dist_info / "INSTALLER", f"{INSTALLER_NAME}\n".encode(), lib_dir))
    if wheel.requested:
        placements.append(_written(dist_info / "REQUESTED", b"", lib_dir))
    if wheel.direct_url is not None:
        direct_url = json.dumps(dict(wheel.direct_url), sort_keys=True).encode()
        placements.append(_written(dist_info / "direct_url.json", direct_url, lib_dir))
    replaced = tuple(
        (old, tuple(installed_paths(old, prefix=scheme.prefix)))
        for old in find_distributions([scheme.purelib, scheme.platlib], info.name)
    )
    return _Layout(info, tree, lib_dir, tuple(placements), replaced)


def _written(target: Path, data: bytes, lib_dir: Path, *, executable: bool = False) -> _Placement:
    record = RecordEntry(_record_path(target, lib_dir), hash_bytes(data), len(data))
    return _Placement(target, record, data=data, executable=executable)


def _record_path(target: Path, lib_dir: Path) -> str:
    """*target* as ``RECORD`` names it: relative to *lib_dir*, ``/``-separated.

    Scripts come out as ``../../../bin/name``, as pip writes them.
    """
    try:
        return os.path.relpath(target, lib_dir).replace(os.sep, "/")
    except ValueError:
        # On another Windows drive no relative path exists.
        return str(target)


def _apply(layout: _Layout, transaction: Transaction, linker: Linker) -> InstallResult:
    final = layout.dist_info
    staging = final.with_name(f".{final.name}.freewheel-partial")
    transaction.make_dirs(layout.lib_dir)
    transaction.set_aside(staging)
    transaction.will_create(staging)
    staging.mkdir()
    for placement in layout.placements:
        location = (
            staging / placement.target.relative_to(final)
            if placement.target.is_relative_to(final)
            else placement.target
        )
        transaction.make_dirs(location.parent)
        transaction.set_aside(location)
        if placement.data is not None:
            transaction.write(location, placement.data, executable=placement.executable)
            continue
        transaction.will_create(location)
        if placement.link_target is not None:
            os.symlink(placement.link_target, location)
        else:
            assert placement.source is not None
            linker.link(placement.source, location, source_root=layout.tree, target_root=layout.lib_dir)
    records = [placement.record for placement in layout.placements]
    record_path = _record_path(final / "RECORD", layout.lib_dir)
    record = format_record([*records, RecordEntry(record_path)]).encode()
    transaction.write(staging / "RECORD", record)

    new_paths = {placement.target for placement in layout.placements}
    for _, old_paths in layout.replaced:
        for path in old_paths:
            if path not in new_paths:
                transaction.set_aside(path)
    transaction.will_create(final)
    os.rename(staging, final)
    return InstallResult(
        name=layout.wheel.name,
        version=layout.wheel.version,
        dist_info=final,
        files=(*sorted(new_paths), final / "RECORD"),
        replaced=tuple(old for old, _ in layout.replaced),
    )


def _compile(
    installed: list[InstallResult], layouts: list[_Layout], executable: Path
) -> list[InstallResult]:
    modules = [
        (index, path)
        for index, (dist, layout) in enumerate(zip(installed, layouts, strict=True))
        for path in dist.files
        if path.suffix == ".py" and path.is_relative_to(layout.lib_dir)
    ]
    if not modules:
        return installed
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
    caches: list[list[Path]] = [[] for _ in installed]
    answers = result.stdout.split(b"\0")
    for (index, _), answer in zip(modules, answers, strict=False):
        if answer:
            caches[index].append(Path(os.fsdecode(answer)))
    updated = []
    for dist, layout, own in zip(installed, layouts, caches, strict=True):
        record_file = dist.dist_info / "RECORD"
        rows = parse_record(record_file.read_text("utf-8"), source=str(dist.dist_info))
        rows += [RecordEntry(_record_path(cache, layout.lib_dir)) for cache in own]
        atomic_write_bytes(record_file, format_record(rows).encode())
        updated.append(dataclasses.replace(dist, files=(*dist.files, *own)))
    return updated
