"""Checks on :class:`~packaging.requirements.Requirement` values that packaging defers."""

from __future__ import annotations

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version


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
