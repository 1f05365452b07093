"""Which offered files a resolution may use, the reason given for each one it
may not (what ``explain`` and the failure hints show), and the order in which
versions are tried."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.version import Version

from freewheel.config.indexes import Index
from freewheel.index.models import DistFile
from freewheel.resolver.candidates import (
    ALL,
    BinaryPolicy,
    Candidate,
    CandidatePolicy,
    ProjectCandidates,
    evaluate,
    file_rejection,
    prerelease_rejection,
    python_support,
)
from freewheel.resolver.pubgrub import Ranges
from freewheel.python.target import TargetEnvironment

INDEX = Index(url="https://index.test/simple/")
ANY = Tag("py3", "none", "any")
NATIVE = Tag("cp311", "cp311", "linux_x86_64")
OTHER = Tag("cp311", "cp311", "win_amd64")
NOON = datetime(2024, 1, 1, 12, tzinfo=timezone.utc)


def target(python: str = "3.11") -> TargetEnvironment:
    return TargetEnvironment(Version(python), {"python_version": python[:4]}, (NATIVE, ANY), "here")


class Universal(TargetEnvironment):
    universal = True


def wheel(version: str = "1.0", tag: Tag = ANY, **fields: object) -> DistFile:
    filename = f"demo-{version}-{tag}.whl"
    return DistFile(filename, f"https://index.test/{filename}", INDEX, "demo",  # type: ignore[arg-type]
                    Version(version), "wheel", tags=frozenset({tag}), **fields)


def sdist(version: str = "1.0", **fields: object) -> DistFile:
    filename = f"demo-{version}.tar.gz"
    return DistFile(filename, f"https://index.test/{filename}", INDEX, "demo",  # type: ignore[arg-type]
                    Version(version), "sdist", **fields)


@pytest.mark.parametrize(
    ("fields", "python", "reason"),
    [
        ({}, "3.11", None),
        ({"yanked": ""}, "3.11", "yanked"),
        ({"yanked": "broken"}, "3.11", "yanked (broken)"),
        ({"requires_python": SpecifierSet(">=3.12")}, "3.11", "requires Python >=3.12 (resolving for 3.11)"),
        # A pre-release interpreter still satisfies a lower bound.
        ({"requires_python": SpecifierSet(">=3.12")}, "3.14.0b1", None),
        # Only an upper bound excludes it: usable, as a last resort.
        ({"requires_python": SpecifierSet("<3.11")}, "3.11", None),
    ],
)
def test_file_rejection_reasons(fields, python, reason) -> None:
    assert file_rejection(CandidatePolicy(target=target(python)), wheel(**fields)) == reason


def test_a_yanked_version_pinned_with_double_equals_is_allowed() -> None:
    policy = CandidatePolicy(target=target(), allow_yanked=frozenset({("demo", Version("1.0"))}))
    assert file_rejection(policy, wheel(yanked="broken")) is None
    assert file_rejection(policy, wheel("2.0", yanked="broken")) == "yanked (broken)"


def test_files_uploaded_after_exclude_newer_are_rejected() -> None:
    policy = CandidatePolicy(target=target(), exclude_newer=NOON)
    assert file_rejection(policy, wheel(upload_time=NOON)) is None
    later = NOON.replace(hour=13)
    assert file_rejection(policy, wheel(upload_time=later)) == (
        "uploaded 2024-01-01T13:00:00+00:00, after --exclude-newer 2024-01-01T12:00:00+00:00"
    )
    assert file_rejection(policy, wheel()) == (
        "uploaded at an unknown time, after --exclude-newer 2024-01-01T12:00:00+00:00"
    )
    assert file_rejection(CandidatePolicy(target=target()), wheel(upload_time=later)) is None


def test_wheels_and_sdists_follow_the_binary_policy_and_the_tags() -> None:
    no_binary = CandidatePolicy(target=target(), binary=BinaryPolicy(no_binary=frozenset({ALL})))
    only_binary = CandidatePolicy(target=target(), binary=BinaryPolicy(only_binary=frozenset({ALL})))
    assert file_rejection(no_binary, wheel()) == "a wheel, and --no-binary excludes wheels"
    assert file_rejection(no_binary, sdist()) is None
    assert file_rejection(only_binary, sdist()) == "a source distribution, and --only-binary excludes them"
    assert file_rejection(only_binary, wheel()) is None
    assert file_rejection(CandidatePolicy(target=target()), wheel(tag=OTHER)) == "no wheel for Python 3.11 on here"
    # By name, as --no-binary demo and --only-binary demo say.
    named = CandidatePolicy(target=target(), binary=BinaryPolicy(no_binary=frozenset({"demo"})))
    assert file_rejection(named, wheel()) == "a wheel, and --no-binary excludes wheels"
    named = CandidatePolicy(target=target(), binary=BinaryPolicy(only_binary=frozenset({"demo"})))
    assert file_rejection(named, sdist()) == "a source distribution, and --only-binary excludes them"


@pytest.mark.parametrize(
    ("no_binary", "only_binary", "wheels", "sdists"),
    [
        (set(), set(), True, True),
        ({ALL}, set(), False, True),
        ({"demo"}, set(), False, True),
        ({ALL}, {"demo"}, True, False),
        (set(), {ALL}, True, False),
        ({"demo"}, {ALL}, False, True),
        ({"other"}, set(), True, True),
    ],
)
def test_binary_policy(no_binary, only_binary, wheels, sdists) -> None:
    policy = BinaryPolicy(no_binary=frozenset(no_binary), only_binary=frozenset(only_binary))
    assert (policy.wheels_allowed("demo"), policy.sdists_allowed("demo")) == (wheels, sdists)


@pytest.mark.parametrize(
    ("mode", "explicit", "demo", "other"),
    [
        ("allow", (), "always", "always"),
        ("disallow", ("demo",), "never", "never"),
        ("explicit", ("demo",), "fallback", "never"),
        ("if-necessary", (), "fallback", "fallback"),
        ("if-necessary-or-explicit", ("demo",), "fallback", "fallback"),
    ],
)
def test_how_prereleases_rank(mode, explicit, demo, other) -> None:
    policy = CandidatePolicy(target=target(), prerelease=mode, explicit_prereleases=frozenset(explicit))
    assert (policy.prereleases_for("demo"), policy.prereleases_for("other")) == (demo, other)


@pytest.mark.parametrize(
    ("requires", "python", "support"),
    [
        (None, "3.11", "yes"),
        (">=3.8", "3.11", "yes"),
        (">=3.12", "3.11", "no"),
        ("<3.11", "3.11", "capped"),
        (">=3.8,<=3.10", "3.11", "capped"),
        (">=3.12,<3.13", "3.11", "no"),
        # A minor version stands for its releases: 3.9.2 meets this.
        (">=3.7,!=3.9.0,!=3.9.1", "3.9", "yes"),
        (">=3.9.1", "3.9", "yes"),
        # A full version does not.
        (">=3.9.1", "3.9.0", "no"),
        ("!=3.9.*", "3.9", "no"),
    ],
)
def test_python_support(requires, python, support) -> None:
    specifiers = None if requires is None else SpecifierSet(requires)
    assert python_support(specifiers, Version(python)) == support


def test_usable_files_come_best_first_and_capped_ones_after() -> None:
    policy = CandidatePolicy(target=target())
    capped = wheel(tag=NATIVE, requires_python=SpecifierSet("<3.11"))
    files = [sdist(), wheel(), capped, wheel(tag=OTHER)]
    candidate = evaluate(policy, "demo", Version("1.0"), files)
    assert candidate.usable and candidate.python_cap is None
    assert candidate.files == (files[1], files[0], capped)
    # A version whose every usable file needs its cap ignored is capped.
    only_capped = evaluate(policy, "demo", Version("1.0"), [capped])
    assert only_capped.python_cap == SpecifierSet("<3.11") and only_capped.files == (capped,)
    # A native wheel ranks before a pure one.
    assert evaluate(policy, "demo", Version("1.0"), [wheel(), wheel(tag=NATIVE)]).files[0].tags == {NATIVE}


def test_a_universal_target_has_no_capped_files() -> None:
    universal = Universal(Version("3.11"), {}, (NATIVE, ANY), "everywhere")
    capped = wheel(tag=NATIVE, requires_python=SpecifierSet("<3.11"))
    candidate = evaluate(CandidatePolicy(target=universal), "demo", Version("1.0"), [wheel(), capped])
    assert candidate.python_cap is None and candidate.files == (capped, candidate.files[1])


def test_every_reason_is_given_once_in_the_order_met() -> None:
    policy = CandidatePolicy(target=target())
    files = [wheel(yanked=""), wheel(tag=OTHER), wheel(yanked="")]
    candidate = evaluate(policy, "demo", Version("1.0"), files)
    assert candidate == Candidate("demo", Version("1.0"), (), "yanked; no wheel for Python 3.11 on here")
    assert not candidate.usable
    assert evaluate(policy, "demo", Version("1.0"), []).rejection == "no files"


def listing(*versions: str, **fields: object) -> list[tuple[Version, list[DistFile]]]:
    return [(Version(v), [wheel(v, **fields)]) for v in versions]


def tried(candidates: ProjectCandidates, ranges: Ranges = Ranges.full()) -> list[str]:
    return [str(candidate.version) for candidate in candidates.preferred(ranges)]


@pytest.mark.parametrize(
    ("mode", "lowest", "order"),
    [
        ("if-necessary", False, ["2.0", "1.0", "3.0b1"]),
        ("if-necessary", True, ["1.0", "2.0", "3.0b1"]),
        ("allow", False, ["3.0b1", "2.0", "1.0"]),
        ("allow", True, ["1.0", "2.0", "3.0b1"]),
        ("disallow", False, ["2.0", "1.0"]),
    ],
)
def test_versions_are_tried_in_preference_order(mode, lowest, order) -> None:
    policy = CandidatePolicy(target=target(), prerelease=mode)
    candidates = ProjectCandidates(policy, "demo", listing("3.0b1", "2.0", "1.0"), lowest=lowest)
    assert tried(candidates) == order
    assert str(candidates.best(Ranges.full()).version) == order[0]
    assert str(candidates.newest(Ranges.full())) == order[0]


def test_versions_outside_the_ranges_or_unusable_are_skipped() -> None:
    versions = listing("4.0", "3.0", "2.0", "1.0")
    versions[1] = (Version("3.0"), [wheel("3.0", yanked="")])
    candidates = ProjectCandidates(CandidatePolicy(target=target()), "demo", versions, lowest=False)
    below_four = Ranges.below(Version("4.0"))
    assert tried(candidates, below_four) == ["2.0", "1.0"]
    # The newest is the first version in range, usable or not.
    assert candidates.newest(below_four) == Version("3.0")
    assert candidates.newest(Ranges.empty()) is None
    assert candidates.best(Ranges.empty()) is None
    assert [str(c.version) for c in candidates.all()] == ["4.0", "3.0", "2.0", "1.0"]
    assert candidates.all()[1].rejection == "yanked"
    assert candidates.files(Version("3.0")) == versions[1][1]
    assert candidates.get(Version("2.0")) is candidates.get(Version("2.0"))


def test_capped_versions_come_after_every_other() -> None:
    versions = listing("3.0", "2.0", "1.0")
    versions[0] = (Version("3.0"), [wheel("3.0", requires_python=SpecifierSet("<3.11"))])
    candidates = ProjectCandidates(CandidatePolicy(target=target()), "demo", versions, lowest=False)
    assert tried(candidates) == ["2.0", "1.0", "3.0"]


def test_each_index_run_keeps_its_place() -> None:
    # unsafe-first-match: the first index's versions, then another's.
    versions = listing("2.0", "1.0", "3.0", "0.5")
    candidates = ProjectCandidates(CandidatePolicy(target=target()), "demo", versions, lowest=False)
    assert tried(candidates) == ["2.0", "1.0", "3.0", "0.5"]
    assert tried(candidates, Ranges.at_least(Version("1.0"))) == ["2.0", "1.0", "3.0"]


def test_a_prerelease_never_tried_says_why() -> None:
    policy = CandidatePolicy(target=target(), prerelease="disallow")
    pre = evaluate(policy, "demo", Version("3.0b1"), [wheel("3.0b1")])
    final = evaluate(policy, "demo", Version("2.0"), [wheel("2.0")])
    assert prerelease_rejection(policy, pre) == "a pre-release, and --prerelease is disallow"
    assert prerelease_rejection(policy, final) is None
    assert prerelease_rejection(CandidatePolicy(target=target()), pre) is None
    # With "explicit", only the packages whose requirement names a pre-release may use one.
    explicit = CandidatePolicy(target=target(), prerelease="explicit", explicit_prereleases=frozenset({"demo"}))
    assert prerelease_rejection(explicit, pre) is None
    assert prerelease_rejection(CandidatePolicy(target=target(), prerelease="explicit"), pre) == (
        "a pre-release, and --prerelease is explicit"
    )


@pytest.mark.parametrize("lowest", [False, True])
def test_a_range_tries_the_versions_it_holds_in_the_same_order(lowest: bool) -> None:
    # Two indexes' runs (unsafe-first-match) and a pre-release kept for last.
    versions = listing("2.0", "1.0", "3.0", "0.5", "4.0b1")
    candidates = ProjectCandidates(CandidatePolicy(target=target()), "demo", versions, lowest=lowest)
    everything = tried(candidates)
    assert sorted(everything) == ["0.5", "1.0", "2.0", "3.0", "4.0b1"]
    for ranges in (
        Ranges.below(Version("2.0")), Ranges.at_least(Version("2.0")), Ranges.between(Version("1.0"), Version("3.0")),
        Ranges.singleton(Version("3.0")), Ranges.singleton(Version("0.5")), Ranges.below(Version("1.0")),
        Ranges.at_least(Version("3.0")),
    ):
        assert tried(candidates, ranges) == [v for v in everything if Version(v) in ranges], ranges
    assert candidates.get(Version("2.0")).name == "demo"


_KINDS = {
    "usable": {},
    "yanked": {"yanked": ""},
    "too-new-for-python": {"requires_python": SpecifierSet(">=3.12")},
    "capped": {"requires_python": SpecifierSet("<3.11")},
}


@settings(max_examples=150, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(sorted(_KINDS)), min_size=1, max_size=30),
    searches=st.lists(st.tuples(st.integers(0, 31), st.integers(0, 31)), min_size=1, max_size=8),
    lowest=st.booleans(),
)
def test_unusable_stretches_walked_once_are_still_skipped_right(kinds, searches, lowest) -> None:
    # Version i is of kind kinds[i]; the same candidates answer every search
    # in turn, so what an earlier search remembered about unusable
    # stretches is used by the later ones.
    versions = [(Version(f"{i}.0"), [wheel(f"{i}.0", **_KINDS[kind])]) for i, kind in enumerate(kinds)][::-1]
    candidates = ProjectCandidates(CandidatePolicy(target=target()), "demo", versions, lowest=lowest)
    order = sorted(range(len(kinds)), reverse=not lowest)
    for low, high in searches:
        ranges = Ranges.between(Version(f"{low}.0"), Version(f"{high}.0"))
        inside = [i for i in order if low <= i < high]
        expected = [i for i in inside if kinds[i] == "usable"] + [i for i in inside if kinds[i] == "capped"]
        assert tried(candidates, ranges) == [f"{i}.0" for i in expected], (low, high)


def test_explicit_prereleases_are_tried_for_the_packages_that_ask_for_them() -> None:
    versions = listing("3.0b1", "2.0")
    explicit = CandidatePolicy(target=target(), prerelease="explicit", explicit_prereleases=frozenset({"demo"}))
    assert tried(ProjectCandidates(explicit, "demo", versions, lowest=False)) == ["2.0", "3.0b1"]
    others = CandidatePolicy(target=target(), prerelease="explicit", explicit_prereleases=frozenset({"other"}))
    assert tried(ProjectCandidates(others, "demo", versions, lowest=False)) == ["2.0"]


def test_a_fork_keeps_the_order_and_evaluates_under_its_own_policy() -> None:
    # A universal resolution's forks share one listing; 2.0 needs Python 3.12.
    versions = listing("3.0b1", "2.0", "1.0")
    versions[1] = (Version("2.0"), [wheel("2.0", requires_python=SpecifierSet(">=3.12"))])
    first = ProjectCandidates(CandidatePolicy(target=target("3.11")), "demo", versions, lowest=False)
    assert tried(first) == ["1.0", "3.0b1"]
    fork = first.for_policy(CandidatePolicy(target=target("3.12")))
    assert tried(fork) == ["2.0", "1.0", "3.0b1"]
    assert tried(first) == ["1.0", "3.0b1"]


@pytest.mark.parametrize(
    ("first", "then", "lowest", "order"),
    [
        ({}, {"prerelease": "allow"}, False, ["3.0b1", "2.0", "1.0"]),
        ({}, {"prerelease": "allow"}, True, ["1.0", "2.0", "3.0b1"]),
        ({"prerelease": "allow"}, {}, False, ["2.0", "1.0", "3.0b1"]),
        # "explicit" ranks pre-releases by the package's own requirement.
        ({"prerelease": "explicit"}, {"prerelease": "explicit", "explicit_prereleases": frozenset({"demo"})},
         False, ["2.0", "1.0", "3.0b1"]),
        ({"prerelease": "explicit", "explicit_prereleases": frozenset({"demo"})}, {"prerelease": "disallow"},
         False, ["2.0", "1.0"]),
    ],
)
def test_a_fork_whose_prereleases_rank_otherwise_orders_them_its_way(first, then, lowest, order) -> None:
    base = ProjectCandidates(CandidatePolicy(target=target(), **first), "demo", listing("3.0b1", "2.0", "1.0"),
                             lowest=lowest)
    fork = base.for_policy(CandidatePolicy(target=target(), **then))
    assert tried(fork) == order
    assert fork.newest(Ranges.full()) == Version(order[0])


def test_metadata_is_read_from_the_best_wheel_or_else_from_another_platforms() -> None:
    policy = CandidatePolicy(target=target())
    native, other = wheel(tag=NATIVE), wheel(tag=OTHER)
    assert evaluate(policy, "demo", Version("1.0"), [other, native]).metadata_file is native
    # Only the sdist fits here; the other platform's wheel holds the same
    # metadata, readable with no build.
    only_sdist = evaluate(policy, "demo", Version("1.0"), [sdist(), other])
    assert [f.kind for f in only_sdist.files] == ["sdist"] and only_sdist.metadata_file is other
    # A wheel unusable for another reason than its tags is not read.
    yanked = wheel(tag=OTHER, yanked="")
    assert evaluate(policy, "demo", Version("1.0"), [sdist(), yanked]).metadata_file.kind == "sdist"
