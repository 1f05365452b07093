"""The solver's API beyond scenarios: the derivation tree, ranges in reports, scale."""

from __future__ import annotations

import time

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from freewheel.resolver.pubgrub import (
    FromDependency,
    NoSolution,
    NotRoot,
    NoVersions,
    Ranges,
    UnavailableVersions,
    format_report,
    from_specifiers,
    resolve,
)

from .registry import ROOT, ROOT_VERSION, Registry


def failure(requires: list[str], packages: dict) -> NoSolution:
    with pytest.raises(NoSolution) as raised:
        resolve(Registry.from_data(requires, packages), ROOT, ROOT_VERSION)
    return raised.value


def test_external_incompatibilities_expose_every_kind_of_cause() -> None:
    error = failure(
        ["a", "b>=2"],
        {"a": {"1.0": ["b<2"], "2.0": {"unavailable": "no metadata"}}, "b": {"1.0": []}},
    )
    causes = [incompatibility.cause for incompatibility in error.incompatibility.external_incompatibilities()]
    kinds = {type(cause) for cause in causes}
    assert kinds <= {NotRoot, NoVersions, UnavailableVersions, FromDependency}
    assert UnavailableVersions in kinds and FromDependency in kinds
    unavailable = next(c for c in causes if isinstance(c, UnavailableVersions))
    assert (unavailable.package, unavailable.reason) == ("a", "no metadata")
    assert Version("2.0") in unavailable.version_range
    assert any(
        isinstance(c, FromDependency) and c.package is ROOT and c.dependency == "b" for c in causes
    )


def test_report_uses_the_callers_describe() -> None:
    error = failure(["a>=2"], {"a": {"1.0": []}})
    report = format_report(error, describe=lambda package, range_: f"<{package}>")
    assert report == (
        "Because there is no version of <a> and you require <a>, the requirements are unsatisfiable."
    )


def test_report_is_stable_across_runs() -> None:
    packages = {"a": {"1.0": ["c<2"], "2.0": ["c>=3"]}, "b": {"1.0": ["c>=2,<3"]}, "c": {"1.0": [], "2.0": [], "3.0": []}}
    reports = {format_report(failure(["a", "b"], packages)) for _ in range(3)}
    assert len(reports) == 1


@pytest.mark.parametrize(
    ("range_", "text"),
    [
        (Ranges.full(), "*"),
        (Ranges.singleton(Version("1.0")), "==1.0"),
        (from_specifiers(SpecifierSet("<2,>=1")), ">=1,<2"),
        (from_specifiers(SpecifierSet(">=1")) - Ranges.singleton(Version("1.5")), ">=1,!=1.5"),
        (from_specifiers(SpecifierSet("<1")) | from_specifiers(SpecifierSet(">=2")), "<1 | >=2"),
    ],
)
def test_range_text(range_: Ranges, text: str) -> None:
    assert str(range_) == text


def test_local_version_is_decided_exactly() -> None:
    registry = Registry.from_data(["torch==2.1.1", "extra"], {
        "torch": {"2.1.1+cpu": [], "2.1.1": []},
        "extra": {"1.0": ["torch==2.1.1+cpu"]},
    })
    solution = resolve(registry, ROOT, ROOT_VERSION)
    assert str(solution["torch"]) == "2.1.1+cpu"


@pytest.mark.parametrize(("order", "expected"), [(["a", "b"], ("2.0", "1.0")), (["b", "a"], ("1.0", "2.0"))])
def test_earlier_requirement_keeps_its_newest_version(order: list[str], expected: tuple[str, str]) -> None:
    packages = {
        "a": {"1.0": [], "2.0": ["x<2"]},
        "b": {"1.0": [], "2.0": ["x>=2"]},
        "x": {"1.0": [], "2.0": []},
    }
    solution = resolve(Registry.from_data(order, packages), ROOT, ROOT_VERSION)
    assert (str(solution["a"]), str(solution["b"])) == expected


def test_large_registry_with_forced_backtracks_resolves_quickly() -> None:
    # 300 chained packages with 30 versions each. The newest three versions
    # of every link need a helper that caps the previous link below them, which
    # is found only after deciding the helper: every other link backtracks
    # through three versions.
    packages: dict[str, dict[str, object]] = {}
    for i in range(300):
        link = {}
        for v in range(1, 31):
            dependencies = [f"p{i + 1}"] if i < 299 else []
            if v > 27 and i > 0:
                dependencies.append(f"s{i}")
            link[f"{v}.0"] = dependencies
        packages[f"p{i}"] = link
        if i > 0:
            packages[f"s{i}"] = {"1.0": [f"p{i - 1}<28"]}
    registry = Registry.from_data(["p0"], packages)
    start = time.perf_counter()
    solution = resolve(registry, ROOT, ROOT_VERSION)
    elapsed = time.perf_counter() - start
    assert [str(solution[f"p{i}"]) for i in range(300)] == ["30.0", "27.0"] * 150
    assert elapsed < 5, f"took {elapsed:.1f}s"
