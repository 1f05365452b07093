"""What is installed in an environment, read from its ``site-packages``.

Each distribution leaves a ``NAME-VERSION.dist-info`` directory (or, from
old setuptools installs, a ``.egg-info`` directory) holding its core
metadata and, for wheels, a ``RECORD`` of its files, the ``INSTALLER`` that
put it there, a ``REQUESTED`` marker when a user asked for it by name, and a
PEP 610 ``direct_url.json`` when it came from a URL, path or editable
checkout. These files are read directly: the target interpreter is never
asked, so reading is fast and cannot run code from the environment.

A distribution whose metadata cannot be read is not fatal: it is reported
as a :class:`BrokenDistribution` and left out, as pip does.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Literal

import msgspec
from packaging.direct_url import DirectUrl, DirectUrlValidationError
from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from freewheel.python.environments import Environment
from freewheel.util.fs import read_regular

MetadataFormat = Literal["dist-info", "egg-info"]


#: freewheel's own file in a ``.dist-info`` installed from a local project:
#: a digest of that project's metadata files when it was installed (PEP 610's
#: ``direct_url.json`` has no room for it), as uv keeps ``uv_cache.json``.
SOURCE_KEY_FILE = "freewheel_source_key"


def requirement_url(direct_url: DirectUrl) -> str:
    """The URL a requirement names to get this exact install again.

    A VCS URL is pinned to the installed commit; an archive keeps its hash
    as a fragment, as uv's ``pip freeze`` writes it.
    """
    url = direct_url.url
    fragments = []
    if direct_url.vcs_info is not None:
        # freewheel's own records keep the ``git+`` in the URL.
        prefix = f"{direct_url.vcs_info.vcs}+"
        url = f"{'' if url.startswith(prefix) else prefix}{url}@{direct_url.vcs_info.commit_id}"
    hashes = direct_url.archive_info.hashes if direct_url.archive_info is not None else None
    if hashes:
        algorithm = "sha256" if "sha256" in hashes else sorted(hashes)[0]
        fragments.append(f"{algorithm}={hashes[algorithm]}")
    if direct_url.subdirectory:
        fragments.append(f"subdirectory={direct_url.subdirectory}")
    return url + ("#" + "&".join(fragments) if fragments else "")


def is_editable(direct_url: DirectUrl | None) -> bool:
    """Whether *direct_url* records an editable install (PEP 660)."""
    return direct_url is not None and direct_url.dir_info is not None and bool(direct_url.dir_info.editable)


class InstalledDistribution(msgspec.Struct, frozen=True):
    """One installed distribution.

    ``location`` is the ``site-packages`` directory it is installed in;
    ``path`` its ``.dist-info``/``.egg-info`` directory. ``requires`` are
    its ``Requires-Dist`` requirements, markers unevaluated;
    ``invalid_requires`` the lines that did not parse. ``requested`` is true
    when the installer recorded that a user asked for it (PEP 376
    ``REQUESTED``). ``source_key`` is what :data:`SOURCE_KEY_FILE` holds,
    if there is one. ``record`` is the ``RECORD`` file, if there is one.
    """

    name: NormalizedName
    display_name: str
    version: Version
    requires: tuple[Requirement, ...]
    invalid_requires: tuple[str, ...]
    requires_python: SpecifierSet | None
    installer: str | None
    requested: bool
    direct_url: DirectUrl | None
    location: Path
    path: Path
    format: MetadataFormat
    source_key: str | None = None

    @property
    def editable(self) -> bool:
        return is_editable(self.direct_url)

    @property
    def record(self) -> Path | None:
        record = self.path / "RECORD"
        return record if self.format == "dist-info" and record.is_file() else None

    def active_requires(self, markers: Mapping[str, str]) -> list[Requirement]:
        """The requirements that apply in an environment with *markers*.

        No extras are requested: what an extra pulls in is only needed by
        whoever asked for the extra, and nothing records who did.
        """
        environment = {**markers, "extra": ""}
        return [r for r in self.requires if r.marker is None or r.marker.evaluate(environment)]

    def files(self) -> list[str]:
        """The installed files as ``RECORD`` lists them, relative to ``location``.

        Empty when there is no ``RECORD`` (egg-info installs keep none) or
        it cannot be read; a path that is not UTF-8 is shown with
        replacement characters.
        """
        if self.record is None:
            return []
        try:
            text = read_regular(self.record).decode("utf-8", "replace")
        except OSError:
            return []
        return [row[0] for row in csv.reader(io.StringIO(text, newline="")) if row]


class BrokenDistribution(msgspec.Struct, frozen=True):
    """A metadata directory that could not be read, and why."""

    path: Path
    reason: str


class SitePackages(msgspec.Struct, frozen=True):
    """Everything found in some ``site-packages`` directories, sorted by name."""

    distributions: tuple[InstalledDistribution, ...]
    broken: tuple[BrokenDistribution, ...]


class _Broken(Exception):
    pass


def installed_distributions(environment: Environment) -> list[InstalledDistribution]:
    """The distributions installed in *environment*, sorted by name.

    Unreadable ones are left out; :func:`read_site_packages` reports them.
    """
    return list(read_site_packages(environment.site_packages).distributions)


def read_site_packages(directories: Iterable[Path]) -> SitePackages:
    """Read every distribution's metadata directory in *directories*."""
    found: list[InstalledDistribution] = []
    broken: list[BrokenDistribution] = []
    for entry, kind in metadata_entries(directories):
        try:
            found.append(_read_distribution(entry, kind))
        except _Broken as problem:
            broken.append(BrokenDistribution(entry, str(problem)))
    found.sort(key=lambda dist: (dist.name, dist.version))
    return SitePackages(tuple(found), tuple(broken))


