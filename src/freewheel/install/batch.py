"""Changing an environment as a plan says: the one place ``pip install``,
``pip sync`` and ``sync`` apply their changes."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.utils import NormalizedName

from freewheel.python.environments import Environment

from .installer import InstallResult, WheelToInstall, install_wheels
from .link import LinkMode
from .scheme import Scheme
from .uninstall import uninstall
from .unpack import unpack


def apply_changes(
    environment: Environment,
    wheels: Sequence[WheelToInstall],
    remove: Collection[NormalizedName],
    *,
    archive_bucket: Path,
    link_mode: LinkMode | None = None,
    compile_bytecode: bool = False,
    on_copy_fallback: Callable[[], None] | None = None,
    on_unpacked: Callable[[], None] = lambda: None,
    thorough: Sequence[bool] = (),
) -> list[InstallResult]:
    """Install *wheels* into *environment* as one batch, then uninstall the
    distributions in *remove* that none of them replaced.

    The wheels are first unpacked into *archive_bucket* in parallel
    (*on_unpacked* is called as each is ready, from any thread); a tree
    already unpacked there is checked against its ``RECORD``: its sizes, and
    every hash for the wheels *thorough* marks (by position). The other
    arguments are :func:`~freewheel.install.install_wheels`'.
    """
    full = [*thorough, *[False] * (len(wheels) - len(thorough))]

    def unpacked(wheel: WheelToInstall, check_hashes: bool) -> Path:
        return unpack(wheel.path, archive_bucket, expected_sha256=wheel.expected_sha256, thorough=check_hashes)

    # Unpacking is the slow part of a cold install and each wheel is
    # independent: do it in parallel, so the installer finds every tree
    # already in the cache (and checked as asked).
    with ThreadPoolExecutor() as pool:
        for _ in pool.map(unpacked, wheels, full):
            on_unpacked()
    results = []
    if wheels:
        results = install_wheels(
            wheels,
            Scheme.from_interpreter(environment.interpreter),
            archive_bucket=archive_bucket,
            link_mode=link_mode,
            compile_bytecode=compile_bytecode,
            on_copy_fallback=on_copy_fallback,
        )
    replaced = {result.name for result in results}
    for name in remove:
        if name not in replaced:
            uninstall(environment.site_packages[0], name, prefix=environment.root)
    return results
