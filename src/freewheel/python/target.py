"""The environment a resolution is for: its markers and its wheel tags.

A :class:`TargetEnvironment` answers the two questions the resolver asks of
the Python it resolves for: does this marker apply (:meth:`~TargetEnvironment.evaluate`)
and how good a fit is this wheel (:meth:`~TargetEnvironment.tag_priority`).
It comes from a probed interpreter (:func:`from_interpreter`), optionally
with uv's ``--python-version``/``--python-platform`` overrides applied
(:func:`for_request`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Protocol

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.version import Version

from freewheel.errors import UsageError
from freewheel.python.interpreters import InterpreterInfo, current_interpreter
from freewheel.python.platforms import parse_platform, pip_platform, supported_tags


class Target(Protocol):
    """What a resolution is for: one environment (:class:`TargetEnvironment`)
    or a region of many (the universal resolver's target)."""

    #: Whether the target is a region of many environments (a universal
    #: resolution): it may fork, and it ignores upper bounds of
    #: Requires-Python (``<3.14``) outright, as uv does, rather than
    #: honouring them while a version without one fits.
    universal: bool

    @property
    def python_version(self) -> Version:
        """The (lowest) Python version the target runs."""

    def tag_priority(self, tags: Iterable[Tag]) -> int | None:
        """Rank of the best of a wheel's *tags* (0 is best), ``None`` if it cannot install."""

    def evaluate(self, marker: Marker, extras: Iterable[str] = ()) -> bool:
        """Whether *marker* can hold, with any of *extras* requested."""

    def split(self, requirements: Sequence[Requirement], extra: str | None) -> list[Any] | None:
        """Regions to resolve apart for *requirements*, or ``None``."""

    def python_split(self, requires_python: SpecifierSet) -> list[Any] | None:
        """Regions to resolve apart so that the Pythons *requires_python*
        admits get the versions that need it, or ``None``."""

    def excludes_python(self, requires_python: SpecifierSet) -> bool:
        """Whether an exclusion in *requires_python* (``!=3.12``) shuts out
        a Python the target runs above its lowest, which the caller judges."""

    def unserved_environment(self, files: Sequence[Any]) -> str | None:
        """An environment the project requires that a version offering
        *files* cannot be installed in, or ``None``."""

    def describe(self) -> str:
        """A short label for messages."""


@dataclasses.dataclass(frozen=True, eq=False)
class TargetEnvironment:
    """A Python version on a platform, as markers and accepted wheel tags.

    ``python_version`` is what the user asked for (``3.11``) or the
    interpreter's full version (``3.11.4``); ``markers`` a complete PEP 508
    environment; ``tags`` every accepted wheel tag, most preferred first.
    ``platform`` names the platform for messages, e.g.
    ``x86_64-manylinux_2_28``.
    """

    python_version: Version
    markers: Mapping[str, str]
    tags: tuple[Tag, ...]
    platform: str
    universal: ClassVar[bool] = False
    _rank: Mapping[Tag, int] = dataclasses.field(init=False, repr=False, compare=False)
    _evaluations: dict[tuple[Marker | str, ...], bool] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rank: dict[Tag, int] = {}
        for index, tag in enumerate(self.tags):
            rank.setdefault(tag, index)
        object.__setattr__(self, "_rank", rank)
        object.__setattr__(self, "_evaluations", {})

    def tag_priority(self, tags: Iterable[Tag]) -> int | None:
        """Rank of the best of a wheel's ``tags`` (0 is best), or ``None``.

        ``None`` means the wheel cannot be installed here at all.
        """
        ranks = [rank for tag in tags if (rank := self._rank.get(tag)) is not None]
        return min(ranks, default=None)

    def evaluate(self, marker: Marker, extras: Iterable[str] = ()) -> bool:
        """Whether ``marker`` holds here, with any of ``extras`` requested.

        A marker naming ``extra`` holds if it does for at least one of the
        requested extras; with none requested, ``extra`` is empty.
        """
        # Remembered by the marker's text (packaging hashes and compares
        # markers so): releases repeat their requirements, and a long
        # backtracking walk evaluated the same markers sixty thousand times,
        # at 9 microseconds each.
        extras = (*extras,)
        key = (marker, *extras)
        known = self._evaluations.get(key)
        if known is None:
            known = self._evaluations[key] = any(
                marker.evaluate({**self.markers, "extra": extra}) for extra in extras or ("",)
            )
        return known

    def split(self, requirements: Sequence[Requirement], extra: str | None) -> None:
        """Never: one concrete environment needs no forks (see the universal target)."""
        return None

    def python_split(self, requires_python: SpecifierSet) -> None:
        """Never, as :meth:`split`."""
        return None

    def excludes_python(self, requires_python: SpecifierSet) -> bool:
        """Never: the target runs one Python, its lowest."""
        return False

    def unserved_environment(self, files: Sequence[Any]) -> None:
        """Never: one environment requires no other."""
        return None

    def describe(self) -> str:
        """A short label such as ``CPython 3.11 on x86_64-manylinux_2_28``."""
        implementation = self.markers.get("platform_python_implementation", "Python")
        return f"{implementation} {self.python_version} on {self.platform}"


def from_interpreter(info: InterpreterInfo) -> TargetEnvironment:
    """The environment of a probed interpreter, exactly as it is."""
    return TargetEnvironment(
        python_version=Version(".".join(map(str, info.version))),
        markers=dict(info.markers),
        tags=tuple(Tag(*tag.split("-")) for tag in info.tags),
        platform=info.platform.name,
    )


def for_request(
    base: InterpreterInfo | None,
    *,
    python_version: str | None,
    python_platform: str | None,
    pip_platforms: Sequence[str] = (),
    implementation: str | None = None,
    abis: Sequence[str] = (),
) -> TargetEnvironment:
    """The environment to resolve for, given uv-style overrides, or pip's.

    Starts from ``base`` (or, when there is none, the running interpreter).
    ``python_version`` (``3.9`` or ``3.9.7``) replaces the Python version:
    ``python_version``/``python_full_version`` markers (``3.9`` means
    ``3.9.0``, the lowest release, as in uv), ``implementation_version`` for
    CPython, and the tags, which become CPython 3.9's (``cp39`` ABI,
    ``abi3`` back to ``cp32``, ``py39``...). ``python_platform`` (see
    :func:`freewheel.python.platforms.parse_platform`) replaces the platform markers
    and tags. Either override keeps the rest of the base.

    pip's ``--platform`` tags (*pip_platforms*, see
    :func:`freewheel.python.platforms.pip_platform`), ``--implementation``
    (``cp``, ``pp``, ``py``...) and ``--abi`` tags (*abis*) replace the
    platform, the interpreter tag and the ABI tags instead.

    Deliberate differences from uv: a free-threaded base stays free-threaded
    (``cp313t``) under a version override only for 3.13 and newer; a
    non-CPython base under a version override gets only its ``none``-ABI and
    pure-Python tags, since its ABI tag encodes its own release.

    :raises UsageError: for a malformed version or unknown platform name.
    """
    if base is None:
        base = current_interpreter()
    if not (python_version or python_platform or pip_platforms or implementation or abis):
        return from_interpreter(base)
    markers = dict(base.markers)
    if pip_platforms:
        platform, platform_tags = pip_platform(pip_platforms)
    else:
        platform = parse_platform(python_platform) if python_platform else base.platform
        platform_tags = platform.platform_tags()
    markers.update(platform.markers)
    version = Version(".".join(map(str, base.version)))
    pair = base.version[:2]
    interpreter = base.tags[0].split("-", 1)[0]  # cp311, pp310...
    abi_tags = list(base.abis)
    if python_version is not None:
        version, full = _parse_python_version(python_version)
        pair = full[:2]
        markers["python_version"] = f"{full[0]}.{full[1]}"
        markers["python_full_version"] = ".".join(map(str, full))
        interpreter = f"{interpreter.rstrip('0123456789')}{full[0]}{full[1]}"
        if base.implementation == "cpython":
            markers["implementation_version"] = markers["python_full_version"]
            threaded = "t" if base.free_threaded and pair >= (3, 13) else ""
            abi_tags = [f"{interpreter}{threaded}"]
        else:
            abi_tags = []
    if implementation:
        interpreter = f"{implementation}{pair[0]}{pair[1]}"
        markers.update(_IMPLEMENTATION_MARKERS.get(implementation, {}))
        if not interpreter.startswith(base.tags[0][:2]):
            # The base's ABI tags name its own implementation.
            abi_tags = []
    tags = supported_tags(pair, platform_tags, interpreter=interpreter, abis=list(abis) or abi_tags)
    return TargetEnvironment(version, markers, tuple(tags), platform.name)


# The markers pip's --implementation changes (for the implementations whose names are known).
_IMPLEMENTATION_MARKERS = {
    "cp": {"implementation_name": "cpython", "platform_python_implementation": "CPython"},
    "pp": {"implementation_name": "pypy", "platform_python_implementation": "PyPy"},
}


def _parse_python_version(text: str) -> tuple[Version, tuple[int, int, int]]:
    """``"3.9"`` → (3.9, (3, 9, 0)); ``"3.9.7"`` → (3.9.7, (3, 9, 7))."""
    match = re.fullmatch(r"3\.(\d+)(?:\.(\d+))?", text.strip())
    if match is None:
        raise UsageError(
            f"Invalid Python version {text!r}: expected a Python 3 version such as 3.12 or 3.12.4."
        )
    minor, patch = int(match[1]), int(match[2] or 0)
    return Version(text.strip()), (3, minor, patch)
