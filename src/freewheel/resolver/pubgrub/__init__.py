"""A PubGrub version solver over :mod:`packaging` versions and ranges.

Synchronous and free of I/O: everything it knows about packages comes from a
:class:`DependencyProvider`. Packages are any hashable objects; versions are
:class:`~packaging.version.Version`; sets of versions are
:class:`~packaging.ranges.VersionRange`, treated purely as sets.
"""

from ._incompatibility import (
    Derived,
    External,
    FromDependency,
    Incompatibility,
    NotRoot,
    NoVersions,
    UnavailableVersions,
)
from ._report import describe_term, format_range, format_report
from ._solver import (
    DEFAULT_SWAP_THRESHOLD,
    Dependencies,
    DependencyProvider,
    NoSolution,
    SupportsLessThan,
    Unavailable,
    resolve,
)
from ._term import Term, contains

__all__ = [
    "contains",
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
    "SupportsLessThan",
    "Term",
    "Unavailable",
    "UnavailableVersions",
    "describe_term",
    "format_range",
    "format_report",
    "resolve",
]
