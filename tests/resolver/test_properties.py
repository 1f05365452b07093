"""Properties over random small registries, checked against brute force."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from freewheel.resolver.pubgrub import (
    NoSolution,
    Ranges,
    Unavailable,
    format_report,
    resolve,
)

from .registry import ROOT, ROOT_VERSION, Registry, parse_requirements

NAMES = ["a", "b", "c", "d"]
VERSIONS = ["1", "2", "3"]
SPECIFIERS = ["", ">=2", "<2", "==1", "!=3", ">=3"]

requirement = st.builds(lambda name, spec: name + spec, st.sampled_from(NAMES), st.sampled_from(SPECIFIERS))
entry = st.one_of(
    st.lists(requirement, max_size=3),
    st.just({"unavailable": "broken"}),
)
registries = st.builds(
    lambda requires, packages: (requires, packages),
    st.lists(requirement, min_size=1, max_size=3),
    st.dictionaries(
        st.sampled_from(NAMES),
        st.dictionaries(st.sampled_from(VERSIONS), entry, min_size=1),
    ),
)


def satisfies(
    selection: dict[str, Version],
    requires: dict[str, Ranges],
    packages: dict[str, dict[Version, object]],
) -> bool:
    def met(dependencies: dict[str, Ranges]) -> bool:
        return all(name in selection and selection[name] in r for name, r in dependencies.items())

    if not met(requires):
        return False
    for name, version in selection.items():
        dependencies = packages[name][version]
        if isinstance(dependencies, Unavailable) or not met(dependencies):  # type: ignore[arg-type]
            return False
    return True


def brute_force_exists(registry: Registry) -> bool:
    names = list(registry.packages)
    options = [[None, *registry.packages[name]] for name in names]
    for combination in itertools.product(*options):
        selection = {n: v for n, v in zip(names, combination, strict=True) if v is not None}
        if satisfies(selection, registry.requires, registry.packages):  # type: ignore[arg-type]
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(registries)
def test_resolve_agrees_with_brute_force(data: tuple[list[str], dict]) -> None:
    requires, packages = data
    registry = Registry.from_data(requires, packages)
    try:
        solution = resolve(registry, ROOT, ROOT_VERSION)
    except NoSolution as error:
        assert not brute_force_exists(registry)
        # Every failure is explained, down to the conclusion.
        report = format_report(error)
        assert report.endswith("the requirements are unsatisfiable."), report
    else:
        del solution[ROOT]
        assert satisfies(solution, registry.requires, registry.packages)  # type: ignore[arg-type]


def test_parse_requirements_intersects_repeats() -> None:
    parsed = parse_requirements(["a>=1", "a<2"])
    assert Version("1.5") in parsed["a"] and Version("2") not in parsed["a"]
