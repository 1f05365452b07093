"""Explaining a failed resolution in plain words."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from ._incompatibility import (
    Derived,
    FromDependency,
    Incompatibility,
    NotRoot,
    NoVersions,
    SameVersion,
    UnavailableVersions,
)
from ._ranges import Ranges
from ._solver import NoSolution

P = TypeVar("P", bound=Hashable)

Describe = Callable[[Any, Ranges], str]


def describe_term(package: object, range_: Ranges) -> str:
    """The default rendering of a term: the package and its range."""
    text = str(range_)
    if text == "*":
        return f"{package} *"
    if " | " in text:
        return f"{package} ({text})"
    return f"{package}{text}"


def format_report(
    no_solution: NoSolution, *, describe: Describe | None = None
) -> str:
    """Explain why resolution failed, as numbered plain-English paragraphs.

    Written after PubGrub's reporter: each derived step says "Because X and
    Y, Z"; linear chains of steps read as "And because ..."; a step used twice
    gets a line number "(N)" the first time and is cited by it afterwards.
    The root package is never named: its requirements read "you require
    ...". ``describe(package, range)`` renders a term; it defaults to
    :func:`describe_term`.
    """
    return _Reporter(no_solution, describe or describe_term).report()


class _Reporter:
    def __init__(self, no_solution: NoSolution, describe: Describe) -> None:
        self._root = _collapse_no_versions(no_solution.incompatibility, {})
        self._root_package = no_solution.root
        self._describe = describe
        self._lines: list[str] = []
        self._shared = _shared(self._root)
        self._line_numbers: dict[int, int] = {}

    def report(self) -> str:
        if not self._root.is_derived:
            return f"Because {self._external(self._root)}, {self._conclusion(self._root)}."
        self._build(self._root)
        return "\n".join(self._lines)

    # -- tree walk (after pubgrub-rs's DefaultStringReporter) -------------------

    def _build(self, incompatibility: Incompatibility[Any]) -> None:
        self._build_helper(incompatibility)
        if id(incompatibility) in self._shared and id(incompatibility) not in self._line_numbers:
            self._number_last_line(incompatibility)

    def _build_helper(self, current: Incompatibility[Any]) -> None:
        cause = current.cause
        assert isinstance(cause, Derived)
        first, second = cause.cause1, cause.cause2
        if not first.is_derived and not second.is_derived:
            self._lines.append(
                f"Because {self._external(first)} and {self._external(second)}, "
                f"{self._conclusion(current)}."
            )
        elif first.is_derived and not second.is_derived:
            self._one_each(first, second, current)
        elif second.is_derived and not first.is_derived:
            self._one_each(second, first, current)
        else:
            self._both_derived(first, second, current)

    def _both_derived(
        self, first: Incompatibility[Any], second: Incompatibility[Any], current: Incompatibility[Any]
    ) -> None:
        first_ref = self._line_numbers.get(id(first))
        second_ref = self._line_numbers.get(id(second))
        if first_ref is not None and second_ref is not None:
            self._lines.append(
                f"Because {self._conclusion(first)} ({first_ref}) and "
                f"{self._conclusion(second)} ({second_ref}), {self._conclusion(current)}."
            )
        elif first_ref is not None or second_ref is not None:
            referenced, other = (first, second) if first_ref is not None else (second, first)
            self._build(other)
            self._and_because_ref(referenced, current)
        else:
            self._build(first)
            if id(first) in self._shared:
                self._lines.append("")
                self._build(current)
            else:
                self._number_last_line(first)
                self._lines.append("")
                self._build(second)
                self._and_because_ref(first, current)

    def _one_each(
        self, derived: Incompatibility[Any], external: Incompatibility[Any], current: Incompatibility[Any]
    ) -> None:
        reference = self._line_numbers.get(id(derived))
        if reference is not None:
            self._lines.append(
                f"Because {self._conclusion(derived)} ({reference}) and "
                f"{self._external(external)}, {self._conclusion(current)}."
            )
            return
        cause = derived.cause
        assert isinstance(cause, Derived)
        prior_first, prior_second = cause.cause1, cause.cause2
        # A derived cause with one external cause of its own folds into this
        # line: "And because <prior external> and <external>, <current>".
        if prior_first.is_derived != prior_second.is_derived and id(derived) not in self._shared:
            prior_derived, prior_external = (
                (prior_first, prior_second) if prior_first.is_derived else (prior_second, prior_first)
            )
            self._build(prior_derived)
            self._lines.append(
                f"And because {self._external(prior_external)} and {self._external(external)}, "
                f"{self._conclusion(current)}."
            )
        else:
            self._build(derived)
            self._lines.append(
                f"And because {self._external(external)}, {self._conclusion(current)}."
            )

    def _and_because_ref(self, referenced: Incompatibility[Any], current: Incompatibility[Any]) -> None:
        self._lines.append(
            f"And because {self._conclusion(referenced)} ({self._line_numbers[id(referenced)]}), "
            f"{self._conclusion(current)}."
        )

    def _number_last_line(self, incompatibility: Incompatibility[Any]) -> None:
        number = len(self._line_numbers) + 1
        self._line_numbers[id(incompatibility)] = number
        self._lines[-1] += f" ({number})"

    # -- sentences -------------------------------------------------------------

    def _term(self, package: object, range_: Ranges) -> str:
        return self._describe(package, range_)

    def _external(self, incompatibility: Incompatibility[Any]) -> str:
        cause = incompatibility.cause
        if isinstance(cause, NotRoot):
            return "we are solving your requirements"
        if isinstance(cause, NoVersions):
            if cause.range.is_full:
                return f"there are no versions of {self._term(cause.package, cause.range)}"
            return f"there is no version of {self._term(cause.package, cause.range)}"
        if isinstance(cause, UnavailableVersions):
            return f"{self._term(cause.package, cause.version_range)} cannot be used ({cause.reason})"
        if isinstance(cause, SameVersion):
            terms = [self._term(cause.package, cause.range)]
            terms += [self._term(twin, range_) for twin, range_ in cause.twins]
            names = _join([str(cause.package), *(str(twin) for twin, _ in cause.twins)])
            return f"{_join(terms)} cannot be selected together ({names} are always the same version)"
        assert isinstance(cause, FromDependency)
        dependency = self._term(cause.dependency, cause.dep_range)
        if cause.package == self._root_package:
            return f"you require {dependency}"
        return f"{self._term(cause.package, cause.range)} depends on {dependency}"

    def _conclusion(self, incompatibility: Incompatibility[Any]) -> str:
        """What an incompatibility forbids, phrased as a consequence."""
        terms = [
            (package, term)
            for package, term in incompatibility.terms.items()
            if not (package == self._root_package and term.positive)
        ]
        if not terms:
            return "the requirements are unsatisfiable"
        if len(terms) == 1:
            (package, term), = terms
            text = self._term(package, term.range)
            return f"{text} is forbidden" if term.positive else f"{text} is mandatory"
        positive = [self._term(p, t.range) for p, t in terms if t.positive]
        negative = [self._term(p, t.range) for p, t in terms if not t.positive]
        if len(positive) == 1 and len(negative) == 1:
            return f"{positive[0]} depends on {negative[0]}"
        if not negative:
            return f"{_join(positive)} are incompatible"
        return f"{_join(positive)} depend on {_join(negative)}" if positive else (
            f"one of {_join(negative, 'or')} is mandatory"
        )


def _join(texts: list[str], conjunction: str = "and") -> str:
    if len(texts) == 1:
        return texts[0]
    return f"{', '.join(texts[:-1])} {conjunction} {texts[-1]}"


def _shared(root: Incompatibility[Any]) -> set[int]:
    """Ids of derived incompatibilities that more than one step of the tree uses."""
    parents: dict[int, int] = {}
    stack = [root]
    while stack:
        incompatibility = stack.pop()
        cause = incompatibility.cause
        if not isinstance(cause, Derived):
            continue
        for child in (cause.cause1, cause.cause2):
            if not child.is_derived:
                continue
            parents[id(child)] = parents.get(id(child), 0) + 1
            if parents[id(child)] == 1:
                stack.append(child)
    return {key for key, count in parents.items() if count > 1}


def _collapse_no_versions(
    incompatibility: Incompatibility[Any], memo: dict[int, Incompatibility[Any]]
) -> Incompatibility[Any]:
    """The same derivation tree, minus steps that only say a version does not exist.

    "There is no version of foo>1.0,<2 and foo==1.0 depends on bar, so
    foo>=1.0,<2 depends on bar" is one fact, "foo>=1.0,<2 depends on bar",
    padded with the gaps between real releases. Such a step becomes its other
    cause, restated over the wider range. Shared subtrees stay shared.
    """
    done = memo.get(id(incompatibility))
    if done is not None:
        return done
    cause = incompatibility.cause
    result = incompatibility
    if isinstance(cause, Derived):
        first = _collapse_no_versions(cause.cause1, memo)
        second = _collapse_no_versions(cause.cause2, memo)
        absorbed = _absorb_no_versions(incompatibility, first, second) or _absorb_no_versions(
            incompatibility, second, first
        )
        if absorbed is not None:
            result = absorbed
        elif first is not cause.cause1 or second is not cause.cause2:
            result = Incompatibility(incompatibility.terms.items(), Derived(first, second))
    memo[id(incompatibility)] = result
    return result


def _absorb_no_versions(
    incompatibility: Incompatibility[Any],
    no_versions: Incompatibility[Any],
    other: Incompatibility[Any],
) -> Incompatibility[Any] | None:
    """``other``, restated with ``incompatibility``'s terms, when the step only
    widened a positive term of ``other`` over versions that do not exist."""
    cause = no_versions.cause
    if not isinstance(cause, NoVersions) or other.terms.keys() != incompatibility.terms.keys():
        return None
    widened = incompatibility.terms[cause.package] if cause.package in other.terms else None
    if widened is None or not widened.positive or not other.terms[cause.package].positive:
        return None
    if any(
        other.terms[package] != term
        for package, term in incompatibility.terms.items()
        if package != cause.package
    ):
        return None
    if isinstance(other.cause, Derived):
        return Incompatibility(incompatibility.terms.items(), other.cause)
    if isinstance(other.cause, FromDependency) and other.cause.package == cause.package:
        dependency = other.cause
        return Incompatibility(
            incompatibility.terms.items(),
            FromDependency(cause.package, widened.range, dependency.dependency, dependency.dep_range),
        )
    return None
