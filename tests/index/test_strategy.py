"""The index strategies, as a pure merge of what each index offered."""

from __future__ import annotations

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from freewheel.config.indexes import Index
from freewheel.index.models import DistFile
from freewheel.index.strategy import IndexOutcome, merge_listings

A = Index("https://a.test/simple/", name="a")
B = Index("https://b.test/simple/", name="b")
C = Index("https://c.test/simple/", name="c")
FLAT = Index("/wheelhouse", format="flat")


def _files(index: Index, *versions: str) -> tuple[DistFile, ...]:
    return tuple(
        DistFile(
            filename=f"torch-{v}.tar.gz",
            url=f"{index.url}torch-{v}.tar.gz",
            index=index,
            name=canonicalize_name("torch"),
            version=Version(v),
            kind="sdist",
        )
        for v in versions
    )


def _found(index: Index, *versions: str) -> IndexOutcome:
    return IndexOutcome(index, "found", f"{len(versions)} files", _files(index, *versions))


def _shape(candidates):
    """(version, [index names its files come from]) pairs."""
    return [(str(v), [f.index.name for f in files]) for v, files in candidates]


# a: the private index, with a CPU build; b: a mirror; c: the default index.
OUTCOMES = (
    _found(A, "2.1.1+cpu", "2.0"),
    _found(B, "2.0", "1.5"),
    _found(C, "2.2", "2.1.1", "2.0", "1.0"),
)


def test_first_index_uses_only_the_first_index_that_has_the_project():
    assert _shape(merge_listings("first-index", OUTCOMES)) == [("2.1.1+cpu", ["a"]), ("2.0", ["a"])]


def test_first_index_skips_indexes_that_do_not_have_it():
    outcomes = (IndexOutcome(A, "not-found", "HTTP 404"), *OUTCOMES[1:])
    assert _shape(merge_listings("first-index", outcomes)) == [("2.0", ["b"]), ("1.5", ["b"])]


def test_unsafe_first_match_prefers_earlier_indexes_then_adds_missing_versions():
    assert _shape(merge_listings("unsafe-first-match", OUTCOMES)) == [
        ("2.1.1+cpu", ["a"]),
        ("2.0", ["a"]),
        ("1.5", ["b"]),
        ("2.2", ["c"]),
        ("2.1.1", ["c"]),
        ("1.0", ["c"]),
    ]


def test_unsafe_best_match_takes_the_highest_version_from_the_first_index_having_it():
    assert _shape(merge_listings("unsafe-best-match", OUTCOMES)) == [
        ("2.2", ["c"]),
        ("2.1.1+cpu", ["a"]),
        ("2.1.1", ["c"]),
        ("2.0", ["a"]),
        ("1.5", ["b"]),
        ("1.0", ["c"]),
    ]


@pytest.mark.parametrize("strategy", ["first-index", "unsafe-first-match", "unsafe-best-match"])
def test_flat_files_join_every_strategy_and_come_first(strategy):
    outcomes = (_found(FLAT, "2.0", "3.0"), _found(A, "2.0", "1.0"))
    merged = dict(_shape(merge_listings(strategy, outcomes)))
    assert merged == {"3.0": [None], "2.0": [None, "a"], "1.0": ["a"]}
    assert list(merged) == ["3.0", "2.0", "1.0"]


def test_flat_alone_still_offers_its_files():
    outcomes = (_found(FLAT, "1.0"), IndexOutcome(A, "not-found", "HTTP 404"))
    assert _shape(merge_listings("first-index", outcomes)) == [("1.0", [None])]


def test_errors_and_misses_contribute_nothing():
    outcomes = (
        IndexOutcome(A, "unreachable", "connection refused"),
        IndexOutcome(B, "forbidden", "HTTP 403"),
        IndexOutcome(C, "not-found", "HTTP 404"),
    )
    assert merge_listings("unsafe-best-match", outcomes) == ()


def test_unsafe_first_match_tries_a_later_indexs_higher_versions_after_the_first_ones():
    assert _shape(merge_listings("unsafe-first-match", (_found(A, "1.0"), _found(B, "2.0")))) == [
        ("1.0", ["a"]),
        ("2.0", ["b"]),
    ]


def test_unsafe_first_match_ranks_flat_versions_with_the_first_index():
    outcomes = (_found(A, "2.0", "1.0"), _found(B, "3.0"), _found(FLAT, "1.5"))
    assert _shape(merge_listings("unsafe-first-match", outcomes)) == [
        ("2.0", ["a"]),
        ("1.5", [None]),
        ("1.0", ["a"]),
        ("3.0", ["b"]),
    ]
