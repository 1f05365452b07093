"""Data-driven resolution scenarios: one TOML file per scenario in ``scenarios/``."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.version import Version

from freewheel.resolver.pubgrub import NoSolution, format_report, resolve

from .registry import ROOT, ROOT_VERSION, Registry

SCENARIOS = sorted((Path(__file__).parent / "scenarios").glob("*.toml"))


def load(path: Path) -> tuple[Registry, dict]:
    data = tomllib.loads(path.read_text())
    registry = Registry.from_data(data["root"]["requires"], data.get("packages", {}))
    return registry, data["expect"]


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_scenario(path: Path) -> None:
    registry, expect = load(path)
    if "solution" in expect:
        solution = resolve(registry, ROOT, ROOT_VERSION)
        assert solution.pop(ROOT) == ROOT_VERSION
        assert solution == {name: Version(v) for name, v in expect["solution"].items()}
    else:
        with pytest.raises(NoSolution) as raised:
            resolve(registry, ROOT, ROOT_VERSION)
        assert format_report(raised.value, describe=registry.describe) == expect["report"].strip()


def test_direct_conflict_without_swapping_walks_the_later_direct_back() -> None:
    # The quality scenario discriminates: plain PubGrub order takes the old SDK.
    registry, _ = load(Path(__file__).parent / "scenarios" / "quality-direct-conflict-swaps.toml")
    solution = resolve(registry, ROOT, ROOT_VERSION, swap_threshold=1000)
    assert (solution["ds"], solution["sdk"]) == (Version("2.0"), Version("1.4"))


def test_releases_refused_at_once_count_towards_a_swap() -> None:
    registry, _ = load(Path(__file__).parent / "scenarios" / "quality-refused-at-once-swaps.toml")
    resolve(registry, ROOT, ROOT_VERSION)
    read = {version for name, version in registry.chosen if name == "app-web"}
    assert len(read) <= 6, sorted(read)


def test_transitive_conflict_never_touches_old_sdk_releases() -> None:
    registry, _ = load(
        Path(__file__).parent / "scenarios" / "quality-transitive-moves-not-direct.toml"
    )
    resolve(registry, ROOT, ROOT_VERSION)
    sdk_versions = {version for name, version in registry.chosen if name == "sdk"}
    assert sdk_versions == {Version("1.39")}


def test_an_extra_is_not_walked_back_past_its_base() -> None:
    registry, _ = load(Path(__file__).parent / "scenarios" / "extras-follow-their-base.toml")
    resolve(registry, ROOT, ROOT_VERSION)
    read = {version for name, version in registry.chosen if name == "kombu[redis]"}
    assert read == {Version("2.0"), Version("1.9")}
