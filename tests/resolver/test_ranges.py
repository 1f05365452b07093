"""The solver's own version sets, checked against packaging's public behaviour.

``Ranges`` must agree with ``SpecifierSet.contains(..., prereleases=True)``
for every specifier and version, including epochs, pre-, post- and dev
releases and local versions; its algebra must agree with set algebra on
membership; and its text must say what it holds.
"""

from __future__ import annotations

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import Version

from freewheel.resolver.pubgrub import (
    Ranges,
    Term,
    from_specifier,
    from_specifiers,
    version_key,
)

_LOCAL_PARTS = ["cpu", "cu124", "1", "2", "10", "ubuntu", "a"]


@st.composite
def version_texts(draw: st.DrawFn, *, local: bool = True, min_release: int = 1) -> str:
    epoch = draw(st.sampled_from([0, 0, 0, 1]))
    release = draw(st.lists(st.integers(0, 3), min_size=min_release, max_size=4))
    text = ".".join(map(str, release))
    if epoch:
        text = f"{epoch}!{text}"
    if draw(st.booleans()):
        text += draw(st.sampled_from(["a", "b", "rc"])) + str(draw(st.integers(0, 2)))
    if draw(st.booleans()):
        text += f".post{draw(st.integers(0, 2))}"
    if draw(st.booleans()):
        text += f".dev{draw(st.integers(0, 2))}"
    if local and draw(st.integers(0, 3)) == 0:
        text += "+" + ".".join(draw(st.lists(st.sampled_from(_LOCAL_PARTS), min_size=1, max_size=2)))
    return text


versions = version_texts().map(Version)


@st.composite
def specifiers(draw: st.DrawFn) -> Specifier:
    operator = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "~=", "==*", "!=*"]))
    if operator in ("==*", "!=*"):
        release = draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
        epoch = draw(st.sampled_from(["", "", "1!"]))
        return Specifier(f"{operator[:2]}{epoch}{'.'.join(map(str, release))}.*")
    text = draw(
        version_texts(local=operator in ("==", "!="), min_release=2 if operator == "~=" else 1)
    )
    return Specifier(f"{operator}{text}")


def _agrees(range_: Ranges, specifier_set: SpecifierSet, version: Version) -> bool:
    return range_.contains(version) == specifier_set.contains(version, prereleases=True)


@settings(max_examples=1000)
@given(specifiers(), versions)
@example(Specifier("==2.5.1"), Version("2.5.1+cpu"))
@example(Specifier("<=2.5.1"), Version("2.5.1+cpu"))
@example(Specifier("<2.5.1"), Version("2.5.1+cpu"))
@example(Specifier(">1.0"), Version("1.0.post1"))
@example(Specifier(">1.0"), Version("1.0+local"))
@example(Specifier(">1.0.post1"), Version("1.0.post2+local"))
@example(Specifier("<2.0"), Version("2.0rc1"))
@example(Specifier("<2.0"), Version("2.0.dev0"))
@example(Specifier("<2.0rc1"), Version("2.0b1"))
@example(Specifier("~=1.4.2"), Version("1.5.dev0"))
@example(Specifier("==1.0.*"), Version("1.0.0.1a1"))
@example(Specifier("!=1.0.*"), Version("1!1.0"))
@example(Specifier(">1.0.dev1"), Version("1.0.dev1+local"))
@example(Specifier("<0"), Version("0.dev0"))
def test_specifier_membership_matches_packaging(specifier: Specifier, version: Version) -> None:
    assert _agrees(from_specifier(specifier), SpecifierSet(str(specifier)), version)


@settings(max_examples=300)
@given(st.lists(specifiers(), min_size=0, max_size=3), st.lists(versions, min_size=1, max_size=5))
def test_specifier_sets_match_packaging(parts: list[Specifier], probes: list[Version]) -> None:
    specifier_set = SpecifierSet(",".join(str(p) for p in parts))
    range_ = from_specifiers(specifier_set)
    for version in probes:
        assert _agrees(range_, specifier_set, version)


def test_arbitrary_equality_is_the_exact_version() -> None:
    range_ = from_specifier(Specifier("===1.0+cpu"))
    assert range_.contains(Version("1.0+cpu"))
    assert not range_.contains(Version("1.0"))
    assert from_specifier(Specifier("===not-a-version")).is_empty


@settings(max_examples=300)
@given(st.lists(versions, min_size=2, max_size=8))
def test_keys_order_as_versions_do(values: list[Version]) -> None:
    assert sorted(values, key=version_key) == sorted(values)
    for a in values:
        for b in values:
            assert (version_key(a) == version_key(b)) == (a == b)


@settings(max_examples=500)
@given(specifiers(), specifiers(), st.lists(versions, min_size=1, max_size=6))
def test_algebra_matches_membership(one: Specifier, two: Specifier, probes: list[Version]) -> None:
    a, b = from_specifier(one), from_specifier(two)
    for version in probes:
        in_a, in_b = a.contains(version), b.contains(version)
        assert (a & b).contains(version) == (in_a and in_b)
        assert (a | b).contains(version) == (in_a or in_b)
        assert (a - b).contains(version) == (in_a and not in_b)
        assert (~a).contains(version) == (not in_a)
        if a.is_subset(b):
            assert not in_a or in_b
        if a.is_disjoint(b):
            assert not (in_a and in_b)
    assert a.is_subset(a | b) and (a & b).is_subset(a)
    assert (a - b).is_disjoint(b)
    assert a.is_subset(b) == (a - b).is_empty
    assert a.is_disjoint(b) == (a & b).is_empty
    assert ~~a == a
    assert (a | ~a).is_full and (a & ~a).is_empty


