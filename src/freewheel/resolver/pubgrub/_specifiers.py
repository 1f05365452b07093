"""PEP 440 specifiers as :class:`Ranges`, through ``packaging``'s public API.

Each operator becomes segments of the version line, with PEP 440's
exceptions spelled out as boundaries: ``==V`` and ``<=V`` take every local
version of V, ``>V`` none of V's post-releases unless V is one, and ``<V``
none of V's pre-releases unless V is one. Pre-releases are otherwise plain
members: whether they may be chosen is the candidate layer's policy.

``===`` compares strings, which no set of versions can express; it is read
as ``==`` of the exact version (local included), the one string a
normalized index listing can match.
"""

from __future__ import annotations

import functools

from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ._ranges import (
    _MAX,
    _MIN,
    EMPTY,
    FULL,
    Boundary,
    Ranges,
    _after,
    _after_locals,
    _after_posts,
    _before,
    version_key,
)

__all__ = ["from_specifier", "from_specifiers"]

#: No version is below this one.
_LOWEST = Version("0.dev0")


def from_specifiers(specifiers: SpecifierSet) -> Ranges:
    """The versions that satisfy every specifier in ``specifiers`` (all of them when empty)."""
    # Keyed by the text, not the set: ">=2" and ">=2.0" are equal sets that
    # a report must write as each was written.
    return _from_text(str(specifiers))


@functools.lru_cache(maxsize=1 << 14)
def _from_text(text: str) -> Ranges:
    # Releases of a project repeat their requirements, and a walk through a
    # thousand of them converts the same few sets.
    result = FULL
    for specifier in SpecifierSet(text):
        result = result & from_specifier(specifier)
        if result.is_empty:
            break
    return result


def from_specifier(specifier: Specifier) -> Ranges:
    """The versions that satisfy ``specifier``, pre-releases included."""
    operator, text = specifier.operator, specifier.version
    if operator == "===":
        try:
            return Ranges.singleton(Version(text))
        except InvalidVersion:
            return EMPTY
    if text.endswith(".*"):
        matching = _prefix(Version(text[:-2]))
        return matching if operator == "==" else matching.complement()
    version = Version(text)
    if operator == "==":
        return _equal(version, "+" in text)
    if operator == "!=":
        return _equal(version, "+" in text).complement()
    if operator == ">=":
        return Ranges.at_least(version)
    if operator == "<=":
        return Ranges((_MIN, _after_locals(version)))
    if operator == ">":
        return Ranges((_strictly_above(version), _MAX))
    if operator == "<":
        bound = version if version.is_prerelease else _make(version, dev=0)
        if version_key(bound) <= version_key(_LOWEST):
            return EMPTY
        return Ranges.below(bound)
    if operator == "~=":
        return Ranges((_before(version), _before(_first_after_prefix(version.release[:-1], version.epoch))))
    raise InvalidSpecifier(f"unknown operator {operator!r} in {specifier}")


def _equal(version: Version, with_local: bool) -> Ranges:
    """``==V``: V and its local versions, or exactly V when V names a local version."""
    if with_local:
        return Ranges((_before(version), _after(version)))
    return Ranges((_before(version), _after_locals(version)))


def _strictly_above(version: Version) -> Boundary:
    """The lower boundary of ``>V``."""
    if version.dev is not None:
        # A dev release has no post-releases: the next version is the next dev.
        return _before(_make(version, dev=version.dev + 1))
    if version.post is not None:
        return _before(_make(version, post=version.post + 1, dev=0))
    return _after_posts(version)


def _prefix(base: Version) -> Ranges:
    """``==base.*``: every version whose release starts with ``base``'s."""
    first = _make(base, pre=None, post=None, dev=0)
    return Ranges((_before(first), _before(_first_after_prefix(base.release, base.epoch))))


def _first_after_prefix(release: tuple[int, ...], epoch: int) -> Version:
    """The lowest version whose release comes after every release starting with ``release``."""
    return Version(_text(epoch, (*release[:-1], release[-1] + 1), None, None, 0))


_KEEP: object = object()


def _make(version: Version, *, pre: object = _KEEP, post: object = _KEEP, dev: object = _KEEP) -> Version:
    """``version`` without its local part, with the segments given replaced."""
    return Version(
        _text(
            version.epoch,
            version.release,
            version.pre if pre is _KEEP else pre,
            version.post if post is _KEEP else post,
            version.dev if dev is _KEEP else dev,
        )
    )


def _text(epoch: int, release: tuple[int, ...], pre: object, post: object, dev: object) -> str:
    text = ".".join(str(part) for part in release)
    if epoch:
        text = f"{epoch}!{text}"
    if isinstance(pre, tuple):
        text += f"{pre[0]}{pre[1]}"
    if post is not None:
        text += f".post{post}"
    if dev is not None:
        text += f".dev{dev}"
    return text
