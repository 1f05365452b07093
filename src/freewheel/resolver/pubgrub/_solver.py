"""The PubGrub solving loop: unit propagation, decisions and conflict resolution."""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from packaging.version import Version

from ._incompatibility import (
    Derived,
    Incompatibility,
    NotRoot,
    NoVersions,
    SameVersion,
    UnavailableVersions,
)
from ._partial_solution import PartialSolution, Relation
from ._ranges import Ranges
from ._term import Term

P = TypeVar("P", bound=Hashable)

Dependencies = Mapping[P, Ranges]

#: How many versions of a direct requirement may be rejected because of the
#: version chosen for another, earlier decided direct requirement before the
#: two swap their decision order (see :func:`resolve`).
DEFAULT_SWAP_THRESHOLD = 5


class SupportsLessThan(Protocol):
    def __lt__(self, other: Any, /) -> bool: ...


class Unavailable(NamedTuple):
    """Returned by :meth:`DependencyProvider.get_dependencies` for a version that cannot be used."""

    reason: str


class DependencyProvider(Protocol[P]):
    """What the solver needs to know about packages; the solver does no I/O itself.

    Ranges passed to and from the provider carry no configured pre-release
    policy: the solver treats them as plain sets of versions, and which
    pre-releases are acceptable is the provider's business (it simply does not
    offer them from :meth:`choose_version`).
    """

    def prioritize(self, package: P) -> SupportsLessThan:
        """Sort key for deciding ``package`` next; the lowest is decided first.

        Asked each time the package's term changes while it waits for a
        decision (and when it starts waiting), so a key may change as the
        provider learns: a waiting package moves when its term next changes.
        Cheap.
        """
        ...

    def choose_version(self, package: P, range: Ranges) -> Version | None:
        """The preferred version of ``package`` in ``range``, or ``None`` if there is none."""
        ...

    def version_set(self, package: P, version: Version) -> Ranges:
        """The versions ``version`` stands for in what the solver learns from it.

        At least ``version`` itself. A provider that knows every version of
        the package may widen it up to the next existing version: then the
        clauses learned from neighbouring versions with the same
        dependencies merge into one contiguous range instead of a union
        of points, and a long walk down a package's releases keeps its
        terms at a few segments. Called once per version read; cheap.
        """
        ...

    def get_dependencies(self, package: P, version: Version) -> Dependencies[P] | Unavailable:
        """What ``package==version`` requires, or why that version cannot be used."""
        ...

    def same_version_as(self, package: P) -> Iterable[P]:
        """The packages always selected at the same version as ``package``.

        ``foo`` and ``foo[bar]`` are two packages to the solver, and each
        version of ``foo[bar]`` depends on ``foo`` at exactly that version.
        Only the packages seen so far need to be named. Called once per
        decision; cheap.
        """
        ...


class NoSolution(Exception):
    """No set of versions satisfies the root's requirements.

    ``incompatibility`` is the root of the derivation tree explaining why, and
    ``root`` the package resolution started from; see
    :func:`~freewheel.resolver.pubgrub.format_report`.
    """

    def __init__(self, incompatibility: Incompatibility[Any], root: Hashable) -> None:
        super().__init__("no solution")
        self.incompatibility = incompatibility
        self.root = root


