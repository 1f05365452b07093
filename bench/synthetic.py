"""Synthetic registries for benchmarks, served on 127.0.0.1.

A registry is planned from a :class:`Shape` and a seed, so the same set is
the same work on every machine and in every run: projects in a dependency
DAG (each depends only on projects after it), several releases each, lower
bounds that rise with the release, some upper bounds and dead
``python_version < "3.9"`` dependencies. A few *trap* projects make the
resolution backtrack: their newest releases require ``Q<N`` for a project Q
whose newest release ``N`` the root requirements ask for, so every resolver
has to discover the conflict and step back to an older release. A shape may
publish some projects only as sdists (a ``setup.py`` without
``pyproject.toml``, whose ``PKG-INFO`` says nothing trustworthy): resolving
them builds their metadata through setuptools, served by the registry too.

:func:`serve` serves a built registry with ``tests/support/server.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support import server as _server  # noqa: E402
from support.backends import backend_wheels, sdist_of_tree, write_tree  # noqa: E402
from support.builders import make_wheel  # noqa: E402

KIB = 1024


@dataclasses.dataclass(frozen=True)
class Shape:
    """How big a synthetic registry is.

    ``roots`` projects are asked for directly; each project has 2 to
    ``max_releases`` releases and up to ``max_fanout`` dependencies;
    ``traps`` projects have one or two newest releases that cannot be used;
    every wheel carries ``padding`` (inclusive KiB range) of incompressible
    bytes, so that reading a whole wheel costs more than reading its metadata;
    ``sdists`` projects (neither traps nor what they bait) have sdists only.
    """

    projects: int
    roots: int
    max_releases: int
    max_fanout: int
    traps: int
    padding: tuple[int, int] = (2, 8)
    sdists: int = 0


SHAPES = {
    "small": Shape(projects=12, roots=4, max_releases=5, max_fanout=3, traps=2),
    "large": Shape(projects=120, roots=14, max_releases=7, max_fanout=4, traps=12),
    "sdists": Shape(projects=12, roots=4, max_releases=5, max_fanout=3, traps=2, sdists=3),
}


@dataclasses.dataclass(frozen=True)
class Release:
    """One wheel (or, with ``sdist``, one sdist) of the registry."""

    name: str
    version: str
    requires: tuple[str, ...]
    padding: int
    sdist: bool = False


@dataclasses.dataclass(frozen=True)
class Registry:
    """The releases to build, the requirements a user would write, and the
    trap projects, whose newest release a resolution cannot take."""

    releases: tuple[Release, ...]
    requirements: tuple[str, ...]
    traps: tuple[str, ...]

    @property
    def projects(self) -> set[str]:
        return {release.name for release in self.releases}

    def requirements_in(self) -> str:
        return "".join(f"{line}\n" for line in self.requirements)


def _versions(rng: random.Random, count: int) -> list[str]:
    """*count* ascending versions, bumping patch, minor or major like real projects."""
    major, minor, patch = 1, 0, 0
    versions = [f"{major}.{minor}.{patch}"]
    while len(versions) < count:
        bump = rng.random()
        if bump < 0.5:
            patch += 1
        elif bump < 0.85:
            minor, patch = minor + 1, 0
        else:
            major, minor, patch = major + 1, 0, 0
        versions.append(f"{major}.{minor}.{patch}")
    return versions


def plan_registry(shape: Shape, seed: int, prefix: str) -> Registry:
    """The registry *shape* and *seed* describe; project names start with *prefix*."""
    rng = random.Random(seed)
    names = [f"{prefix}-{i:03d}" for i in range(shape.projects)]
    versions = [_versions(rng, rng.randint(2, shape.max_releases)) for _ in names]

    deps: list[list[int]] = []
    for i in range(shape.projects):
        later = list(range(i + 1, shape.projects))
        deps.append(sorted(rng.sample(later, min(len(later), rng.randint(0, shape.max_fanout)))))
    # Every project is reachable from a root, so a set resolves all of them.
    for j in range(shape.roots, shape.projects):
        if not any(j in deps[i] for i in range(j)):
            deps[rng.randrange(j)].append(j)

    # A trap's bad newest releases require a project below the newest
    # release that the root requirements pin from below.
    candidates = [i for i in range(1, shape.projects - 1) if len(versions[i]) >= 3]
    traps = sorted(rng.sample(candidates, min(shape.traps, len(candidates))))
    bad = {t: rng.randint(1, 2) for t in traps}
    baits = {
        t: rng.choice([q for q in range(t + 1, shape.projects) if q not in bad and len(versions[q]) >= 2])
        for t in traps
    }
    usable = [len(v) - 1 - bad.get(i, 0) for i, v in enumerate(versions)]
    # The last projects of the DAG: few dependencies, so a build is a build
    # and not a tree of them. Chosen without the generator, so that adding
    # sdists to a shape changes nothing else of its plan.
    plain = [i for i in range(shape.projects) if i not in bad and i not in baits.values()]
    sdists = set(plain[len(plain) - shape.sdists:]) if shape.sdists else set()

    releases = []
    for i, name in enumerate(names):
        floors = {q: rng.randint(0, usable[q]) for q in deps[i]}
        shapes = {q: rng.random() for q in deps[i]}
        count = len(versions[i])
        for v, version in enumerate(versions[i]):
            requires = []
            for q in deps[i]:
                # Lower bounds rise with the release, as projects drop old dependencies.
                floor = versions[q][floors[q] * v // max(count - 1, 1)]
                spec = f">={floor}"
                if shapes[q] < 0.25:
                    spec += f",<{Version(versions[q][-1]).major + 1}"
                elif shapes[q] < 0.4:
                    spec = ""
                requires.append(f"{names[q]}{spec}")
                if shapes[q] > 0.9:
                    requires.append(f'{names[q]}<0.1; python_version < "3.9"')
            if i in bad and v >= count - bad[i]:
                requires.append(f"{names[baits[i]]}<{versions[baits[i]][-1]}")
            padding = rng.randint(*shape.padding) * KIB
            releases.append(Release(name, version, tuple(requires), padding, i in sdists))

    roots = [names[i] for i in range(shape.roots)]
    pinned = sorted({baits[t] for t in traps} - set(range(shape.roots)))
    requirements = [*roots, *(f"{names[q]}>={versions[q][-1]}" for q in pinned)]
    return Registry(tuple(releases), tuple(requirements), tuple(names[t] for t in traps))


def build_registry(registry: Registry, directory: Path) -> Path:
    """Write every release of *registry* into *directory* as a wheel or an
    sdist, and setuptools' wheels (the test environment's copy) when there
    are sdists to build."""
    with tempfile.TemporaryDirectory() as trees:
        for release in registry.releases:
            if not release.sdist:
                make_wheel(
                    directory, release.name, release.version, release.requires, padding=release.padding
                )
                continue
            setup = (
                "from setuptools import setup\n"
                f"setup(name={release.name!r}, version={release.version!r}, packages=[], "
                f"install_requires={list(release.requires)!r})\n"
            )
            tree = write_tree(Path(trees) / f"{release.name}-{release.version}", {"setup.py": setup})
            sdist_of_tree(tree, directory, release.name, release.version)
    if any(release.sdist for release in registry.releases):
        backend_wheels("setuptools", directory)
    return directory


_scan_dists = _server.scan_dists
_frozen: dict[Path, dict[str, list[_server.ServedDist]]] = {}


_serving: dict[Path, int] = {}


def _scan_frozen(directory: Path) -> dict[str, list[_server.ServedDist]]:
    return _frozen[directory] if directory in _frozen else _scan_dists(directory)


@contextlib.contextmanager
def serve(directory: Path, **options: object) -> Iterator[_server.IndexServer]:
    """Serve the wheels in *directory*; *options* are the server's (``latency``, ``metadata``).

    The test server rescans (and hashes) its whole directory on every
    request, so that tests may add files; a benchmark never does, and a
    rescan of hundreds of wheels per request would time the server rather
    than the tools, so the scan of *directory* is taken once while it is
    served. Other directories are scanned as usual.
    """
    directory = Path(directory)
    _server.scan_dists = _scan_frozen
    # Several servers (with and without metadata files) may serve one
    # directory at once: the frozen scan lives while any of them does.
    _serving[directory] = _serving.get(directory, 0) + 1
    _frozen.setdefault(directory, _scan_dists(directory))
    index = _server.IndexServer(directory, **options)
    try:
        yield index
    finally:
        index.stop()
        _serving[directory] -= 1
        if not _serving[directory]:
            del _serving[directory], _frozen[directory]
