"""Changing an environment as a plan says: the one place ``pip install``,
``pip sync`` and ``sync`` apply their changes."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from packaging.utils import NormalizedName

from freewheel.python.environments import Environment

from .installer import InstallResult, WheelToInstall, install_wheels
from .link import LinkMode
from .scheme import Scheme
from .uninstall import uninstall


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

    The arguments are :func:`~freewheel.install.install_wheels`'.
    """
    results = []
    if wheels:
        results = install_wheels(
            wheels,
            Scheme.from_interpreter(environment.interpreter),
            archive_bucket=archive_bucket,
            link_mode=link_mode,
            compile_bytecode=compile_bytecode,
            on_copy_fallback=on_copy_fallback,
            on_unpacked=on_unpacked,
            thorough=thorough,
        )
    replaced = {result.name for result in results}
    for name in remove:
        if name not in replaced:
            uninstall(environment.site_packages[0], name, prefix=environment.root)
    return results
