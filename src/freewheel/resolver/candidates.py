"""Which offered files and versions a resolution may use, and why not.

Pure functions over :class:`~freewheel.index.models.DistFile` lists: no I/O, so the
provider, the prefetcher, ``explain`` and the failure hints all share one
definition of "usable" and can say exactly why a version was passed over.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Literal

import msgspec
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version

from freewheel.config.settings import PrereleaseMode
from freewheel.index.models import DistFile
from freewheel.resolver.pubgrub import Ranges, VersionKey, from_specifiers, version_key

if TYPE_CHECKING:
    from freewheel.python.target import Target

ALL = ":all:"


class BinaryPolicy(msgspec.Struct, frozen=True):
    """``--no-binary`` / ``--only-binary`` as sets of names (``:all:`` for every package)."""

    no_binary: frozenset[str] = frozenset()
    only_binary: frozenset[str] = frozenset()

    def wheels_allowed(self, name: NormalizedName) -> bool:
        return not ({name, ALL} & self.no_binary) or name in self.only_binary

    def sdists_allowed(self, name: NormalizedName) -> bool:
        return not ({name, ALL} & self.only_binary) or name in self.no_binary


class CandidatePolicy(msgspec.Struct, frozen=True):
    """Everything besides version ranges that decides whether a file is usable.

    ``explicit_prereleases`` names the packages whose direct requirement
    mentions a pre-release (``>=2.0b1``); ``allow_yanked`` the exact versions
    a direct requirement pins with ``==``, which PEP 592 lets through even
    when yanked.
    """

    target: Target
    prerelease: PrereleaseMode = "if-necessary"
    explicit_prereleases: frozenset[NormalizedName] = frozenset()
    exclude_newer: datetime | None = None
    binary: BinaryPolicy = BinaryPolicy()
    allow_yanked: frozenset[tuple[NormalizedName, Version]] = frozenset()

    def prereleases_for(self, name: NormalizedName) -> Literal["never", "fallback", "always"]:
        """How pre-releases of *name* rank: never used, used only once no
        final release fits, or ranked together with final releases."""
        mode = self.prerelease
        if mode == "allow":
            return "always"
        if mode == "disallow":
            return "never"
        if mode == "explicit" and name not in self.explicit_prereleases:
            return "never"
        return "fallback"


class Candidate(msgspec.Struct, frozen=True):
    """A version with the files a resolution may use for it, best first.

    ``rejection`` explains why no file is usable (``files`` is then empty).
    ``python_cap`` is set when the best files' ``Requires-Python`` admits
    the target only with its upper bounds ignored: such a version is
    tried after every other (see :func:`python_support`).
    ``other_platform_wheel`` is a wheel of the version that only its tags
    exclude, kept when the best usable file is a source distribution.
    """

    name: NormalizedName
    version: Version
    files: tuple[DistFile, ...]
    rejection: str | None = None
    python_cap: SpecifierSet | None = None
    other_platform_wheel: DistFile | None = None

    @property
    def usable(self) -> bool:
        return self.rejection is None

    @property
    def metadata_file(self) -> DistFile:
        """The file to read the version's metadata from.

        The best usable file; but where that is a source distribution and
        the release has a wheel for another platform, that wheel: a
        release's metadata is the same in all its files (uv assumes so
        too), and reading it from a wheel needs no build, which may not
        even be possible here (a compiler or system library missing).
        """
        return self.other_platform_wheel or self.files[0]


def python_support(requires_python: SpecifierSet | None, python: Version) -> Literal["yes", "capped", "no"]:
    """Whether *python* meets *requires_python*: ``yes``; ``capped``, when only
    its upper bounds (``<``, ``<=``) exclude *python*; or ``no``.

    A minor version (``--python-version 3.9``) stands for its releases: it
    meets ``>=3.7,!=3.9.0,!=3.9.1`` (cryptography's), which 3.9.2 does.

    Upper bounds on Requires-Python are mostly precaution (``<4``, or
    ``<=3.8`` written before 3.9 existed), so uv ignores them. freewheel
    prefers versions that do not need that, and falls back to a capped one
    only when nothing else fits, saying so.
    """
    if requires_python is None:
        return "yes"
    # "3.9" (any 3.9 release) and "3.9.0" are equal Versions: the number of
    # release parts tells them apart. Index pages share one SpecifierSet
    # per text, so the look-up is mostly by identity.
    return _support(requires_python, python, len(python.release))


@functools.lru_cache(maxsize=4096)
def _support(requires_python: SpecifierSet, python: Version, _parts: int) -> Literal["yes", "capped", "no"]:
    if _meets(requires_python, python):
        return "yes"
    floor = SpecifierSet(",".join(str(s) for s in requires_python if s.operator not in ("<", "<=")))
    return "capped" if _meets(floor, python) else "no"


def _meets(requires_python: SpecifierSet, python: Version) -> bool:
    if requires_python.contains(python, prereleases=True):
        return True
    if len(python.release) != 2:
        return False
    major, minor = python.release
    releases = from_specifiers(SpecifierSet(f"=={major}.{minor}.*")) - Ranges.below(python)
    return not (from_specifiers(requires_python) & releases).is_empty


def file_rejection(policy: CandidatePolicy, dist: DistFile, *, tags: bool = True) -> str | None:
    """Why *dist* cannot be used for the target, or ``None`` if it can; with
    ``tags=False``, not counting that a wheel's tags do not fit the target."""
    target = policy.target
    if dist.yanked is not None and (dist.name, dist.version) not in policy.allow_yanked:
        return f"yanked ({dist.yanked})" if dist.yanked else "yanked"
    if python_support(dist.requires_python, target.python_version) == "no":
        return f"requires Python {dist.requires_python} (resolving for {target.python_version})"
    if dist.requires_python is not None and target.excludes_python(dist.requires_python):
        return f"requires Python {dist.requires_python} (resolving for {target.describe()})"
    if policy.exclude_newer is not None and (
        dist.upload_time is None or dist.upload_time > policy.exclude_newer
    ):
        when = dist.upload_time.isoformat() if dist.upload_time else "at an unknown time"
        return f"uploaded {when}, after --exclude-newer {policy.exclude_newer.isoformat()}"
    if dist.kind == "wheel":
        if not policy.binary.wheels_allowed(dist.name):
            return "a wheel, and --no-binary excludes wheels"
        if tags and target.tag_priority(dist.tags) is None:
            return f"no wheel for {target.describe()}"
    elif not policy.binary.sdists_allowed(dist.name):
        return "a source distribution, and --only-binary excludes them"
    return None


def _file_rank(policy: CandidatePolicy, dist: DistFile) -> tuple[int, int]:
    if dist.kind == "wheel":
        priority = policy.target.tag_priority(dist.tags)
        return (0, priority if priority is not None else 0)
    return (1, 0)


def evaluate(
    policy: CandidatePolicy, name: NormalizedName, version: Version, files: Sequence[DistFile]
) -> Candidate:
    """Sort *files* of one version into usable (best first) or a rejection.

    When every file is rejected the distinct reasons are joined in the order
    first met, so "requires Python >=3.12" is what a user reads when that is
    the whole story.
    """
    usable: list[DistFile] = []
    reasons: dict[str, None] = {}
    for dist in files:
        reason = file_rejection(policy, dist)
        if reason is None:
            usable.append(dist)
        else:
            reasons.setdefault(reason)
    if usable:
        python = policy.target.python_version
        # Files whose Requires-Python holds outright come first; the version
        # is capped only when all its usable files are. A target that
        # ignores upper bounds (a universal resolution) has no capped files.
        honoured = not policy.target.universal
        usable.sort(key=lambda d: (python_support(d.requires_python, python) != "yes" and honoured, _file_rank(policy, d)))
        best = usable[0]
        capped = honoured and python_support(best.requires_python, python) == "capped"
        other_platform = None
        if best.kind != "wheel":
            other_platform = next(
                (d for d in files if d.kind == "wheel" and file_rejection(policy, d, tags=False) is None), None
            )
        return Candidate(
            name,
            version,
            tuple(usable),
            python_cap=best.requires_python if capped else None,
            other_platform_wheel=other_platform,
        )
    return Candidate(name, version, (), "; ".join(reasons) or "no files")


class ProjectCandidates:
    """The candidates of one project, evaluated lazily and remembered.

    A project page can list thousands of files (a nightly index, a package
    released weekly for a decade); the resolver usually needs the first
    usable version in a range, so files are only evaluated as far as the
    search reaches.

    *versions* arrive in the index strategy's order, which is the order for
    "highest"; with *lowest* they are tried ascending. Pre-releases come
    after final releases, or not at all, as
    :meth:`CandidatePolicy.prereleases_for` says.
    """

    def __init__(
        self,
        policy: CandidatePolicy,
        name: NormalizedName,
        versions: Sequence[tuple[Version, Sequence[DistFile]]],
        *,
        lowest: bool,
    ) -> None:
        self.name = name
        self._lowest = lowest
        self._files = dict(versions)
        order = [version for version, _ in versions]
        if lowest:
            order.sort()
        mode = policy.prereleases_for(name)
        if mode != "always":
            finals = [v for v in order if not v.is_prerelease]
            order = finals + ([v for v in order if v.is_prerelease] if mode == "fallback" else [])
        self._runs = _sorted_runs(order, descending=not lowest)
        self._evaluate_under(policy)

    def _evaluate_under(self, policy: CandidatePolicy) -> None:
        """Take *policy*, with nothing evaluated under it yet."""
        self.policy = policy
        self._evaluated: dict[Version, Candidate] = {}
        #: best() per range: a resolution that backjumps decides the same
        #: packages again in the same ranges (a universal one, 100,000 times).
        self._best: dict[Ranges, Candidate | None] = {}
        #: Per run: the position of each unusable version walked past ->
        #: the first position after its stretch of unusable versions.
        self._stretches: list[dict[int, int]] = [{} for _ in self._runs]

    def for_policy(self, policy: CandidatePolicy) -> ProjectCandidates:
        """The same versions under *policy* (another fork of a universal
        resolution), sharing the sorted order when pre-releases rank alike:
        for a long listing, sorting is what costs."""
        if policy.prereleases_for(self.name) != self.policy.prereleases_for(self.name):
            return ProjectCandidates(policy, self.name, tuple(self._files.items()), lowest=self._lowest)
        other = copy.copy(self)
        other._evaluate_under(policy)
        return other

    def get(self, version: Version) -> Candidate:
        """The candidate for *version* (which must be listed)."""
        candidate = self._evaluated.get(version)
        if candidate is None:
            candidate = evaluate(self.policy, self.name, version, self._files[version])
            self._evaluated[version] = candidate
        return candidate

    def best(self, ranges: Ranges) -> Candidate | None:
        """The first usable candidate in *ranges*, in preference order."""
        try:
            return self._best[ranges]
        except KeyError:
            best = self._best[ranges] = next(self.preferred(ranges), None)
            return best

    def preferred(self, ranges: Ranges) -> Iterator[Candidate]:
        """The usable candidates in *ranges*, in preference order.

        Versions usable only with their Requires-Python cap ignored come
        after all others. A search skips the versions outside *ranges* by
        bisection: walking a package back through a thousand rejected
        releases costs a few comparisons per step, not a thousand.
        """
        capped: list[Candidate] = []
        for run, stretches in zip(self._runs, self._stretches):
            step = -1 if run.descending else 1
            for start, end in ranges.spans_in(run.keys, descending=run.descending):
                position, stop = (end - 1, start - 1) if run.descending else (start, end)
                while (position - stop) * step < 0:
                    candidate = self.get(run.versions[position])
                    if candidate.python_cap is not None:
                        capped.append(candidate)
                    elif not candidate.usable:
                        position = self._past_unusable(run, stretches, position, step)
                        continue
                    else:
                        yield candidate
                    position += step
        yield from capped

    def _past_unusable(self, run: _Run, stretches: dict[int, int], position: int, step: int) -> int:
        """The first position after the stretch of unusable versions that
        *position* (unusable) is in, walking by *step*.

        A package's newest releases may all be unusable (they need a newer
        Python than the target), and each search from the top of its range
        passes them again: boto3 for Python 3.9, walked back 1,600 times
        past 140 such releases, made 220,000 look-ups. So each stretch is
        walked once, and remembered in *stretches* for every position in it.
        """
        walked = []
        while True:
            known = stretches.get(position)
            if known is not None:
                position = known
                continue
            if not 0 <= position < len(run.versions):
                break
            candidate = self.get(run.versions[position])
            if candidate.usable:  # capped ones too
                break
            walked.append(position)
            position += step
        for earlier in walked:
            stretches[earlier] = position
        return position

    def newest(self, ranges: Ranges) -> Version | None:
        """The first version in *ranges* in preference order, usable or not."""
        for run in self._runs:
            for position in ranges.positions_in(run.keys, descending=run.descending):
                return run.versions[position]
        return None

    def files(self, version: Version) -> Sequence[DistFile]:
        """Every listed file of *version*."""
        return self._files[version]

    def all(self) -> list[Candidate]:
        """Every listed version evaluated, in the index's order (for messages)."""
        return [self.get(version) for version in self._files]


class _Run(msgspec.Struct, frozen=True):
    """Versions in ascending order (with their keys), tried in ``descending`` or ascending order."""

    versions: list[Version]
    keys: list[VersionKey]
    descending: bool


def _sorted_runs(order: Sequence[Version], *, descending: bool) -> list[_Run]:
    """*order* cut into maximal runs sorted in the direction of preference.

    For "highest" an index's listing is one descending run, or two with
    pre-releases kept for last; strategies that try one index's versions
    before another's make one run per index.
    """
    runs: list[_Run] = []
    current: list[Version] = []
    previous_key: VersionKey | None = None
    for version in order:
        key = version_key(version)
        if previous_key is not None and (key < previous_key) != descending:
            runs.append(_run(current, descending))
            current = []
        current.append(version)
        previous_key = key
    if current:
        runs.append(_run(current, descending))
    return runs


def _run(versions: list[Version], descending: bool) -> _Run:
    ascending = versions[::-1] if descending else versions
    return _Run(ascending, [version_key(v) for v in ascending], descending)


def prerelease_rejection(policy: CandidatePolicy, candidate: Candidate) -> str | None:
    """Why a usable pre-release candidate is never tried, if it is not."""
    if candidate.version.is_prerelease and policy.prereleases_for(candidate.name) == "never":
        return f"a pre-release, and --prerelease is {policy.prerelease}"
    return None
