"""The files an index offers: plain data, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

import msgspec
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import NormalizedName
from packaging.version import Version

from freewheel.config.indexes import Index

DistKind = Literal["wheel", "sdist"]


class DistFile(msgspec.Struct, frozen=True):
    """One file (wheel or sdist) offered by an index for a project version.

    ``yanked`` is ``None`` when the file is not yanked, else the reason (an
    empty string when the index gave none). ``core_metadata`` is ``None`` when
    the index offers no PEP 658 metadata file, else the hashes it declared for
    it (possibly empty).
    """

    filename: str
    url: str
    index: Index
    name: NormalizedName
    version: Version
    kind: DistKind
    tags: frozenset[Tag] = frozenset()
    hashes: Mapping[str, str] = msgspec.field(default_factory=dict)
    requires_python: SpecifierSet | None = None
    yanked: str | None = None
    core_metadata: Mapping[str, str] | None = None
    upload_time: datetime | None = None
    size: int | None = None

    @property
    def metadata_url(self) -> str | None:
        """The PEP 658 metadata URL, when the index offers one."""
        if self.core_metadata is None:
            return None
        return self.url.split("#", 1)[0] + ".metadata"
