"""A PubGrub version solver over :mod:`packaging` versions and ranges.

Synchronous and free of I/O: everything it knows about packages comes from a
:class:`DependencyProvider`. Packages are any hashable objects; versions are
:class:`~packaging.version.Version`; sets of versions are the core's own
:class:`Ranges`, built from PEP 440 specifiers by :func:`from_specifiers`.
It imports nothing from the rest of freewheel, and nothing but public API
from ``packaging``.

Its value types (terms, assignments, causes) are named tuples: every
command that resolves imports them, and defining a frozen dataclass costs
Python about 0.7 ms, a named tuple less than a tenth of that.
"""

from ._incompatibility import (
    Derived,
    External,
    FromDependency,
    Incompatibility,
    NotRoot,
    NoVersions,
    SameVersion,
    UnavailableVersions,
)
from ._ranges import Key as VersionKey
from ._ranges import Ranges, version_key
from ._report import describe_term, format_report
from ._solver import (
    DEFAULT_SWAP_THRESHOLD,
    Dependencies,
    DependencyProvider,
    NoSolution,
    SupportsLessThan,
    Unavailable,
    resolve,
)
from ._specifiers import from_specifier, from_specifiers
from ._term import Term

__all__ = [
    "DEFAULT_SWAP_THRESHOLD",
    "Dependencies",
    "DependencyProvider",
    "Derived",
    "External",
    "FromDependency",
    "Incompatibility",
    "NoSolution",
    "NoVersions",
    "NotRoot",
    "Ranges",
    "SameVersion",
    "SupportsLessThan",
    "Term",
    "Unavailable",
    "UnavailableVersions",
    "VersionKey",
    "describe_term",
    "format_report",
    "from_specifier",
    "from_specifiers",
    "resolve",
    "version_key",
]
