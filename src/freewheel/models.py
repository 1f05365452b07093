"""Plain data shared by every layer: indexes and the files they offer.

Nothing here performs I/O, so the resolver core and the marker code can use
these types without pulling in the network stack.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

IndexFormat = Literal["simple", "flat"]


# The user information of a URL: from "://" to the last "@" before the path.
_USERINFO = re.compile(r"(?<=://)[^/?#\s]*@")


def strip_credentials(text: str) -> str:
    """Return *text* with the user name and password taken out of every URL in it.

    Credentials ride in index URLs, and a user name may be a token. Every
    URL freewheel prints or writes (output files, messages, logs, the
    cache) goes through here, so none reaches a file someone commits or a
    log someone shares; they stay in the user's configuration.
    """
    return _USERINFO.sub("", text)


@dataclasses.dataclass(frozen=True, slots=True)
class Index:
    """A place that offers distributions.

    ``format="simple"`` is a PEP 503/691 index (one page per project);
    ``format="flat"`` is a ``--find-links`` location (a directory or an HTML
    page listing files directly). An ``explicit`` index is only consulted for
    packages pinned to it by name. ``origin`` says where the user configured
    it, for messages.

    The remaining fields are uv's per-index settings: ``authenticate`` is
    recorded as configured; ``ignore_error_codes`` are HTTP statuses that
    mean "not here" on this index, as a 404 does; ``cache_control_api`` and
    ``cache_control_files``, when set, replace the ``Cache-Control`` the
    server sends for its pages and its files.
    """

    url: str
    name: str | None = None
    format: IndexFormat = "simple"
    explicit: bool = False
    default: bool = False
    origin: str = "command line"
    authenticate: Literal["auto", "always", "never"] = "auto"
    ignore_error_codes: frozenset[int] = frozenset()
    cache_control_api: str | None = None
    cache_control_files: str | None = None

    @property
    def display(self) -> str:
        """The URL safe to print: without credentials."""
        return strip_credentials(self.url)

    @property
    def label(self) -> str:
        """How messages name this index: ``name (url)`` or just the URL."""
        return f"{self.name} ({self.display})" if self.name else self.display


DistKind = Literal["wheel", "sdist"]


def project_of_filename(filename: str) -> NormalizedName | None:
    """The project a wheel or sdist file name (or its ``.metadata`` file)
    belongs to, or ``None`` when the name is neither."""
    name = filename.removesuffix(".metadata")
    try:
        if name.endswith(".whl"):
            return parse_wheel_filename(name)[0]
        if name.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(name)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        pass
    return None


@dataclasses.dataclass(frozen=True, slots=True)
class DistFile:
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
    hashes: Mapping[str, str] = dataclasses.field(default_factory=dict)
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


def check_versions(requirement: Requirement) -> None:
    """Raise :class:`InvalidRequirement` if a version in *requirement*'s
    specifiers cannot be used.

    packaging parses a specifier's version only when it is first compared;
    a version of thousands of digits then fails with a bare ``ValueError``
    (Python's limit on integer conversion), deep inside a resolution.
    """
    for specifier in requirement.specifier:
        if specifier.operator == "===":
            continue
        try:
            Version(specifier.version.removesuffix(".*"))
        except ValueError as error:
            detail = "too long" if not isinstance(error, InvalidVersion) else "invalid"
            raise InvalidRequirement(f"the version in {specifier.operator}… is {detail}") from None