def metadata_entries(directories: Iterable[Path]) -> Iterator[tuple[Path, MetadataFormat]]:
    """Every ``.dist-info``/``.egg-info`` entry in *directories*, sorted, each
    directory read once.

    purelib and platlib are often one directory, sometimes through a
    ``lib64 -> lib`` symlink; reading it twice would list everything twice.
    """
    seen: set[Path] = set()
    for directory in directories:
        real = directory.resolve()
        if real in seen:
            continue
        seen.add(real)
        try:
            entries = sorted(directory.iterdir())
        except OSError:
            # A scheme directory that does not exist yet holds nothing.
            continue
        for entry in entries:
            kind = _metadata_format(entry)
            if kind is not None:
                yield entry, kind


def diagnose(
    distributions: Sequence[InstalledDistribution], markers: Mapping[str, str]
) -> list[str]:
    """What is wrong with a set of installed distributions, in uv's words.

    For each distribution, in name order: a ``Requires-Python`` the
    environment's Python does not meet, then each applicable requirement
    (see :meth:`InstalledDistribution.active_requires`) that is missing or
    not met by the installed version. Also reported: a project installed
    more than once, and requirements too malformed to check.
    """
    python = Version(markers["python_full_version"])
    by_name: dict[NormalizedName, list[InstalledDistribution]] = {}
    for dist in distributions:
        by_name.setdefault(dist.name, []).append(dist)
    problems = [
        f"The package `{name}` has multiple installed distributions: "
        + ", ".join(str(d.path) for d in dists)
        for name, dists in by_name.items()
        if len(dists) > 1
    ]
    for dist in distributions:
        if dist.requires_python is not None and not dist.requires_python.contains(python, prereleases=True):
            problems.append(
                f"The package `{dist.name}` requires Python {dist.requires_python}, "
                f"but `{python}` is installed"
            )
        for line in dist.invalid_requires:
            problems.append(f"The package `{dist.name}` has an invalid requirement `{line}`")
        for requirement in dist.active_requires(markers):
            wanted = _without_marker(requirement)
            installed = by_name.get(canonicalize_name(requirement.name))
            if installed is None:
                problems.append(f"The package `{dist.name}` requires `{wanted}`, but it's not installed")
            elif not requirement.specifier.contains(installed[0].version, prereleases=True):
                problems.append(
                    f"The package `{dist.name}` requires `{wanted}`, "
                    f"but `{installed[0].version}` is installed"
                )
    return problems


