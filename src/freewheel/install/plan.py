"""What ``pip install`` and ``pip sync`` change: a pure comparison of the
resolution with what the environment already holds, and whether the
environment already satisfies the request before any resolution."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Generic, Protocol, TypeVar

import msgspec
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version


class Pinned(Protocol):
    """What the plan needs of a wanted package (a resolution's pin, a lock's entry)."""

    @property
    def name(self) -> NormalizedName: ...

    @property
    def version(self) -> Version: ...


P = TypeVar("P", bound=Pinned)


class Plan(msgspec.Struct, Generic[P], frozen=True):
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


class Installed(Protocol):
    """What :func:`audit` needs of an installed distribution."""

    @property
    def version(self) -> Version: ...

    @property
    def requires(self) -> Sequence[Requirement]: ...


def audit(
    requirements: Sequence[Requirement],
    installed: Mapping[NormalizedName, Installed],
    markers: Mapping[str, str],
    *,
    constraints: Sequence[Requirement] = (),
    follow: bool = True,
) -> list[NormalizedName] | None:
    """The packages that satisfy *requirements* as installed, or ``None``
    when something is missing or at a version they (or *constraints*) do
    not allow.

    Markers are evaluated with *markers*. With *follow*, the installed
    packages' own requirements (and those of the extras asked for) must be
    satisfied too, transitively: then nothing needs resolving, and no index
    needs reading.
    """
    limits: dict[NormalizedName, list[Requirement]] = {}
    for constraint in constraints:
        limits.setdefault(canonicalize_name(constraint.name), []).append(constraint)
    seen: dict[NormalizedName, set[str]] = {}
    pending = [(requirement, "") for requirement in requirements]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({**markers, "extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        dist = installed.get(name)
        if requirement.url or dist is None:
            return None
        wanted = [requirement, *(c for c in limits.get(name, ()) if c.marker is None or c.marker.evaluate(dict(markers)))]
        if not all(r.specifier.contains(dist.version, prereleases=True) for r in wanted):
            return None
        extras = {canonicalize_name(e) for e in requirement.extras}
        known = seen.get(name)
        new = extras if known is None else extras - known
        seen.setdefault(name, set()).update(extras)
        if not follow or (known is not None and not new):
            continue
        # Each extra newly asked for brings its own requirements.
        chosen_extras = ["", *sorted(new)] if known is None else sorted(new)
        for dependency in dist.requires:
            if dependency.marker is not None:
                pending += [(dependency, chosen) for chosen in chosen_extras]
            elif known is None:
                pending.append((dependency, ""))
    return sorted(seen)
