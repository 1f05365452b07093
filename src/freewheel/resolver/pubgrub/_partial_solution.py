"""The partial solution: the ordered decisions and derivations made so far."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Hashable
from enum import Enum, auto
from typing import Any, Generic, NamedTuple, TypeVar

from packaging.version import Version

from ._incompatibility import Incompatibility
from ._ranges import Ranges
from ._term import EMPTY, Term

P = TypeVar("P", bound=Hashable)

#: What the partial solution says about a package it has no assignment for:
#: anything, including "not selected".
_UNCONSTRAINED = Term(False, EMPTY)


class Relation(Enum):
    """How an incompatibility stands against the partial solution."""

    SATISFIED = auto()
    CONTRADICTED = auto()
    ALMOST_SATISFIED = auto()
    INCONCLUSIVE = auto()


class Assignment(NamedTuple, Generic[P]):
    """One decision or derivation, with the package's accumulated term after it."""

    package: P
    term: Term
    accumulated: Term
    decision_level: int
    index: int
    #: The incompatibility this was derived from; ``None`` for a decision.
    cause: Incompatibility[P] | None

    @property
    def is_decision(self) -> bool:
        return self.cause is None


class PartialSolution(Generic[P]):
    """Decisions and derivations in the order they were made.

    Keeps, per package, its assignments and their running intersection, so
    relating a term to the solution is one subset test, and backtracking is
    popping. Packages waiting for a decision are kept in a heap by
    ``priority(package)``, then by how long they have been waiting, so
    finding the next one does not scan them all. A package's priority is
    asked again at each of its assignments: it may change as the search
    learns (pubgrub-rs re-prioritizes a package when its term changes).
    """

    def __init__(self, priority: Callable[[P], Any]) -> None:
        self._assignments: list[Assignment[P]] = []
        self._by_package: dict[P, list[Assignment[P]]] = {}
        self._decisions: dict[P, Version] = {}
        #: The package decided at each level, level 1 first.
        self._decided_at: list[P] = []
        #: Packages that must be selected but are not decided yet, each with
        #: its priority and the count at which it began waiting (the
        #: tie-breaker for decision order); and the heap of (priority, count,
        #: package) over them, with entries left behind by packages decided,
        #: dropped or re-prioritized since.
        self._undecided: dict[P, tuple[Any, int]] = {}
        self._waiting: list[tuple[Any, int, P]] = []
        self._priority = priority
        self._counter = itertools.count()
        self.decision_level = 0

    # -- building ------------------------------------------------------------

    def decide(self, package: P, version: Version) -> None:
        """Select ``package`` at ``version``, opening a new decision level."""
        self.decision_level += 1
        self._assign(package, Term(True, Ranges.singleton(version)), None)
        self._decisions[package] = version
        self._decided_at.append(package)
        self._undecided.pop(package, None)

    def derive(self, package: P, term: Term, cause: Incompatibility[P]) -> None:
        """Record that ``term`` follows from ``cause`` and the assignments so far."""
        self._assign(package, term, cause)

    def _assign(self, package: P, term: Term, cause: Incompatibility[P] | None) -> None:
        history = self._by_package.setdefault(package, [])
        accumulated = term if not history else history[-1].accumulated.intersection(term)
        assignment = Assignment(
            package, term, accumulated, self.decision_level, len(self._assignments), cause
        )
        self._assignments.append(assignment)
        history.append(assignment)
        if accumulated.positive and package not in self._decisions:
            self._wait(package)

    def _wait(self, package: P) -> None:
        priority = self._priority(package)
        entry = self._undecided.get(package)
        if entry is None:
            entry = (priority, next(self._counter))
        elif entry[0] == priority:
            return
        else:
            entry = (priority, entry[1])
        self._undecided[package] = entry
        heapq.heappush(self._waiting, (*entry, package))

    def backtrack(self, decision_level: int) -> None:
        """Drop every assignment made above ``decision_level``."""
        while self._assignments and self._assignments[-1].decision_level > decision_level:
            assignment = self._assignments.pop()
            history = self._by_package[assignment.package]
            history.pop()
            if assignment.is_decision:
                del self._decisions[assignment.package]
            if not history:
                del self._by_package[assignment.package]
                self._undecided.pop(assignment.package, None)
            elif history[-1].accumulated.positive:
                self._wait(assignment.package)
            else:
                self._undecided.pop(assignment.package, None)
        del self._decided_at[decision_level:]
        self.decision_level = decision_level

    # -- querying ------------------------------------------------------------

    @property
    def decisions(self) -> dict[P, Version]:
        """The selected version of every decided package."""
        return dict(self._decisions)

    def is_waiting(self, package: P) -> bool:
        """Whether ``package`` must be selected but has no version yet."""
        return package in self._undecided

    def first_waiting(self) -> P | None:
        """The waiting package with the lowest priority, the longest waiting
        of those; ``None`` when every selected package is decided."""
        waiting = self._waiting
        while waiting:
            priority, count, package = waiting[0]
            if self._undecided.get(package) == (priority, count):
                return package
            heapq.heappop(waiting)
        return None

    def term(self, package: P) -> Term:
        """The intersection of all the package's assignments."""
        history = self._by_package.get(package)
        return history[-1].accumulated if history else _UNCONSTRAINED

    def is_assigned(self, package: P) -> bool:
        """Whether ``package`` has a decision or a derivation."""
        return package in self._by_package

    def decision_at(self, decision_level: int) -> P:
        """The package decided at ``decision_level`` (1 or more)."""
        return self._decided_at[decision_level - 1]

    def relation(self, incompatibility: Incompatibility[P]) -> tuple[Relation, P | None]:
        """Relate ``incompatibility`` to the solution.

        For an almost satisfied incompatibility, also return the package of
        its one term that is not satisfied yet.
        """
        unsatisfied: P | None = None
        for package, term in incompatibility.terms.items():
            history = self._by_package.get(package)
            if history is None:
                # Cheap path for the common case of a package not seen yet.
                if term.positive:
                    relation_is_satisfied = False
                else:
                    relation_is_satisfied = term.range.is_empty
                if not relation_is_satisfied:
                    if unsatisfied is not None:
                        return Relation.INCONCLUSIVE, None
                    unsatisfied = package
                continue
            version = self._decisions.get(package)
            if version is not None:
                # A decided package is one version: membership settles it, and
                # is far cheaper than range algebra.
                if term.range.contains(version) is term.positive:
                    continue
                return Relation.CONTRADICTED, package
            accumulated = history[-1].accumulated
            if accumulated.is_subset(term):
                continue
            if accumulated.is_disjoint(term):
                return Relation.CONTRADICTED, package
            if unsatisfied is not None:
                return Relation.INCONCLUSIVE, None
            unsatisfied = package
        if unsatisfied is None:
            return Relation.SATISFIED, None
        return Relation.ALMOST_SATISFIED, unsatisfied

    def satisfier(self, package: P, term: Term, start: Term | None = None) -> Assignment[P]:
        """The earliest assignment of ``package`` after which ``term`` is satisfied.

        With ``start``, the assignments are taken as intersected with it first
        (used to find the previous satisfier).
        """
        history = self._by_package[package]
        # "accumulated and start imply term" is "accumulated implies term
        # or not start": one union here instead of an intersection per probe.
        target = term if start is None else term.union(start.negate())

        def satisfies(index: int) -> bool:
            return history[index].accumulated.is_subset(target)

        # Accumulated terms only ever narrow, so "satisfies term" flips from
        # false to true once along the history, and the newest assignment
        # satisfies it. Four times in ten it is the newest that flips it
        # (moto and types-requests): look there first, then bisect.
        last = len(history) - 1
        if last == 0 or not satisfies(last - 1):
            return history[last]
        low, high = 0, last - 1
        while low < high:
            middle = (low + high) // 2
            if satisfies(middle):
                high = middle
            else:
                low = middle + 1
        return history[low]
