"""What a resolution produces: each package pinned, with its files and why it is there."""

from __future__ import annotations

import dataclasses

from packaging.utils import NormalizedName
from packaging.version import Version

from freewheel.config.indexes import Index
from freewheel.index.models import DistFile


@dataclasses.dataclass(frozen=True, slots=True)
class PinnedPackage:
    """One resolved package: its line of output and what installs it.

    ``files`` are every file of the version on the index it was resolved
    from (their hashes go into the output); ``dist`` is the best of them
    for the target, the one an install uses.
    """

    name: NormalizedName
    version: Version
    extras: frozenset[NormalizedName]
    files: tuple[DistFile, ...]
    index: Index | None
    via: tuple[str, ...]
    dist: DistFile | None = None
