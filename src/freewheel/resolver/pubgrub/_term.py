"""Terms: a statement that a package's selected version is (or is not) in a range."""

from __future__ import annotations

from typing import NamedTuple

from ._ranges import EMPTY, FULL, Ranges

__all__ = ["EMPTY", "FULL", "Term"]


class Term(NamedTuple):
    """A positive term ``package in range`` or a negative term ``package not in range``.

    A positive term requires the package to be selected at a version in
    ``range``. A negative term is satisfied when the package is not selected
    at all, or is selected at a version outside ``range``; so ``not in
    EMPTY`` says nothing, while ``in EMPTY`` can never hold.
    """

    positive: bool
    range: Ranges

    def negate(self) -> Term:
        """The term that holds exactly when this one does not."""
        return Term(not self.positive, self.range)

    def intersection(self, other: Term) -> Term:
        """The term that holds when both this term and ``other`` hold."""
        if self.positive and other.positive:
            return Term(True, self.range & other.range)
        if self.positive:
            return Term(True, self.range - other.range)
        if other.positive:
            return Term(True, other.range - self.range)
        return Term(False, self.range | other.range)

    def union(self, other: Term) -> Term:
        """The term that holds when this term or ``other`` holds."""
        return self.negate().intersection(other.negate()).negate()

    def is_subset(self, other: Term) -> bool:
        """Whether every selection satisfying this term satisfies ``other``."""
        if self.positive and other.positive:
            return self.range.is_subset(other.range)
        if self.positive:
            return self.range.is_disjoint(other.range)
        if other.positive:
            # "Not selected" satisfies a negative term but no positive one.
            return False
        return other.range.is_subset(self.range)

    def is_disjoint(self, other: Term) -> bool:
        """Whether no selection satisfies both this term and ``other``."""
        if self.positive and other.positive:
            return self.range.is_disjoint(other.range)
        if self.positive:
            return self.range.is_subset(other.range)
        if other.positive:
            return other.range.is_subset(self.range)
        return False

    @property
    def is_empty(self) -> bool:
        """Whether no selection satisfies this term."""
        return self.positive and self.range.is_empty
