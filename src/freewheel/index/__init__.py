"""Reading package indexes: simple (PEP 503/691) indexes and flat locations,
the files they offer (:mod:`.models`), and the index strategies.

May import :mod:`freewheel.cache` and below.
"""

from freewheel.index.client import IndexClient, ProjectListing, outcome_error
from freewheel.index.strategy import STRATEGIES, IndexOutcome, Strategy, merge_listings

__all__ = [
    "STRATEGIES",
    "IndexClient",
    "IndexOutcome",
    "ProjectListing",
    "Strategy",
    "merge_listings",
    "outcome_error",
]