@settings(max_examples=300)
@given(st.lists(st.tuples(st.booleans(), specifiers()), min_size=3, max_size=3))
def test_terms_follow_set_algebra(parts: list[tuple[bool, Specifier]]) -> None:
    # What the solver's search for a previous satisfier relies on:
    # "x and s imply t" is "x implies t or not s".
    x, s, t = (Term(positive, from_specifier(specifier)) for positive, specifier in parts)
    assert x.intersection(s).is_subset(t) == x.is_subset(t.union(s.negate()))


@settings(max_examples=300)
@given(st.lists(versions, min_size=1, max_size=12, unique=True), st.data())
def test_unions_of_versions_and_simplify(values: list[Version], data: st.DataObject) -> None:
    values = sorted(set(values))
    chosen = data.draw(st.lists(st.sampled_from(values), max_size=len(values)))
    range_ = Ranges.empty()
    for version in chosen:
        range_ = range_ | Ranges.singleton(version)
    for version in values:
        assert range_.contains(version) == (version in chosen)
    simpler = range_.simplify(values)
    assert simpler.segment_count <= max(range_.segment_count, 1)
    for version in values:
        assert simpler.contains(version) == range_.contains(version)


@settings(max_examples=500)
@given(specifiers(), st.lists(versions, min_size=1, max_size=6))
def test_text_says_what_the_range_holds(specifier: Specifier, probes: list[Version]) -> None:
    range_ = from_specifier(specifier)
    text = str(range_)
    assume(text not in ("*", "<no versions>") and " | " not in text and ".post*" not in text)
    try:
        reparsed = SpecifierSet(text)
    except InvalidSpecifier:
        # ">V" written for "strictly after V" is the one shape packaging
        # reads differently; it only appears for complements.
        assume(False)
    for version in probes:
        assert _agrees(range_, reparsed, version), (text, version)


def test_simplify_collapses_runs_of_available_versions() -> None:
    available = [Version(v) for v in ["2.8.0", "2.8.1rc1", "2.8.1", "2.9.0", "2.10.0", "2.10.1rc1", "2.10.1"]]
    rejected = Ranges.empty()
    for version in available[1:6]:
        rejected = rejected | Ranges.singleton(version)
    assert str(rejected.simplify(available)) == ">=2.8.1rc1,<=2.10.1rc1"
    assert rejected.simplify(available).segment_count == 1


def test_text_of_common_shapes() -> None:
    assert str(Ranges.full()) == "*"
    assert str(Ranges.empty()) == "<no versions>"
    assert str(Ranges.singleton(Version("1.0"))) == "==1.0"
    assert str(from_specifiers(SpecifierSet(">=1,<2"))) == ">=1,<2"
    assert str(from_specifiers(SpecifierSet(">=1,!=1.5"))) == ">=1,!=1.5"
    assert str(from_specifiers(SpecifierSet("<1")) | from_specifiers(SpecifierSet(">=2"))) == "<1 | >=2"
    assert str(from_specifiers(SpecifierSet("==1.2.*"))) == "==1.2.*"
    assert str(from_specifiers(SpecifierSet("~=1.4.2"))) == ">=1.4.2,<1.5"
    many = from_specifiers(SpecifierSet(">=1," + ",".join(f"!=1.{n}" for n in range(1, 9))))
    assert str(many) == ">=1 (except 1.1, 1.2, 1.3 and 5 more)"


def test_ranges_are_values() -> None:
    a = from_specifiers(SpecifierSet(">=1.0,<2"))
    b = from_specifiers(SpecifierSet("<2,>=1.0"))
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1


def test_one_release_is_an_exact_pin_with_or_without_its_locals() -> None:
    def one(text: str) -> bool:
        return from_specifiers(SpecifierSet(text)).is_one_release

    assert one("==1.0") and one("===1.0") and one("==1.0+cpu")
    assert Ranges.singleton(Version("1.0")).is_one_release
    assert Ranges.singleton(Version("1.0+cpu")).is_one_release
    assert not one("==1.0.*") and not one(">=1.0") and not one(">=1.0,<=1.0.post0")
    assert not (Ranges.singleton(Version("1.0")) | Ranges.singleton(Version("2.0"))).is_one_release
    assert not Ranges.full().is_one_release and not Ranges.empty().is_one_release


@given(
    st.lists(specifiers(), min_size=0, max_size=3),
    st.lists(versions, min_size=0, max_size=12, unique_by=version_key),
    st.booleans(),
)
def test_positions_are_the_listed_versions_in_the_range(
    parts: list[Specifier], listed: list[Version], descending: bool
) -> None:
    # What candidate searches bisect: the positions of an ascending listing
    # inside the range, in the order asked for.
    range_ = from_specifiers(SpecifierSet(",".join(map(str, parts))))
    # The specifiers' own versions are listed too: the bounds fall on them.
    bounds = [Version(p.version) for p in parts if not p.version.endswith(".*")]
    ordered = sorted({version_key(v): v for v in [*listed, *bounds]}.values(), key=version_key)
    keys = [version_key(v) for v in ordered]
    inside = [i for i, v in enumerate(ordered) if range_.contains(v)]
    assert list(range_.positions_in(keys, descending=descending)) == (inside[::-1] if descending else inside)
