"""Incompatibilities: sets of terms that must not all hold at once, and why."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import Generic, NamedTuple, TypeVar

from packaging.version import Version

from ._ranges import Ranges
from ._term import Term

P = TypeVar("P", bound=Hashable)


class NotRoot(NamedTuple, Generic[P]):
    """The root package must be selected at its one version."""

    package: P
    version: Version


class NoVersions(NamedTuple, Generic[P]):
    """The provider has no version of ``package`` inside ``range``."""

    package: P
    range: Ranges


class UnavailableVersions(NamedTuple, Generic[P]):
    """The versions of ``package`` in ``version_range`` cannot be used, for ``reason``."""

    package: P
    version_range: Ranges
    reason: str


class FromDependency(NamedTuple, Generic[P]):
    """``package`` at versions in ``range`` depends on ``dependency`` in ``dep_range``."""

    package: P
    range: Ranges
    dependency: P
    dep_range: Ranges


class SameVersion(NamedTuple, Generic[P]):
    """``package`` is always selected at the same version as each of ``twins``
    (``foo[bar]`` and ``foo``), and no version of ``package`` in ``range`` lies in
    all of the twins' ranges, so those terms cannot hold together."""

    package: P
    range: Ranges
    twins: tuple[tuple[P, Ranges], ...]


class Derived(NamedTuple, Generic[P]):
    """The incompatibility was learned from two earlier ones by conflict resolution."""

    cause1: Incompatibility[P]
    cause2: Incompatibility[P]


External = NotRoot[P] | NoVersions[P] | UnavailableVersions[P] | FromDependency[P] | SameVersion[P]


class Incompatibility(Generic[P]):
    """A set of terms that cannot all be true in a solution, and the reason why.

    An incompatibility holds at most one term per package (terms for the same
    package are intersected on construction), and no term that always holds.
    Instances are compared and hashed by identity: two incompatibilities with
    equal terms but different causes tell different stories in a failure
    report.
    """

    __slots__ = ("cause", "terms")

    terms: Mapping[P, Term]
    cause: External[P] | Derived[P]

    def __init__(self, terms: Iterable[tuple[P, Term]], cause: External[P] | Derived[P]) -> None:
        merged: dict[P, Term] = {}
        for package, term in terms:
            previous = merged.get(package)
            merged[package] = term if previous is None else previous.intersection(term)
        # "Not in the empty range" always holds, so it constrains nothing (a
        # dependency on no versions at all leaves just the depender).
        self.terms = {
            package: term
            for package, term in merged.items()
            if term.positive or not term.range.is_empty
        }
        self.cause = cause

    @classmethod
    def from_dependency(
        cls, package: P, versions: Ranges, dependency: P, dep_range: Ranges
    ) -> Incompatibility[P]:
        """``package`` at any version in ``versions`` requires ``dependency`` in ``dep_range``."""
        cause = FromDependency(package, versions, dependency, dep_range)
        if dependency == package:
            return cls([(package, Term(True, versions)), (dependency, Term(False, dep_range))], cause)
        # Two distinct packages: nothing to intersect, so built directly
        # (a long walk makes one per dependency of every version it reads).
        incompatibility = cls.__new__(cls)
        terms = {package: Term(True, versions)}
        if not dep_range.is_empty:
            terms[dependency] = Term(False, dep_range)
        incompatibility.terms = terms
        incompatibility.cause = cause
        return incompatibility

    @property
    def merge_key(self) -> Hashable | None:
        """What this incompatibility shares with any other it merges with
        (see :meth:`merged_with`); ``None`` for one that never merges."""
        cause = self.cause
        if isinstance(cause, FromDependency):
            return ("depends", cause.package, cause.dependency, cause.dep_range)
        if isinstance(cause, UnavailableVersions):
            return ("unavailable", cause.package, cause.reason)
        return None

    def merged_with(self, other: Incompatibility[P]) -> Incompatibility[P]:
        """One incompatibility for both, which have the same :attr:`merge_key`.

        "a in R1 depends on b in D" and "a in R2 depends on b in D" say
        together "a in R1 | R2 depends on b in D"; two sets of versions of
        one package unusable for the same reason are one set. One clause
        where there were two, whose range grows into long runs as a
        backtrack walks through versions alike, and which a failure report
        tells once.
        """
        mine, theirs = self.cause, other.cause
        if isinstance(mine, FromDependency) and isinstance(theirs, FromDependency):
            return Incompatibility.from_dependency(
                mine.package, mine.range | theirs.range, mine.dependency, mine.dep_range
            )
        assert isinstance(mine, UnavailableVersions) and isinstance(theirs, UnavailableVersions)
        versions = mine.version_range | theirs.version_range
        return Incompatibility(
            [(mine.package, Term(True, versions))], UnavailableVersions(mine.package, versions, mine.reason)
        )

    @property
    def is_derived(self) -> bool:
        """Whether this incompatibility was learned rather than given by the provider."""
        return isinstance(self.cause, Derived)

    def external_incompatibilities(self) -> Iterator[Incompatibility[P]]:
        """Every external incompatibility in this derivation tree, each once.

        Depth-first, cause1 before cause2, so the order is deterministic.
        """
        seen: set[int] = set()
        stack: list[Incompatibility[P]] = [self]
        while stack:
            incompatibility = stack.pop()
            if id(incompatibility) in seen:
                continue
            seen.add(id(incompatibility))
            cause = incompatibility.cause
            if isinstance(cause, Derived):
                stack.append(cause.cause2)
                stack.append(cause.cause1)
            else:
                yield incompatibility

    def __repr__(self) -> str:
        terms = ", ".join(
            f"{'' if term.positive else 'not '}{package!r} {term.range!r}"
            for package, term in self.terms.items()
        )
        return f"<Incompatibility {{{terms}}} {type(self.cause).__name__}>"