def resolve(
    provider: DependencyProvider[P],
    root: P,
    root_version: Version,
    *,
    swap_threshold: int = DEFAULT_SWAP_THRESHOLD,
) -> dict[P, Version]:
    """Select one version of every package needed by ``root``, or raise :class:`NoSolution`.

    Packages are decided in ``provider.prioritize`` order, ties broken by the
    order in which they became required. PubGrub undoes the most recent
    decision involved in a conflict, so a package decided early keeps its
    preferred version and later ones move around it: a provider that gives
    the user's direct requirements the first places makes transitive
    packages move before direct ones do.

    That leaves conflicts between two direct requirements, where the one
    decided second pays: if every recent release of ``a`` conflicts with the
    newest ``b``, PubGrub walks ``a`` back one release at a time, possibly into
    ancient releases that predate the conflicting bound, although the release
    of ``b`` just before would do. So once ``swap_threshold`` versions of a
    direct requirement have been rejected because of the version chosen for
    one earlier decided direct requirement (undone by backjumping, or refused
    at once because their dependencies contradict it), the solver backtracks
    to before that one and decides the rejected package first. If that walks the other
    one back as many releases in turn, neither order is better, and the
    solver swaps back for good, to the order uv keeps (moto and types-requests
    for Python 3.9: moving moto walks it back years, types-requests one minor
    release). Each pair swaps at most twice, which keeps the search finite;
    and as all learned incompatibilities are kept, the search stays complete:
    if only old releases of ``a`` work, it still finds them.

    The root is returned in the solution with ``root_version``.
    """
    return _Solver(provider, root, root_version, swap_threshold).solve()


def _priority(root: P, provider: DependencyProvider[P], package: P) -> tuple[int, SupportsLessThan]:
    """The root first, then the provider's order."""
    if package == root:
        return (0, 0)
    return (1, provider.prioritize(package))


