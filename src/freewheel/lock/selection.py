"""What a universal lock installs for one choice of extras and groups.

A lock's markers speak of the selection as PEP 751 does (``'cpu' in
extras``, ``'dev' in dependency_groups``). Settling the selection leaves
markers that speak of the environment only, as a requirements file or an
installer for one selection needs them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import msgspec
from packaging.utils import NormalizedName, canonicalize_name

from freewheel.errors import UsageError
from freewheel.resolver.markers import TRUE, MarkerTree
from freewheel.resolver.result import LockGraph


def select(
    graph: LockGraph, *, extras: Collection[str] = (), groups: Collection[str] | None = None
) -> LockGraph:
    """The part of *graph* installed with *extras* and *groups* (``None``:
    the lock's default groups).

    Packages and dependency edges that the selection never needs are left
    out; the others keep markers with the selection settled (true where
    they held for it), so the result has no extras or groups of its own.

    :raises UsageError: if an extra or a group is not one the lock defines.
    """
    chosen_groups = graph.default_groups if groups is None else groups
    context = _settled("extra", graph.extras, extras) & _settled("group", graph.groups, chosen_groups)
    packages = []
    for package in graph.packages:
        marker = package.marker.simplify_under(context)
        if marker.is_false:
            continue
        edges = ((d, d.marker.simplify_under(context)) for d in package.dependencies)
        dependencies = tuple(msgspec.structs.replace(d, marker=m) for d, m in edges if not m.is_false)
        packages.append(msgspec.structs.replace(package, marker=marker, dependencies=dependencies))
    return msgspec.structs.replace(graph, extras=(), groups=(), default_groups=(), packages=tuple(packages))


_VARIABLE = {"extra": "extras", "group": "dependency_groups"}


def _settled(kind: str, defined: Sequence[NormalizedName], chosen: Collection[str]) -> MarkerTree:
    """Each of *defined* in or out of the selection, as one marker."""
    wanted = {canonicalize_name(name) for name in chosen}
    unknown = sorted(wanted.difference(defined))
    if unknown:
        known = ", ".join(defined) or "none"
        raise UsageError(f"The lock defines no {kind} {unknown[0]!r} (its {kind}s: {known}).")
    context = TRUE
    for name in defined:
        atom = MarkerTree.from_marker(f"'{name}' in {_VARIABLE[kind]}")
        context = context & (atom if name in wanted else ~atom)
    return context
