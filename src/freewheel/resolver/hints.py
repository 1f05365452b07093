"""Hints that name the fix when a resolution fails.

The derivation tree says *what* conflicts; users mostly need *why a version
they expected was not there*: it is on an index the strategy skipped, on an
explicit index nothing pins the package to, or it was excluded by
``Requires-Python``, platform tags, yanking, the pre-release policy or
``--exclude-newer``. Each hint says which, and what to type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from packaging.version import Version

from freewheel.cache.http import OFFLINE_MISS
from freewheel.resolver import pubgrub
from freewheel.resolver.candidates import prerelease_rejection
from freewheel.resolver.provider import Package, Provider
from freewheel.resolver.pubgrub import Ranges

_MAX_LISTED = 3


def term_describer(provider: Provider) -> Callable[[object, Ranges], str]:
    """How a failure report writes a term: ``foo`` for any version of foo
    (not ``foo *``), and ranges over the versions that exist, simplified:
    the solver learns per release, and forty releases in a row read as one
    range, not forty."""

    def describe(package: object, range_: Ranges) -> str:
        if isinstance(package, Package) and package.name in provider.listings:
            range_ = range_.simplify(provider.available_versions(package.name))
        if range_.is_full:
            return str(package)
        return pubgrub.describe_term(package, range_)

    return describe


def hints_for(provider: Provider, failure: pubgrub.NoSolution) -> list[str]:
    hints: list[str] = []
    seen: set[object] = set()
    unserved: set[object] = set()
    uncached: dict[str, None] = {}
    for incompatibility in failure.incompatibility.external_incompatibilities():
        cause = incompatibility.cause
        if isinstance(cause, pubgrub.UnavailableVersions) and cause.reason.endswith(OFFLINE_MISS):
            uncached[str(cause.package)] = None
        for package in incompatibility.terms:
            if isinstance(package, Package) and package.name in provider.unserved and package.name not in unserved:
                unserved.add(package.name)
                hints.append(_unserved_hint(package.name, provider.unserved[package.name]))
        if not isinstance(cause, pubgrub.NoVersions):
            continue
        package = cause.package
        if not isinstance(package, Package) or package.name in seen:
            continue
        seen.add(package.name)
        hints += _no_versions_hints(provider, package, cause.range)
    if uncached:
        hints.append(
            f"The cache lacks files of {', '.join(uncached)}, and --offline reads nothing else: "
            "run once without --offline to fill the cache."
        )
    return hints


def _unserved_hint(name: str, versions: Mapping[Version, str]) -> str:
    newest = max(versions)
    return (
        f"{name} {newest} has no wheel for `{versions[newest]}`, an environment the project lists in "
        f"`required-environments`, and no source distribution to build: require a version of {name} "
        "that has one, or remove that environment from `required-environments`."
    )


def _no_versions_hints(provider: Provider, package: Package, range_: Ranges) -> list[str]:
    name = package.name
    if name not in provider.listings:
        return []
    every = provider.candidates(name).all()
    term = term_describer(provider)(package, range_)
    hints: list[str] = []

    rejected = [c for c in every if not c.usable and range_.contains(c.version)]
    if rejected:
        rejected.sort(key=lambda c: c.version, reverse=True)
        parts = [f"{c.version} ({c.rejection})" for c in rejected[:_MAX_LISTED]]
        more = f" and {len(rejected) - _MAX_LISTED} more" if len(rejected) > _MAX_LISTED else ""
        hints.append(f"{name} has versions matching {term} that cannot be used: {', '.join(parts)}{more}.")

    untried = [
        c for c in every if c.usable and range_.contains(c.version) and prerelease_rejection(provider.policy, c)
    ]
    if untried:
        versions = ", ".join(str(c.version) for c in untried[:_MAX_LISTED])
        hints.append(
            f"{name} {versions} would match {term} but pre-releases are not allowed for {name} "
            f"(--prerelease {provider.policy.prerelease}); pass --prerelease allow, or ask for "
            f"a pre-release explicitly (e.g. {name}>={untried[0].version.public})."
        )

    hints += _other_index_hints(provider, package, range_, term)
    return hints


def _other_index_hints(provider: Provider, package: Package, range_: Ranges, term: str) -> list[str]:
    name = package.name
    listing = provider.listings[name]
    hints: list[str] = []
    used = [o for o in listing.outcomes if o.status == "found"]
    for outcome in provider.source.other_offers(name):
        matching = sorted({f.version for f in outcome.files if range_.contains(f.version)}, reverse=True)
        if not matching:
            continue
        versions = ", ".join(str(v) for v in matching[:_MAX_LISTED])
        index = outcome.index
        pin_name = index.name or "NAME"
        pin = (
            f'pin {name} to it with `{provider.source.sources_table} {name} = {{ index = "{pin_name}" }}`'
            + ("" if index.name else f" after naming it (`--index {pin_name}={index.display}`)")
        )
        if index.explicit:
            hints.append(
                f"{name} {versions} (matching {term}) is on the explicit index {index.label}, "
                f"which is only used for packages pinned to it: {pin}."
            )
        else:
            first = used[0].index.label if used else "an earlier index"
            hints.append(
                f"{name} {versions} (matching {term}) is on {index.label}, but under "
                f"--index-strategy {provider.source.strategy} {name} comes only from {first}, "
                f"the first index that lists it. Either pass --index-strategy unsafe-best-match "
                f"(or unsafe-first-match), or {pin}."
            )
    if not hints and not used:
        asked = "; ".join(f"{o.index.label} ({o.detail})" for o in listing.outcomes) or "no index"
        hints.append(f"{name} was not found on any index. Asked: {asked}.")
    return hints
