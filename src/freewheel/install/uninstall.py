"""Removing an installed distribution by what its ``RECORD`` lists.

Works for whatever installer wrote the ``RECORD`` (freewheel, pip, uv):
every listed file goes, scripts outside site-packages included, with the
bytecode caches of listed modules and the directories left empty.

What uninstalling never deletes, whatever a ``RECORD`` says:

* anything outside the environment, spelled with ``..`` or reached through
  a symbolic link inside it (its real location is what counts); such a
  ``RECORD`` is refused and nothing is removed, where pip and uv follow it;
* the environment's own files: ``pyvenv.cfg``, its interpreters and its
  activation scripts, which a ``RECORD`` listing ``../../../bin/python3``
  would otherwise take away;
* a file another installed distribution's ``RECORD`` also lists.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Collection, Iterable
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from freewheel.util.fs import read_regular

from .errors import InstallError
from .records import parse_record
from .site_packages import metadata_entries
from .transaction import Transaction


def find_distributions(lib_dirs: Iterable[Path], name: str) -> list[Path]:
    """The ``.dist-info`` directories in *lib_dirs* of the project *name*."""
    return distributions_by_name(lib_dirs).get(canonicalize_name(name), [])


def distributions_by_name(lib_dirs: Iterable[Path]) -> dict[NormalizedName, list[Path]]:
    """The ``.dist-info`` directories in *lib_dirs*, by project, each directory read once."""
    found: dict[NormalizedName, list[Path]] = {}
    for entry, kind in metadata_entries(lib_dirs):
        if kind == "dist-info":
            name = canonicalize_name(entry.name.removesuffix(".dist-info").rpartition("-")[0])
            found.setdefault(name, []).append(entry)
    return found


def installed_paths(
    dist_info: Path, *, prefix: Path, claimed: Collection[Path] = ()
) -> list[Path]:
    """What uninstalling the distribution of *dist_info* removes.

    Every path its ``RECORD`` lists (outside the ``.dist-info``, which goes
    as a whole and comes last), then the ``__pycache__`` files of listed
    ``.py`` modules, whatever interpreter wrote them; except the
    environment's own files (see :func:`environment_files`) and the paths
    in *claimed* (listed by other distributions).

    :raises InstallError: when there is no ``RECORD`` or it lists a path
        whose real location is outside *prefix*.
    """
    label = dist_info.name.removesuffix(".dist-info")
    try:
        text = read_regular(dist_info / "RECORD").decode("utf-8")
    except FileNotFoundError:
        raise InstallError(
            f"Cannot uninstall {label}: {dist_info} has no RECORD, so which files "
            "belong to it is unknown.",
            hint="it was installed by a tool that keeps no record; remove its files by hand",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc.strerror
        raise InstallError(
            f"Cannot uninstall {label}: its RECORD cannot be read ({reason}), so which files "
            "belong to it is unknown. Nothing was removed."
        ) from None
    root = dist_info.parent
    prefix = Path(os.path.realpath(prefix))
    dist_info = _real(dist_info)
    keep = environment_files(prefix) | {_real(path) for path in claimed}
    paths: dict[Path, None] = {}
    for entry in parse_record(text, source=str(dist_info)):
        path = _real(root / entry.path)
        if not path.is_relative_to(prefix):
            raise InstallError(
                f"Cannot uninstall {label}: its RECORD lists {path}, which is outside "
                f"the environment {prefix}. Nothing was removed."
            )
        if path.is_relative_to(dist_info) or path in keep:
            continue
        paths[path] = None
        if path.suffix == ".py":
            pattern = glob.escape(str(path.parent / "__pycache__" / path.stem)) + ".*.pyc"
            paths.update(dict.fromkeys(Path(cache) for cache in sorted(glob.glob(pattern))))
    paths[dist_info] = None
    return list(paths)


def _real(path: Path) -> Path:
    """Where removing *path* acts: its directory's real location, with its own
    name (removing a symbolic link removes the link, not its target)."""
    path = Path(os.path.normpath(path))
    return Path(os.path.realpath(path.parent)) / path.name


def environment_files(prefix: Path) -> set[Path]:
    """The files that make *prefix* an environment: ``pyvenv.cfg``, and the
    interpreters and activation scripts in ``bin`` (``Scripts`` on Windows)."""
    files = {prefix / "pyvenv.cfg"}
    for scripts in (prefix / "bin", prefix / "Scripts"):
        if scripts.is_dir():
            files.update(
                _real(path)
                for path in scripts.iterdir()
                if path.name.lower().startswith(("python", "activate", "deactivate", "pydoc"))
            )
    return files


def claimed_elsewhere(site_packages: Path, dists: Collection[Path]) -> set[Path]:
    """The paths the ``RECORD`` of any distribution in *site_packages*, other
    than *dists*, lists."""
    claimed: set[Path] = set()
    skipped = {_real(dist) for dist in dists}
    for other in site_packages.glob("*.dist-info"):
        if _real(other) in skipped:
            continue
        try:
            text = read_regular(other / "RECORD").decode("utf-8")
            entries = parse_record(text, source=str(other))
        except (OSError, UnicodeDecodeError, InstallError):
            continue  # an unreadable RECORD claims nothing it can prove
        claimed.update(_real(site_packages / entry.path) for entry in entries)
    return claimed


def uninstall(site_packages: Path, name: str, *, prefix: Path | None = None) -> list[Path]:
    """Remove the project *name* installed in *site_packages*; return what went.

    *prefix* is the environment's root; no file outside it is removed. By
    default it is the directory holding the ``lib``/``Lib`` directory that
    contains *site_packages*. Removal is all or nothing: if a file cannot be
    removed, everything is put back.

    :raises InstallError: when the project is not installed there, has no
        ``RECORD``, lists files outside *prefix*, or a file cannot be moved.
    """
    dists = find_distributions([site_packages], name)
    if not dists:
        raise InstallError(f"Cannot uninstall {name}: it is not installed in {site_packages}.")
    root = prefix if prefix is not None else environment_root(site_packages)
    claimed = claimed_elsewhere(site_packages, dists)
    paths = [
        path for dist_info in dists for path in installed_paths(dist_info, prefix=root, claimed=claimed)
    ]
    try:
        transaction = Transaction(root, keep=site_packages)
    except OSError as exc:
        raise InstallError(f"Cannot uninstall {name}: {root} cannot be changed ({exc.strerror}).") from None
    try:
        for path in paths:
            transaction.set_aside(path)
    except OSError as exc:
        transaction.rollback()
        raise InstallError(
            f"Cannot uninstall {name}: {exc.filename} could not be removed "
            f"({exc.strerror}). Nothing was removed."
        ) from None
    except BaseException:
        transaction.rollback()
        raise
    return transaction.commit()


def environment_root(site_packages: Path) -> Path:
    """The prefix *site_packages* belongs to: the parent of its ``lib`` directory.

    Falls back to *site_packages* itself for layouts without one.
    """
    for parent in site_packages.parents:
        if parent.name.lower() in ("lib", "lib64"):
            return parent.parent
    return site_packages
