"""Running a resolution end to end: requirements in, pinned packages out.

This is where the pieces meet: the provider answers the PubGrub core, the
solution becomes :class:`~freewheel.lock.requirements_txt.PinnedPackage` values with their
``# via`` annotations, and a failure becomes a
:class:`~freewheel.errors.ResolutionImpossible` whose message is the
derivation tree in words followed by hints that name a fix.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping

from packaging.utils import NormalizedName
from packaging.version import Version

from freewheel.errors import ResolutionImpossible
from freewheel.resolver import pubgrub
from freewheel.resolver.hints import hints_for, term_describer
from freewheel.resolver.provider import ROOT, ROOT_VERSION, Package, Provider
from freewheel.resolver.result import PinnedPackage


def resolve(provider: Provider, via_sources: Mapping[NormalizedName, tuple[str, ...]]) -> list[PinnedPackage]:
    """Resolve *provider*'s requirements; *via_sources* annotates the direct
    requirements with the file that asked for them."""
    try:
        solution = pubgrub.resolve(provider, ROOT, ROOT_VERSION)
    except pubgrub.NoSolution as failure:
        raise impossible(provider, failure) from None
    return _pins(provider, solution, via_sources)


def warnings_for(provider: Provider, pins: list[PinnedPackage]) -> list[str]:
    """What a user should know about a successful resolution."""
    warnings = []
    python = provider.policy.target.python_version
    for pin in pins:
        cap = provider.candidate(pin.name, pin.version).python_cap
        declared = str(cap) if cap is not None else provider.python_caps.get((pin.name, pin.version))
        if declared is not None:
            warnings.append(
                f"{pin.name}=={pin.version} declares Requires-Python {declared}, which excludes "
                f"Python {python}; no version that supports it fits, so its upper bound was "
                "ignored (as uv does)."
            )
    return warnings


def impossible(provider: Provider, failure: pubgrub.NoSolution) -> ResolutionImpossible:
    """The error a failed resolution raises: the explanation, then hints that name a fix."""
    report = pubgrub.format_report(failure, describe=term_describer(provider))
    hints = hints_for(provider, failure)
    message = "No solution found when resolving dependencies:\n" + _indent(report)
    if hints:
        message += "\n\n" + "\n".join(f"hint: {h}" for h in hints)
    return ResolutionImpossible(message)


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" if line else line for line in text.splitlines())


def _pins(
    provider: Provider,
    solution: Mapping[object, Version],
    via_sources: Mapping[NormalizedName, tuple[str, ...]],
) -> list[PinnedPackage]:
    versions: dict[NormalizedName, Version] = {}
    extras: dict[NormalizedName, set[NormalizedName]] = collections.defaultdict(set)
    for package, version in solution.items():
        if isinstance(package, Package):
            versions[package.name] = version
            if package.extra:
                extras[package.name].add(package.extra)

    via: dict[NormalizedName, set[str]] = collections.defaultdict(set)
    for name, sources in via_sources.items():
        via[name].update(sources)
    for package, version in solution.items():
        if not isinstance(package, Package):
            continue
        for dep in provider.dependencies.get((package, version), {}):
            if dep.name != package.name:
                via[dep.name].add(package.name)

    pins = []
    for name, version in versions.items():
        candidate = provider.candidate(name, version)
        chosen = candidate.files[0]
        same_index = tuple(
            f for v, files in provider.listing(name).versions if v == version
            for f in files if f.index == chosen.index
        )
        pins.append(
            PinnedPackage(
                name=name,
                version=version,
                extras=frozenset(extras.get(name, ())),
                files=same_index,
                index=chosen.index,
                via=tuple(sorted(via.get(name, ()))),
                dist=chosen,
            )
        )
    return sorted(pins, key=lambda p: p.name)


def yanked_warnings(pins: Iterable[PinnedPackage]) -> list[str]:
    """A warning for each of *pins* whose file its index marks yanked
    (PEP 592: only an exact pin selects one), with the index's reason, in
    uv's words."""
    warnings = []
    for pin in pins:
        if pin.dist is None or pin.dist.yanked is None:
            continue
        # The reason is the index's text: one line, whatever it holds.
        reason = " ".join(pin.dist.yanked.split())
        warnings.append(f"`{pin.name}=={pin.version}` is yanked" + (f' (reason: "{reason}")' if reason else ""))
    return warnings
