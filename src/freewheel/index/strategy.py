"""Combine what several indexes offer for one project into candidate versions.

Pure: the client asks the indexes, :func:`merge_listings` applies the index
strategy to the answers. The strategies follow uv's:

``first-index``
    Only the first simple index that knows the project counts. Protects
    against dependency confusion: a private package name registered on a
    public index later in the list is never used.
``unsafe-first-match``
    Versions of the first index that knows the project come first; later
    indexes only add versions the earlier ones lack.
``unsafe-best-match``
    All versions from all indexes compete, highest first; a version several
    indexes offer is taken from the first of them.

Flat (``--find-links``) locations always join in: their versions are
candidates alongside the first index's, and for a version both offer, the
flat files come first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, get_args

import msgspec
from packaging.version import Version

from freewheel.config.indexes import Index
from freewheel.index.models import DistFile
from freewheel.index.pages import PageFiles

Strategy = Literal["first-index", "unsafe-first-match", "unsafe-best-match"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)

OutcomeStatus = Literal["found", "not-found", "unauthorized", "forbidden", "unreachable", "error"]

Candidates = tuple[tuple[Version, Sequence[DistFile]], ...]


class IndexOutcome(msgspec.Struct, frozen=True):
    """What asking one index about one project gave.

    ``detail`` is a short phrase for verbose output and hints (``"HTTP
    404"``, ``"12 files"``, ``"connection refused"``); ``files`` is empty
    unless ``status == "found"``.
    """

    index: Index
    status: OutcomeStatus
    detail: str
    files: Sequence[DistFile] = ()


def _by_version(files: Iterable[DistFile]) -> Mapping[Version, Sequence[DistFile]]:
    if isinstance(files, PageFiles):
        # Grouped already, each version's files made only when looked at.
        return files.by_version
    grouped: dict[Version, list[DistFile]] = {}
    for file in files:
        grouped.setdefault(file.version, []).append(file)
    return {version: tuple(group) for version, group in grouped.items()}


def merge_listings(strategy: Strategy, outcomes: Iterable[IndexOutcome]) -> Candidates:
    """Order the candidate versions of one project, most preferred first.

    *outcomes* are in index priority order; only ``"found"`` ones count.
    Each version comes with its usable files: flat files first, then the
    files of the one index the strategy takes that version from.
    """
    found = [outcome for outcome in outcomes if outcome.status == "found"]
    flat = _by_version([f for o in found if o.index.format == "flat" for f in o.files])
    listings = [_by_version(o.files) for o in found if o.index.format == "simple"]
    if strategy == "first-index":
        listings = listings[:1]

    chosen: dict[Version, Sequence[DistFile]] = {}
    groups: list[list[Version]] = [[]]
    for position, listing in enumerate(listings):
        new = [version for version in listing if version not in chosen]
        chosen.update((version, listing[version]) for version in new)
        if strategy == "unsafe-first-match" and position > 0:
            groups.append(new)
        else:
            groups[0].extend(new)
    groups[0].extend(version for version in flat if version not in chosen)
    return tuple(
        (version, (*flat[version], *chosen.get(version, ())) if version in flat else chosen[version])
        for group in groups
        for version in sorted(group, reverse=True)
    )
