"""What ``pip install`` and ``pip sync`` change: a pure comparison of the
resolution with what the environment already holds."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from typing import Generic, Protocol, TypeVar

from packaging.utils import NormalizedName
from packaging.version import Version


class Pinned(Protocol):
    """What the plan needs of a wanted package (a resolution's pin, a lock's entry)."""

    @property
    def name(self) -> NormalizedName: ...

    @property
    def version(self) -> Version: ...


P = TypeVar("P", bound=Pinned)


@dataclasses.dataclass(frozen=True, slots=True)
class Plan(Generic[P]):
    """``install`` are pins to install (new, or replacing another version or
    a reinstall); ``remove`` installed distributions to take away (the old
    versions of replaced ones, and with ``sync`` everything not pinned);
    ``unchanged`` pins already satisfied."""

    install: tuple[P, ...]
    remove: tuple[NormalizedName, ...]
    unchanged: tuple[NormalizedName, ...]

    @property
    def empty(self) -> bool:
        return not self.install and not self.remove


def plan(
    pins: Sequence[P],
    installed: Mapping[NormalizedName, Version],
    *,
    reinstall: bool | Collection[NormalizedName] = False,
    sync: bool = False,
    keep: Collection[NormalizedName] = (),
) -> Plan[P]:
    """Compare *pins* with *installed*.

    *reinstall* (everything, or the named packages) installs again what is
    already there. With *sync*, installed distributions that are not pinned
    are removed, except those in *keep* (the installer's own tools, which
    ``pip sync`` must not remove from under the user, as pip and uv do).
    """
    install: list[P] = []
    remove: list[NormalizedName] = []
    unchanged: list[NormalizedName] = []
    for pin in pins:
        current = installed.get(pin.name)
        forced = reinstall is True or (reinstall is not False and pin.name in reinstall)
        if current is not None and current == pin.version and not forced:
            unchanged.append(pin.name)
            continue
        install.append(pin)
        if current is not None:
            remove.append(pin.name)
    if sync:
        pinned = {pin.name for pin in pins}
        remove += sorted(name for name in installed if name not in pinned and name not in keep)
    return Plan(tuple(install), tuple(remove), tuple(unchanged))
