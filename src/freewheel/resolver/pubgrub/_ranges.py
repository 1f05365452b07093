"""Sets of versions: sorted, disjoint segments of the PEP 440 version line.

A :class:`Ranges` is what every term of the solver talks about. It is
immutable and hashable, and it owns its representation, built from the
public attributes of :class:`~packaging.version.Version` only, so no
release of ``packaging`` can change it underneath the solver.

Representation. Each version maps to a sort key (:func:`version_key`): a
flat tuple that orders exactly as ``Version`` does, and compares in C.
A *boundary* is a point between versions: ``(key, side, version)``, where
``side`` is 0 for "just before key" and 2 for "just after key"; a version
itself is probed as ``(key, 1)``, so it never equals a boundary. Some
boundaries have keys no version has, to express PEP 440's families: the
point after every local version of V (``==V`` admits ``V+cpu``), and the
point after every post-release of V (``>V`` excludes ``V.post1``). The
``version`` element only serves display: two boundaries with equal keys
and sides carry equal versions, so it never decides a comparison.

A range is a flat tuple of an even number of boundaries, strictly
increasing; each pair ``(lower, upper)`` is one segment, holding the
versions between them. Membership is one bisection; union, intersection
and difference are one linear sweep; complement toggles the sentinels at
both ends of the line.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from packaging.version import Version

__all__ = ["Ranges", "version_key"]

Key = tuple[Any, ...]
Boundary = tuple[Key, int, "Version | None"]

_BEFORE, _PROBE, _AFTER = 0, 1, 2
_INF = float("inf")
_PRE_RANK = {"a": 0, "b": 1, "rc": 2}
_DEV_ONLY, _FINAL = -1, 3
#: A local segment above every real one: the key of "after V's locals".
_ABOVE_LOCALS = ((_INF, ""),)

#: The ends of the version line.
_MIN: Boundary = ((-1,), _BEFORE, None)
_MAX: Boundary = ((_INF,), _BEFORE, None)


@functools.lru_cache(maxsize=1 << 16)
def version_key(version: Version) -> Key:
    """A tuple that orders as ``version`` does among all versions.

    ``(epoch, release without trailing zeros, pre rank, pre number, post,
    dev, local)``: a release without pre-release segment ranks after
    ``rc``, except a bare dev release, which ranks before ``a``; no post
    is -1 and no dev is infinity; local segments are ``(n, "")`` for
    numbers and ``(-1, text)`` for text, so text sorts first.
    """
    release = version.release
    end = len(release)
    while end and release[end - 1] == 0:
        end -= 1
    pre, post, dev = version.pre, version.post, version.dev
    if pre is not None:
        pre_rank, pre_number = _PRE_RANK[pre[0]], pre[1]
    elif post is None and dev is not None:
        pre_rank, pre_number = _DEV_ONLY, 0
    else:
        pre_rank, pre_number = _FINAL, 0
    local: tuple[tuple[Any, str], ...] = ()
    if version.local is not None:
        local = tuple(
            (int(part), "") if part.isdigit() else (-1, part) for part in version.local.split(".")
        )
    return (
        version.epoch,
        release[:end],
        pre_rank,
        pre_number,
        -1 if post is None else post,
        _INF if dev is None else dev,
        local,
    )


def _first_above(keys: Sequence[Key], boundary: Boundary) -> int:
    """The index of the first of the ascending *keys* above *boundary*."""
    # Bisecting the keys themselves keeps every comparison in C: a key
    # function costs a Python call per probe, and a resolution bisects
    # listings at every decision.
    key, side, _ = boundary
    return bisect_left(keys, key) if side == _BEFORE else bisect_right(keys, key)


def _before(version: Version) -> Boundary:
    return (version_key(version), _BEFORE, version)


def _after(version: Version) -> Boundary:
    return (version_key(version), _AFTER, version)


def _after_locals(version: Version) -> Boundary:
    """The point above ``version`` and all its local versions."""
    return (version_key(version)[:6] + (_ABOVE_LOCALS,), _BEFORE, version)


def _after_posts(version: Version) -> Boundary:
    """The point above ``version``, its post-releases and their local versions."""
    key = version_key(version)
    return (key[:4] + (_INF, _INF, _ABOVE_LOCALS), _BEFORE, version)


def _is_after_locals(boundary: Boundary) -> bool:
    return boundary[0][-1] == _ABOVE_LOCALS and boundary[0][4] != _INF


def _is_after_posts(boundary: Boundary) -> bool:
    key = boundary[0]
    return len(key) > 4 and key[4] == _INF


class Ranges:
    """An immutable set of versions: sorted, disjoint segments.

    Build ranges with :meth:`empty`, :meth:`full`, :meth:`singleton`,
    :meth:`at_least`, :meth:`below` and :meth:`between`, and from PEP 440
    specifiers with :func:`~freewheel.resolver.pubgrub.from_specifiers`;
    combine them with ``&``, ``|``, ``-`` and ``~``. Every operation is
    linear in the number of segments, and membership is logarithmic.
    """

    __slots__ = ("_bounds", "_hash")

    _bounds: tuple[Boundary, ...]
    _hash: int | None

    def __init__(self, bounds: Iterable[Boundary] = ()) -> None:
        # Callers inside this package pass canonical bounds: an even number,
        # strictly increasing.
        self._bounds = tuple(bounds)
        self._hash = None

    # -- construction --------------------------------------------------------

    @staticmethod
    def empty() -> Ranges:
        """No version at all."""
        return EMPTY

    @staticmethod
    def full() -> Ranges:
        """Every version."""
        return FULL

    @staticmethod
    def singleton(version: Version) -> Ranges:
        """Exactly ``version`` (its local versions are different versions)."""
        return Ranges((_before(version), _after(version)))

    @staticmethod
    def at_least(version: Version) -> Ranges:
        """``version`` and every version above it."""
        return Ranges((_before(version), _MAX))

    @staticmethod
    def below(version: Version) -> Ranges:
        """Every version strictly below ``version``."""
        return Ranges((_MIN, _before(version)))

    @staticmethod
    def between(lower: Version, upper: Version) -> Ranges:
        """From ``lower`` (included) to ``upper`` (excluded)."""
        if version_key(upper) <= version_key(lower):
            return EMPTY
        return Ranges((_before(lower), _before(upper)))

    # -- queries --------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        """Whether the range holds no version."""
        return not self._bounds

    @property
    def is_full(self) -> bool:
        """Whether the range holds every version."""
        return self._bounds == (_MIN, _MAX)

    def __contains__(self, version: Version) -> bool:
        return bisect_right(self._bounds, (version_key(version), _PROBE)) & 1 == 1

    def contains(self, version: Version) -> bool:
        """Whether ``version`` is in the range (pre-releases are plain versions here)."""
        return bisect_right(self._bounds, (version_key(version), _PROBE)) & 1 == 1

    def contains_key(self, key: Key) -> bool:
        """:meth:`contains` for a key from :func:`version_key`."""
        return bisect_right(self._bounds, (key, _PROBE)) & 1 == 1

    def positions_in(self, keys: Sequence[Key], *, descending: bool = False) -> Iterator[int]:
        """Indices of the ``keys`` (ascending, from :func:`version_key`) that are in the range.

        In ascending order, or descending with ``descending``: the first one
        is where a search for the highest (lowest) version in the range
        stops, found by bisection rather than by testing every key above it.
        """
        for start, end in self.spans_in(keys, descending=descending):
            yield from (range(end - 1, start - 1, -1) if descending else range(start, end))

    def spans_in(self, keys: Sequence[Key], *, descending: bool = False) -> Iterator[tuple[int, int]]:
        """The indices of :meth:`positions_in` as half-open spans ``(start,
        end)``, one per segment holding any, in the same order."""
        bounds = self._bounds
        starts = range(0, len(bounds), 2)
        for index in reversed(starts) if descending else starts:
            start = _first_above(keys, bounds[index])
            end = _first_above(keys, bounds[index + 1])
            if start < end:
                yield start, end

    def singleton_version(self) -> Version | None:
        """The one version of a range made by :meth:`singleton`, else ``None``."""
        bounds = self._bounds
        if len(bounds) == 2 and bounds[0][1] == _BEFORE and bounds[1][1] == _AFTER:
            if bounds[0][0] == bounds[1][0]:
                return bounds[0][2]
        return None

    @property
    def is_one_release(self) -> bool:
        """Whether the range is one version, or one version and its local
        versions (what ``==1.0`` admits)."""
        bounds = self._bounds
        if len(bounds) != 2 or bounds[0][1] != _BEFORE:
            return False
        version = bounds[0][2]
        if version is None:
            return False
        upper = bounds[1][:2]
        return upper == _after(version)[:2] or (version.local is None and upper == _after_locals(version)[:2])

    @property
    def segment_count(self) -> int:
        """How many disjoint segments make up the range."""
        return len(self._bounds) // 2

    # -- algebra ---------------------------------------------------------------

    def complement(self) -> Ranges:
        """Every version not in the range."""
        bounds = self._bounds
        if not bounds:
            return FULL
        if bounds[0] == _MIN:
            bounds = bounds[1:]
        else:
            bounds = (_MIN, *bounds)
        if bounds and bounds[-1] == _MAX:
            bounds = bounds[:-1]
        else:
            bounds = (*bounds, _MAX)
        return Ranges(bounds)

    __invert__ = complement

    def intersection(self, other: Ranges) -> Ranges:
        """The versions in both ranges."""
        if not self._bounds or other.is_full:
            return self
        if not other._bounds or self.is_full:
            return other
        for one, two in ((self, other), (other, self)):
            if len(one._bounds) == 2 and one.singleton_version() is not None:
                return one if two.contains_key(one._bounds[0][0]) else EMPTY
        return Ranges(_sweep(self._bounds, other._bounds, both=True))

    __and__ = intersection

    def union(self, other: Ranges) -> Ranges:
        """The versions in either range."""
        if not self._bounds or other.is_full:
            return other
        if not other._bounds or self.is_full:
            return self
        return Ranges(_sweep(self._bounds, other._bounds, both=False))

    __or__ = union

    def difference(self, other: Ranges) -> Ranges:
        """The versions in this range and not in ``other``."""
        if not self._bounds or not other._bounds:
            return self
        version = self.singleton_version()
        if version is not None:
            return EMPTY if other.contains_key(self._bounds[0][0]) else self
        return self.intersection(other.complement())

    __sub__ = difference

    def is_subset(self, other: Ranges) -> bool:
        """Whether every version of this range is in ``other``."""
        a, b = self._bounds, other._bounds
        if not a or a is b:
            return True
        for index in range(0, len(a), 2):
            # The segment must lie inside one segment of ``other``.
            position = bisect_right(b, a[index])
            if not position & 1 or b[position] < a[index + 1]:
                return False
        return True

    def is_disjoint(self, other: Ranges) -> bool:
        """Whether no version is in both ranges."""
        a, b = self._bounds, other._bounds
        if len(a) > len(b):
            a, b = b, a
        if not a:
            return True
        for index in range(0, len(a), 2):
            position = bisect_right(b, a[index])
            if position & 1:
                return False
            if position < len(b) and b[position] < a[index + 1]:
                return False
        return True

    def simplify(self, versions: Sequence[Version]) -> Ranges:
        """A range with fewer segments that agrees on every one of ``versions``.

        ``versions`` (ascending) are the versions that exist; what the
        result says of other versions is unspecified. Consecutive existing
        versions inside the range become one segment, keeping the range's
        own bound between an existing version in it and one outside it, so
        ``==1.0 | ==1.1 | ==1.2`` over releases 1.0, 1.1, 1.2, 1.3 reads
        ``>=1.0,<1.3``; a lone existing version left out between two runs
        reads ``!=V``. When no existing version is in the range, the range
        is returned as it is.
        """
        bounds = self._bounds
        if not bounds or bounds == (_MIN, _MAX):
            return self
        positions = [bisect_right(bounds, (version_key(v), _PROBE)) for v in versions]
        inside = [position & 1 == 1 for position in positions]
        if not any(inside):
            return self
        out: list[Boundary] = []
        count = len(versions)
        first = inside.index(True)
        out.append(bounds[positions[first] - 1])
        for index in range(first + 1, count):
            if inside[index] == inside[index - 1]:
                continue
            if not inside[index] and index + 1 < count and inside[index + 1]:
                # One version left out between two runs: exactly that gap.
                out += _gap(versions[index], versions[index + 1])
            elif inside[index] and not inside[index - 1] and inside[index - 2]:
                continue  # the far side of a one-version gap, written above
            elif positions[index] - positions[index - 1] != 1:
                out.append(_before(versions[index]))
            elif not inside[index] and bounds[positions[index] - 1] == _before(versions[index]):
                # "Below the next release" says more plainly "up to this one".
                out.append(_gap(versions[index - 1], versions[index])[1])
            else:
                out.append(bounds[positions[index] - 1])
        if inside[-1]:
            out.append(bounds[positions[-1]])
        return Ranges(out)

    # -- identity --------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ranges):
            return NotImplemented
        return self._bounds == other._bounds

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple((key, side) for key, side, _ in self._bounds))
        return self._hash

    def __bool__(self) -> bool:
        return bool(self._bounds)

    def __repr__(self) -> str:
        return f"<Ranges {self}>"

    def __str__(self) -> str:
        return _format(self._bounds)


EMPTY = Ranges()
FULL = Ranges((_MIN, _MAX))


def _gap(version: Version, following: Version) -> list[Boundary]:
    """The boundaries that leave out ``version`` alone, before ``following``.

    With its local versions too, when none of them is ``following``.
    """
    end = _after_locals(version)
    if version.local is not None or version_key(following) < end[0]:
        end = _after(version)
    return [_before(version), end]


def _sweep(a: tuple[Boundary, ...], b: tuple[Boundary, ...], *, both: bool) -> list[Boundary]:
    """The boundaries of ``a & b`` (``both``) or ``a | b``, in one pass.

    Walks both boundary lists in order, tracking whether the point just
    above the current boundary is inside each range, and keeps a boundary
    where the combined answer flips. Equal boundaries are taken together,
    so touching segments merge.
    """
    out: list[Boundary] = []
    i = j = 0
    len_a, len_b = len(a), len(b)
    inside = False
    while i < len_a or j < len_b:
        if j >= len_b or (i < len_a and a[i] < b[j]):
            boundary = a[i]
            i += 1
        elif i >= len_a or b[j] < a[i]:
            boundary = b[j]
            j += 1
        else:
            boundary = a[i]
            i += 1
            j += 1
        # After the boundaries consumed so far, i odd means inside a.
        now = (i & 1 and j & 1) if both else (i & 1 or j & 1)
        if bool(now) != inside:
            inside = not inside
            out.append(boundary)
    return out


# -- display -------------------------------------------------------------------

#: At most this many single excluded versions are written out one by one.
_MAX_EXCLUSIONS = 3


def _format(bounds: tuple[Boundary, ...]) -> str:
    """``*``, ``<no versions>``, or specifier-like text joined by `` | ``.

    A gap of exactly one version (with its local versions) between two
    segments reads ``!=V``; past a few, the rest are counted, not listed.
    Operators have their PEP 440 meaning where one exists: ``<2`` stops
    before 2's pre-releases, ``<=2`` includes ``2+local``, ``>2`` skips
    ``2.post1``.
    """
    if not bounds:
        return "<no versions>"
    if bounds == (_MIN, _MAX):
        return "*"
    groups: list[str] = []
    start = 0
    excluded: list[Version] = []
    for index in range(2, len(bounds), 2):
        gap = bounds[index - 1]
        if _is_single_gap(gap, bounds[index]):
            assert gap[2] is not None
            excluded.append(gap[2])
            continue
        groups.append(_group(bounds[start], gap, excluded))
        start, excluded = index, []
    groups.append(_group(bounds[start], bounds[-1], excluded))
    return " | ".join(groups)


def _group(lower: Boundary, upper: Boundary, excluded: list[Version]) -> str:
    """One run of segments separated only by single excluded versions."""
    if not excluded:
        exact = _exact(lower, upper)
        if exact is not None:
            return exact
    parts: list[str] = []
    wildcard = _wildcard_prefix(lower, upper)
    if wildcard is not None:
        parts.append(f"=={wildcard}.*")
    elif lower != _MIN:
        parts.append(_lower_text(lower))
    if len(excluded) <= _MAX_EXCLUSIONS:
        parts += [f"!={version}" for version in excluded]
    if wildcard is None and upper != _MAX:
        parts.append(_upper_text(upper))
    text = ",".join(parts) or "*"
    if len(excluded) > _MAX_EXCLUSIONS:
        listed = ", ".join(str(version) for version in excluded[:_MAX_EXCLUSIONS])
        text += f" (except {listed} and {len(excluded) - _MAX_EXCLUSIONS} more)"
    return text


def _is_single_gap(upper: Boundary, lower: Boundary) -> bool:
    """Whether the gap ``[upper, lower)`` is one version, bare or with its locals."""
    if upper[1] != _BEFORE or upper[2] is None or lower[2] is None:
        return False
    if upper[0] != version_key(upper[2]):
        return False
    if lower[1] == _AFTER:
        return lower[0] == upper[0]
    return _is_after_locals(lower) and lower[2] == upper[2]


def _exact(lower: Boundary, upper: Boundary) -> str | None:
    """``==V`` for a segment of one version (with or without its locals)."""
    if lower[1] != _BEFORE or lower[2] is None or lower[0] != version_key(lower[2]):
        return None
    if upper[1] == _AFTER and upper[0] == lower[0]:
        return f"=={lower[2]}"
    if _is_after_locals(upper) and upper[2] == lower[2]:
        return f"=={lower[2]}"
    return None


def _lower_text(lower: Boundary) -> str:
    if lower[1] == _AFTER or _is_after_locals(lower) or _is_after_posts(lower):
        return f">{lower[2]}"
    return f">={lower[2]}"


def _upper_text(upper: Boundary) -> str:
    version = upper[2]
    assert version is not None
    if _is_after_posts(upper):
        return f"<={version}.post*"
    if upper[1] == _AFTER or _is_after_locals(upper):
        return f"<={version}"
    if _is_first_of_release(version):
        return f"<{_release_text(version)}"
    return f"<{version}"


def _is_first_of_release(version: Version) -> bool:
    """Whether ``version`` is ``X.dev0`` for a final release X (so ``<X`` is exact)."""
    return version.dev == 0 and version.pre is None and version.post is None and version.local is None


def _release_text(version: Version) -> str:
    release = ".".join(str(part) for part in version.release)
    return f"{version.epoch}!{release}" if version.epoch else release


def _wildcard_prefix(lower: Boundary, upper: Boundary) -> str | None:
    """``1.2`` when ``[lower, upper)`` is exactly ``==1.2.*``."""
    start, end = lower[2], upper[2]
    if start is None or end is None or lower[1] != _BEFORE or upper[1] != _BEFORE:
        return None
    if _is_after_locals(upper) or _is_after_posts(upper):
        return None
    if not (_is_first_of_release(start) and _is_first_of_release(end)) or end.epoch != start.epoch:
        return None
    release = start.release
    if end.release != (*release[:-1], release[-1] + 1):
        return None
    return _release_text(start)