def _without_marker(requirement: Requirement) -> str:
    """The requirement as uv names it in diagnostics: markers already held."""
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    target = f" @ {requirement.url}" if requirement.url else str(requirement.specifier)
    return f"{requirement.name}{extras}{target}"


def _metadata_format(entry: Path) -> MetadataFormat | None:
    if entry.suffix == ".dist-info" and entry.is_dir():
        return "dist-info"
    # Old setuptools wrote PKG-INFO as a plain file named like a directory.
    if entry.suffix == ".egg-info":
        return "egg-info"
    return None


def _read_distribution(path: Path, kind: MetadataFormat) -> InstalledDistribution:
    if path.name.startswith("~"):
        # pip renames a distribution this way while replacing it.
        raise _Broken("left behind by an interrupted install or uninstall")
    metadata_file = path / "METADATA" if kind == "dist-info" else path
    if kind == "egg-info" and path.is_dir():
        metadata_file = path / "PKG-INFO"
    try:
        data = read_regular(metadata_file)
    except OSError as error:
        raise _Broken(f"cannot read {metadata_file.name}: {error.strerror}") from None
    # Only the headers matter; a long description can be most of the file.
    raw, _ = parse_email(data.split(b"\n\n", 1)[0])
    if not raw.get("name") or not raw.get("version"):
        raise _Broken(f"{metadata_file.name} has no Name or Version")
    try:
        version = Version(raw["version"])
    except ValueError:  # InvalidVersion, or more digits than Python converts
        raise _Broken(f"invalid version {raw['version']!r}") from None
    lines = raw.get("requires_dist", [])
    if kind == "egg-info" and path.is_dir():
        lines = _egg_info_requires(path / "requires.txt")
    requires, invalid = _parse_requirements(lines)
    try:
        requires_python = SpecifierSet(raw["requires_python"]) if "requires_python" in raw else None
    except InvalidSpecifier:
        requires_python = None
    return InstalledDistribution(
        name=canonicalize_name(raw["name"]),
        display_name=raw["name"],
        version=version,
        requires=requires,
        invalid_requires=invalid,
        requires_python=requires_python,
        installer=_read_text(path / "INSTALLER") if path.is_dir() else None,
        requested=(path / "REQUESTED").is_file(),
        direct_url=_read_direct_url(path / "direct_url.json"),
        location=path.parent,
        path=path,
        format=kind,
        source_key=_read_text(path / SOURCE_KEY_FILE) if path.is_dir() else None,
    )


def _parse_requirements(lines: Iterable[str]) -> tuple[tuple[Requirement, ...], tuple[str, ...]]:
    requires: list[Requirement] = []
    invalid: list[str] = []
    for line in lines:
        try:
            requires.append(Requirement(line))
        except InvalidRequirement:
            invalid.append(line)
    return tuple(requires), tuple(invalid)


def _egg_info_requires(path: Path) -> list[str]:
    """``requires.txt`` as ``Requires-Dist`` lines.

    Sections are ``[extra]``, ``[:marker]`` or ``[extra:marker]``; their
    requirements get the matching environment marker.
    """
    text = _read_text(path)
    if text is None:
        return []
    lines: list[str] = []
    marker = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, condition = line[1:-1].partition(":")
            parts = [f"({condition})"] if condition else []
            if extra:
                parts.append(f'extra == "{extra}"')
            marker = " and ".join(parts)
            continue
        lines.append(f"{line}; {marker}" if marker else line)
    return lines


def _read_text(path: Path) -> str | None:
    try:
        return read_regular(path).decode("utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _read_direct_url(path: Path) -> DirectUrl | None:
    """Parse ``direct_url.json`` (PEP 610); a missing or malformed one is treated as absent."""
    try:
        return DirectUrl.from_dict(json.loads(read_regular(path)))
    except (OSError, ValueError, DirectUrlValidationError):
        return None