class _Solver(Generic[P]):
    def __init__(
        self,
        provider: DependencyProvider[P],
        root: P,
        root_version: Version,
        swap_threshold: int,
    ) -> None:
        self._provider = provider
        self._root = root
        self._root_version = root_version
        self._swap_threshold = swap_threshold
        # Not a method of the solver: the partial solution holding one would
        # tie the two in a cycle, and a finished solve (a universal
        # resolution discards dozens) would wait for the cyclic collector.
        self._solution: PartialSolution[P] = PartialSolution(functools.partial(_priority, root, provider))
        #: Per package, its incompatibilities not known to be contradicted,
        #: with the order in which each was added: propagation goes through
        #: these only. Most of a long walk's clauses are contradicted at any
        #: time (99% on moto and types-requests); skipping them one by one
        #: was four million steps.
        self._active: dict[P, list[tuple[int, Incompatibility[P]]]] = {}
        self._added_at: dict[Incompatibility[P], int] = {}
        self._additions = itertools.count()
        #: Incompatibilities known to be contradicted, with the decision
        #: level at which that was found: propagation skips them until a
        #: backtrack below that level.
        self._contradicted: dict[Incompatibility[P], int] = {}
        self._contradicted_at: dict[int, list[Incompatibility[P]]] = {}
        #: Incompatibilities from the provider by their merge key (see
        #: :meth:`Incompatibility.merged_with`).
        self._mergeable: dict[Hashable, Incompatibility[P]] = {}
        self._direct: frozenset[P] = frozenset()
        #: Packages moved ahead of the provider's order, in promotion order.
        self._promoted: dict[P, None] = {}
        self._rejections: dict[tuple[P, P], int] = {}
        #: Pairs swapped once, and the package then moved ahead.
        self._swapped: dict[frozenset[P], P] = {}
        #: Pairs swapped back: their order is final.
        self._settled: set[frozenset[P]] = set()
        self._known: dict[tuple[P, Version], list[Incompatibility[P]]] = {}

    def solve(self) -> dict[P, Version]:
        root_range = Ranges.singleton(self._root_version)
        self._add_incompatibility(
            Incompatibility([(self._root, Term(False, root_range))], NotRoot(self._root, self._root_version))
        )
        next_package: P | None = self._root
        while next_package is not None:
            self._propagate(next_package)
            next_package = self._decide()
        return self._solution.decisions

    # -- unit propagation ------------------------------------------------------

    def _propagate(self, package: P) -> None:
        solution = self._solution
        contradicted = self._contradicted
        changed: dict[P, None] = {package: None}
        while changed:
            current = next(iter(changed))
            del changed[current]
            # Newest first: learned incompatibilities are the most informative.
            # A copy: deriving marks incompatibilities contradicted, which
            # takes them out of the active lists; those later in this pass
            # are skipped by the test below.
            for _, incompatibility in reversed(self._active.get(current, [])[:]):
                if incompatibility in contradicted:
                    continue
                relation, unsatisfied = solution.relation(incompatibility)
                if relation is Relation.SATISFIED:
                    learned = self._resolve_conflict(incompatibility)
                    changed.clear()
                    if learned is None:
                        # Swapped decision order: nothing is unit at the new level.
                        break
                    relation, unsatisfied = solution.relation(learned)
                    assert relation is Relation.ALMOST_SATISFIED and unsatisfied is not None
                    self._derive(unsatisfied, learned)
                    changed[unsatisfied] = None
                    break
                if relation is Relation.ALMOST_SATISFIED:
                    assert unsatisfied is not None
                    self._derive(unsatisfied, incompatibility)
                    changed[unsatisfied] = None
                elif relation is Relation.CONTRADICTED:
                    self._mark_contradicted(incompatibility)

    def _mark_contradicted(self, incompatibility: Incompatibility[P]) -> None:
        level = self._solution.decision_level
        if incompatibility not in self._contradicted:
            self._deactivate(incompatibility)
        self._contradicted[incompatibility] = level
        self._contradicted_at.setdefault(level, []).append(incompatibility)

    def _activate(self, incompatibility: Incompatibility[P]) -> None:
        entry = (self._added_at[incompatibility], incompatibility)
        for package in incompatibility.terms:
            # Keyed by the unique addition number: the incompatibilities
            # themselves are never compared.
            bisect.insort(self._active.setdefault(package, []), entry)

    def _deactivate(self, incompatibility: Incompatibility[P]) -> None:
        added = (self._added_at[incompatibility],)
        for package in incompatibility.terms:
            active = self._active[package]
            position = bisect.bisect_left(active, added)
            assert active[position][1] is incompatibility
            del active[position]

    def _backtrack(self, level: int) -> None:
        above = self._solution.decision_level
        self._solution.backtrack(level)
        for dropped in range(level + 1, above + 1):
            for incompatibility in self._contradicted_at.pop(dropped, ()):
                # A later mark at a lower level keeps it contradicted.
                if self._contradicted.get(incompatibility) == dropped:
                    del self._contradicted[incompatibility]
                    self._activate(incompatibility)

    def _derive(self, package: P, incompatibility: Incompatibility[P]) -> None:
        self._solution.derive(package, incompatibility.terms[package].negate(), incompatibility)
        # With its last term now contradicted, so is the incompatibility.
        self._mark_contradicted(incompatibility)

    # -- conflict resolution ---------------------------------------------------

    def _is_terminal(self, incompatibility: Incompatibility[P]) -> bool:
        terms = incompatibility.terms
        if not terms:
            return True
        if len(terms) == 1:
            (package, term), = terms.items()
            return package == self._root and term.positive
        return False

    def _resolve_conflict(self, incompatibility: Incompatibility[P]) -> Incompatibility[P] | None:
        """Learn from a satisfied incompatibility and backjump.

        Returns the learned incompatibility, now almost satisfied; or ``None``
        when the solver swapped the decision order of two direct requirements
        instead, backtracking past the point where it would be.
        """
        solution = self._solution
        learned_something = False
        while True:
            if self._is_terminal(incompatibility):
                raise NoSolution(incompatibility, self._root)
            satisfiers = {
                package: solution.satisfier(package, term)
                for package, term in incompatibility.terms.items()
            }
            satisfier = max(satisfiers.values(), key=lambda assignment: assignment.index)
            term = incompatibility.terms[satisfier.package]
            # The previous satisfier: what, before the satisfier, made the other
            # terms (and, with the satisfier's help, its own term) hold.
            previous = [a for p, a in satisfiers.items() if p != satisfier.package]
            if not satisfier.term.is_subset(term):
                previous.append(solution.satisfier(satisfier.package, term, start=satisfier.term))
            previous_level = max([1, *(a.decision_level for a in previous)])
            if satisfier.is_decision or previous_level != satisfier.decision_level:
                if learned_something:
                    self._add_incompatibility(incompatibility)
                if satisfier.decision_level > previous_level and self._swap(
                    solution.decision_at(satisfier.decision_level), previous_level
                ):
                    return None
                self._backtrack(previous_level)
                return incompatibility
            # The satisfier was derived at the same level as an earlier
            # assignment: replace it by the incompatibility it came from.
            assert satisfier.cause is not None
            terms = [
                (package, t)
                for package, t in (*incompatibility.terms.items(), *satisfier.cause.terms.items())
                if package != satisfier.package
            ]
            if not satisfier.term.is_subset(term):
                terms.append((satisfier.package, term.union(satisfier.term.negate())))
            incompatibility = self._derived(terms, incompatibility, satisfier.cause)
            learned_something = True

    def _derived(
        self,
        terms: list[tuple[P, Term]],
        cause1: Incompatibility[P],
        cause2: Incompatibility[P],
    ) -> Incompatibility[P]:
        cause = Derived(cause1, cause2)
        merged = Incompatibility(terms, cause)
        root_term = merged.terms.get(self._root)
        if root_term is not None and root_term.positive and len(merged.terms) > 1:
            # The root is always selected, so saying so adds nothing.
            return Incompatibility(
                [(p, t) for p, t in merged.terms.items() if p != self._root], cause
            )
        return merged

    def _swap(self, package: P, previous_level: int) -> bool:
        """Count a rejection of ``package`` and swap decision order if it is due.

        A version of ``package`` was rejected (undone by backjumping, or
        refused because its dependencies conflicted at once) because of the
        decision at ``previous_level``.
        """
        if previous_level < 2 or package not in self._direct:
            return False
        culprit = self._solution.decision_at(previous_level)
        pair = frozenset((package, culprit))
        if culprit not in self._direct or pair in self._settled:
            return False
        count = self._rejections.get((package, culprit), 0) + 1
        self._rejections[(package, culprit)] = count
        if count < self._swap_threshold:
            return False
        promoted = self._swapped.get(pair)
        if promoted is None:
            self._swapped[pair] = package
            self._promoted[package] = None
        elif promoted == culprit:
            # Deciding the other one first walks this one back just as
            # far: restore the first order for good.
            self._settled.add(pair)
            # Another pair may have swapped it back already.
            self._promoted.pop(culprit, None)
        else:
            return False
        self._backtrack(previous_level - 1)
        return True

    # -- decisions -------------------------------------------------------------

    def _decide(self) -> P | None:
        """Make the next decision; return the package to propagate from, or ``None`` when done."""
        package = self._pick()
        if package is None:
            return None
        range_ = self._solution.term(package).range
        if package == self._root:
            version: Version | Incompatibility[P] | None = self._root_version
        else:
            version = self._choose(package, range_)
        if isinstance(version, Incompatibility):
            self._add_incompatibility(version)
            return package
        if version is None:
            self._add_incompatibility(
                Incompatibility([(package, Term(True, range_))], NoVersions(package, range_))
            )
            return package
        if version not in range_:
            raise ValueError(f"choose_version({package!r}) returned {version}, outside {range_!r}")

        incompatibilities = self._dependency_incompatibilities(package, version)
        # If deciding would satisfy one of them at once (the version is
        # unusable, or a dependency is already ruled out), let propagation
        # reject the version instead.
        conflicts = [
            incompatibility
            for incompatibility in incompatibilities
            if all(
                self._solution.term(other).is_subset(term)
                for other, term in incompatibility.terms.items()
                if other != package
            )
        ]
        if not conflicts:
            self._solution.decide(package, version)
        else:
            # A rejection as much as one found by backjumping (uv counts both):
            # dagster-webserver pins dagster release by release, and with the
            # newest dagster decided first, each of its versions is refused here.
            for incompatibility in conflicts:
                if self._swap(package, self._blamed_level(package, incompatibility)):
                    break
        return package

    def _blamed_level(self, package: P, incompatibility: Incompatibility[P]) -> int:
        """The decision level at which ``incompatibility``'s terms other than
        ``package``'s all came to hold (0 when they always did)."""
        solution = self._solution
        return max(
            (
                solution.satisfier(other, term).decision_level
                for other, term in incompatibility.terms.items()
                if other != package and solution.is_assigned(other)
            ),
            default=0,
        )

    def _choose(self, package: P, range_: Ranges) -> Version | Incompatibility[P] | None:
        """The provider's choice of ``package`` in ``range_``, among the versions
        its required twins (:meth:`DependencyProvider.same_version_as`) allow.

        PubGrub learns that twins share a version only one version at a time,
        from each version's dependency on its base: with ``foo`` held at new
        releases by one requirement and the newest ``foo[bar]`` ruled out by
        another, it would walk ``foo[bar]`` down through every older release
        (reading each one's metadata) before blaming the requirement that
        holds ``foo``. So the choice is made inside the twins' ranges; when
        nothing is left there, this returns the incompatibility "``package``
        in ``range_`` and the twins in theirs" instead, which holds because
        any version of ``package`` would have to lie in all of them.
        """
        narrowed = range_
        chosen: Version | None = None
        twins: list[tuple[P, Ranges]] = []
        for twin in self._provider.same_version_as(package):
            term = self._solution.term(twin)
            if not term.positive or narrowed.is_subset(term.range):
                continue
            narrowed = narrowed & term.range
            twins.append((twin, term.range))
            chosen = self._provider.choose_version(package, narrowed)
            if chosen is None:
                terms = [(package, Term(True, range_)), *((t, Term(True, r)) for t, r in twins)]
                return Incompatibility(terms, SameVersion(package, range_, tuple(twins)))
        return chosen if twins else self._provider.choose_version(package, range_)

    def _dependency_incompatibilities(
        self, package: P, version: Version
    ) -> list[Incompatibility[P]]:
        """The incompatibilities ``package==version`` brings, added to the solver once.

        Backjumping re-decides packages; asking the provider again and
        re-adding the same incompatibilities would make every later
        propagation slower.
        """
        known = self._known.get((package, version))
        if known is not None:
            return known
        dependencies = self._provider.get_dependencies(package, version)
        if package == self._root:
            versions = Ranges.singleton(version)
        else:
            versions = self._provider.version_set(package, version)
            if not versions.contains(version):
                raise ValueError(f"version_set({package!r}, {version}) does not contain {version}")
        if isinstance(dependencies, Unavailable):
            known = [
                Incompatibility(
                    [(package, Term(True, versions))],
                    UnavailableVersions(package, versions, dependencies.reason),
                )
            ]
        else:
            if package == self._root:
                self._direct = frozenset(d for d in dependencies if d != package)
            known = [
                Incompatibility.from_dependency(package, versions, dependency, dep_range)
                for dependency, dep_range in dependencies.items()
                # A package may require itself (through extras); that is met.
                if not (dependency == package and dep_range.contains(version))
            ]
        for incompatibility in known:
            self._add_incompatibility(incompatibility, mergeable=package != self._root)
        self._known[(package, version)] = known
        return known

    def _pick(self) -> P | None:
        solution = self._solution
        for package in self._promoted:
            if solution.is_waiting(package):
                return package
        return solution.first_waiting()


    def _add_incompatibility(self, incompatibility: Incompatibility[P], *, mergeable: bool = False) -> None:
        if incompatibility in self._added_at:
            return
        key = incompatibility.merge_key if mergeable else None
        if key is not None:
            # Fold it into an earlier one for the same dependency and range,
            # or the same reason versions are unusable (after pubgrub-rs):
            # the solver then keeps one clause per distinct requirement, not
            # one per version read.
            sibling = self._mergeable.get(key)
            if sibling is not None:
                merged = incompatibility.merged_with(sibling)
                if self._contradicted.pop(sibling, None) is None:
                    self._deactivate(sibling)
                incompatibility = merged
            self._mergeable[key] = incompatibility
        self._added_at[incompatibility] = next(self._additions)
        self._activate(incompatibility)
