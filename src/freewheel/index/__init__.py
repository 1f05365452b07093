"""Reading package indexes: simple (PEP 503/691) indexes and flat locations,
the files they offer (:mod:`.models`), and the index strategies.

May import :mod:`freewheel.cache` and below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from freewheel.index.strategy import STRATEGIES, IndexOutcome, Strategy, merge_listings

if TYPE_CHECKING:
    from freewheel.index.client import IndexClient, ProjectListing, outcome_error

__all__ = [
    "STRATEGIES",
    "IndexClient",
    "IndexOutcome",
    "ProjectListing",
    "Strategy",
    "merge_listings",
    "outcome_error",
]


def __getattr__(name: str) -> object:
    # The client brings the network stack; what reads the files of a
    # page (.models, .simple) is also wanted by runs the cache serves whole.
    if name in ("IndexClient", "ProjectListing", "outcome_error"):
        from freewheel.index import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
