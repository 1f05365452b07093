"""Terms: a statement that a package's selected version is (or is not) in a range."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from packaging.ranges import VersionRange
from packaging.version import Version

#: Every version and nothing else. ``VersionRange.full()`` also admits
#: arbitrary non-version strings, which then never compares as a subset of a
#: range built from specifiers; the solver only deals in versions, so it
#: normalizes every range onto this one.
FULL = VersionRange.full(admit_arbitrary=False)
EMPTY = VersionRange.empty()

T = TypeVar("T")


def normalize(range_: VersionRange) -> VersionRange:
    """Return ``range_`` restricted to versions (dropping arbitrary strings)."""
    return _intersection(range_, FULL)


# Range algebra is pure Python and costs microseconds per call, and so does
# hashing a range. The solver asks the same questions about the same range
# objects over and over: every unit propagation re-relates each
# incompatibility, and backjumping re-derives the same terms from the same
# incompatibilities. So results are memoized by the identity of the operands
# (kept alive by the cache, so identities are not reused), which also makes a
# re-derived term the very same object as before, so later look-ups hit too.
# Not by value: ranges that compare equal may spell their bounds differently
# ("2" and "2.0"), and a result shared by value would leak one spelling into
# another run's failure report.
_MAX_CACHED = 1 << 17
_cache: dict[tuple[str, int, int], tuple[VersionRange, VersionRange, Any]] = {}


def _memoized(operation: str, a: VersionRange, b: VersionRange, compute: Callable[[], T]) -> T:
    key = (operation, id(a), id(b))
    cached = _cache.get(key)
    if cached is None:
        if len(_cache) >= _MAX_CACHED:
            _cache.clear()
        cached = _cache[key] = (a, b, compute())
    return cached[2]  # type: ignore[no-any-return]


# Ranges made by :func:`singleton`, by identity, with their one version.
# Most terms the solver relates are "package == v" (each decision, each
# version's dependencies); against a range that a long backtrack has cut
# into hundreds of intervals, one membership test answers what would
# otherwise build a whole intersection, turning the cost of a walk through
# many versions from cubic back to quadratic.
_singletons: dict[int, tuple[VersionRange, Version]] = {}


def singleton(version: Version) -> VersionRange:
    """``VersionRange.singleton(version)``, known to the fast paths here."""
    range_ = VersionRange.singleton(version)
    if len(_singletons) >= _MAX_CACHED:
        _singletons.clear()
    _singletons[id(range_)] = (range_, version)
    return range_


def _single_version(range_: VersionRange) -> Version | None:
    entry = _singletons.get(id(range_))
    return entry[1] if entry is not None and entry[0] is range_ else None


def contains(range_: VersionRange, version: Version) -> bool:
    """Plain membership (the solver's ranges carry no pre-release policy).

    A long backtrack cuts a package's range into hundreds of intervals, and
    ``VersionRange.contains`` scans them in order; a binary search over the
    sorted, disjoint intervals keeps each test logarithmic. It reads the
    range's interval list, which packaging keeps private; should that ever
    change shape, the public method answers instead.
    """
    try:
        bounds = range_._bounds
        if range_._admit or range_._reject:
            raise AttributeError
    except AttributeError:
        return range_.contains(version, prereleases=True)
    low, high = 0, len(bounds)
    while low < high:
        middle = (low + high) // 2
        above = bounds[middle][0]._above
        if above is None or above(version):
            low = middle + 1
        else:
            high = middle
    if low == 0:
        return False
    below = bounds[low - 1][1]._below
    return below is None or below(version)


def _is_subset(a: VersionRange, b: VersionRange) -> bool:
    if a is b:
        return True
    version = _single_version(a)
    if version is not None:
        return contains(b, version)
    if _single_version(b) is not None and _interval_count(a) > 1:
        # Canonical intervals are non-empty and disjoint: two of them hold
        # at least two versions, which one version cannot cover.
        return False
    return _memoized("<=", a, b, lambda: a.is_subset(b))


def _interval_count(range_: VersionRange) -> int:
    """How many intervals *range_* has (0 when packaging hides it)."""
    try:
        return len(range_._bounds)
    except AttributeError:
        return 0


def _is_disjoint(a: VersionRange, b: VersionRange) -> bool:
    for one, other in ((a, b), (b, a)):
        version = _single_version(one)
        if version is not None:
            return not contains(other, version)
    return _memoized("disjoint", a, b, lambda: a.is_disjoint(b))


def _intersection(a: VersionRange, b: VersionRange) -> VersionRange:
    for one, other in ((a, b), (b, a)):
        version = _single_version(one)
        if version is not None:
            return one if contains(other, version) else EMPTY
    return _memoized("&", a, b, lambda: a & b)


def _union(a: VersionRange, b: VersionRange) -> VersionRange:
    return _memoized("|", a, b, lambda: a | b)


def _difference(a: VersionRange, b: VersionRange) -> VersionRange:
    version = _single_version(a)
    if version is not None:
        return EMPTY if contains(b, version) else a
    return _memoized("-", a, b, lambda: a - b)


@dataclass(frozen=True, slots=True)
class Term:
    """A positive term ``package in range`` or a negative term ``package not in range``.

    A positive term requires the package to be selected at a version in
    ``range``. A negative term is satisfied when the package is not selected
    at all, or is selected at a version outside ``range``; so ``not in
    EMPTY`` says nothing, while ``in EMPTY`` can never hold.
    """

    positive: bool
    range: VersionRange

    def negate(self) -> Term:
        """The term that holds exactly when this one does not."""
        return Term(not self.positive, self.range)

    def intersection(self, other: Term) -> Term:
        """The term that holds when both this term and ``other`` hold."""
        if self.positive and other.positive:
            return Term(True, _intersection(self.range, other.range))
        if self.positive:
            return Term(True, _difference(self.range, other.range))
        if other.positive:
            return Term(True, _difference(other.range, self.range))
        return Term(False, _union(self.range, other.range))

    def union(self, other: Term) -> Term:
        """The term that holds when this term or ``other`` holds."""
        return self.negate().intersection(other.negate()).negate()

    def is_subset(self, other: Term) -> bool:
        """Whether every selection satisfying this term satisfies ``other``."""
        if self.positive and other.positive:
            return _is_subset(self.range, other.range)
        if self.positive:
            return _is_disjoint(self.range, other.range)
        if other.positive:
            # "Not selected" satisfies a negative term but no positive one.
            return False
        return _is_subset(other.range, self.range)

    def is_disjoint(self, other: Term) -> bool:
        """Whether no selection satisfies both this term and ``other``."""
        if self.positive and other.positive:
            return _is_disjoint(self.range, other.range)
        if self.positive:
            return _is_subset(self.range, other.range)
        if other.positive:
            return _is_subset(other.range, self.range)
        return False

    @property
    def is_empty(self) -> bool:
        """Whether no selection satisfies this term."""
        return self.positive and self.range.is_empty
