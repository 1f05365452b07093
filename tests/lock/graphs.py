"""Lock graphs for the lock-format tests: one hand-written project, and a
hypothesis strategy for graphs in the form a lock file keeps.

The project (:func:`project_graph`) is the one the tests compare with uv:
``proj`` depends on ``alpha`` and on ``beta`` (1.0 below Python 3.10, 2.0
from 3.10 on); ``alpha`` needs ``beta`` and, on Linux, ``gamma`` (a Linux
wheel and a pure one); the ``cpu`` extra adds ``delta``, the ``dev`` group
``eps`` (which needs ``alpha``).
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime

import msgspec
from hypothesis import strategies as st
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from freewheel.config.indexes import Index
from freewheel.index.models import DistFile
from freewheel.index.simple import dist_file
from freewheel.resolver.markers import TRUE, MarkerTree
from freewheel.resolver.result import LockedDependency, LockedPackage, LockedSource, LockGraph

INDEX = Index(url="http://127.0.0.1:8000/simple/")
FILES = "http://127.0.0.1:8000/files/"

M = MarkerTree.from_marker
CPU = M("'cpu' in extras")
DEV = M("'dev' in dependency_groups")
OLD = M("python_full_version < '3.10'")
NEW = M("python_full_version >= '3.10'")
LINUX = M("sys_platform == 'linux'")


def digest(text: str) -> str:
    """A made-up sha256 that differs per *text*."""
    return hashlib.sha256(text.encode()).hexdigest()


def file(filename: str, index: Index = INDEX, base: str = FILES, **fields: object) -> DistFile:
    """The file *filename* on *index*, as the index client describes it."""
    found = dist_file(base + filename, index, hashes={"sha256": digest(filename)}, **fields)  # type: ignore[arg-type]
    assert found is not None
    return found


def package(
    name: str,
    version: str,
    marker: MarkerTree = TRUE,
    files: tuple[str, ...] = (),
    dependencies: tuple[tuple[str, str, MarkerTree], ...] = (),
    **fields: object,
) -> LockedPackage:
    return LockedPackage(
        name=canonicalize_name(name),
        version=Version(version),
        marker=marker,
        index=fields.pop("index", INDEX if files else None),  # type: ignore[arg-type]
        files=tuple(file(f, size=100 + len(f)) for f in files),
        dependencies=tuple(LockedDependency(canonicalize_name(n), Version(v), m) for n, v, m in dependencies),
        **fields,  # type: ignore[arg-type]
    )


def project_graph() -> LockGraph:
    """The project the module docstring describes, as a universal resolution of it."""
    return LockGraph(
        requires_python=SpecifierSet(">=3.9"),
        environments=TRUE,
        extras=(canonicalize_name("cpu"),),
        groups=(canonicalize_name("dev"),),
        default_groups=(canonicalize_name("dev"),),
        forks=(OLD, NEW),
        packages=(
            package(
                "alpha", "1.0", files=("alpha-1.0.tar.gz", "alpha-1.0-py3-none-any.whl"),
                dependencies=(("beta", "1.0", OLD), ("beta", "2.0", NEW), ("gamma", "1.0", LINUX)),
            ),
            package("beta", "1.0", OLD, files=("beta-1.0-py3-none-any.whl",)),
            package(
                "beta", "2.0", NEW, files=("beta-2.0-py3-none-any.whl",),
                requires_python=SpecifierSet(">=3.10"),
            ),
            package("delta", "1.0", CPU, files=("delta-1.0-py3-none-any.whl",), dependencies=(
                ("beta", "1.0", OLD), ("beta", "2.0", NEW),
            )),
            package("eps", "1.0", DEV, files=("eps-1.0-py3-none-any.whl",), dependencies=(("alpha", "1.0", TRUE),)),
            package(
                "gamma", "1.0", LINUX,
                files=("gamma-1.0-py3-none-any.whl", "gamma-1.0-py3-none-manylinux_2_17_x86_64.whl"),
                dependencies=(("beta", "1.0", OLD), ("beta", "2.0", NEW)),
            ),
            package(
                "proj", "0.1",
                dependencies=(
                    ("alpha", "1.0", TRUE), ("beta", "1.0", OLD), ("beta", "2.0", NEW),
                    ("delta", "1.0", CPU), ("eps", "1.0", DEV),
                ),
                source=LockedSource("directory", ".", editable=True),
            ),
        ),
    )


# -- hypothesis ------------------------------------------------------------------------

ATOMS = [
    "sys_platform == 'linux'",
    "sys_platform == 'darwin'",
    "platform_machine == 'x86_64'",
    "python_full_version < '3.11'",
    "python_version >= '3.12'",
    "implementation_name == 'pypy'",
    "'cpu' in extras",
    "'cu124' in extras",
    "'dev' in dependency_groups",
]
NAMES = ["alpha", "beta", "gamma-ray", "delta"]
VERSIONS = ["1.0", "2.0", "2.5.1+cpu"]
TAGS = ["py3-none-any", "cp312-cp312-manylinux_2_17_x86_64", "cp39-abi3-macosx_11_0_arm64", "cp312-cp312-win_amd64"]
INDEXES = [INDEX, Index(url="http://127.0.0.1:8001/cpu/"), Index(url="http://127.0.0.1:8002/flat/", format="flat")]
REQUIRES_PYTHON = [SpecifierSet(""), SpecifierSet(">=3.9"), SpecifierSet("<4,>=3.8")]
ENVIRONMENTS = [TRUE, M("sys_platform != 'win32'"), M("sys_platform == 'linux' or sys_platform == 'darwin'")]


@st.composite
def raw_markers(draw: st.DrawFn) -> MarkerTree:
    """A marker over :data:`ATOMS`, combined with and, or and not."""
    tree = M(draw(st.sampled_from(ATOMS)))
    for _ in range(draw(st.integers(0, 2))):
        other = M(draw(st.sampled_from(ATOMS)))
        if draw(st.booleans()):
            other = ~other
        tree = tree & other if draw(st.booleans()) else tree | other
    return tree


def markers(space: MarkerTree) -> st.SearchStrategy[MarkerTree]:
    """Markers as a lock keeps them: simplified under the lock's *space*, or TRUE."""
    return st.one_of(st.just(TRUE), raw_markers().map(lambda m: m.simplify_under(space)))


moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@st.composite
def sources(draw: st.DrawFn) -> LockedSource:
    kind = draw(st.sampled_from(["directory", "archive", "vcs"]))
    subdirectory = draw(st.sampled_from([None, "sub/dir"]))
    if kind == "directory":
        return LockedSource("directory", draw(st.sampled_from([".", "packages/a b", "../x"])),
                            editable=draw(st.booleans()), subdirectory=subdirectory)
    if kind == "archive":
        return LockedSource("archive", "http://127.0.0.1:8000/a/x-1.0.tar.gz", sha256=digest("x"),
                            subdirectory=subdirectory)
    return LockedSource(
        "vcs", "git+https://127.0.0.1/repo.git", commit=digest("commit")[:40],
        requested_revision=draw(st.sampled_from([None, "main", "v1.0"])), subdirectory=subdirectory,
    )


@st.composite
def files_of(draw: st.DrawFn, name: str, version: str, index: Index) -> tuple[DistFile, ...]:
    stem = f"{canonicalize_name(name).replace('-', '_')}-{version}"
    filenames = []
    if draw(st.booleans()):
        filenames.append(stem + ".tar.gz")
    wheel_tags = draw(st.lists(st.sampled_from(TAGS), unique=True, min_size=0 if filenames else 1))
    filenames += sorted(f"{stem}-{tag}.whl" for tag in wheel_tags)
    base = index.url.rsplit("/", 2)[0] + "/files/"
    return tuple(
        file(
            filename, index, base,
            size=draw(st.one_of(st.none(), st.integers(0, 10**12))),
            upload_time=draw(st.one_of(st.none(), moments)),
        )
        for filename in filenames
    )


@st.composite
def lock_graphs(draw: st.DrawFn) -> LockGraph:
    """A graph in the form a lock file keeps (see ``test_pylock``): markers
    simplified under the lock's space, packages, files and edges in order."""
    requires_python = draw(st.sampled_from(REQUIRES_PYTHON))
    environments = draw(st.sampled_from(ENVIRONMENTS))
    space = MarkerTree.from_requires_python(requires_python) & environments
    keys = sorted(
        draw(st.sets(st.tuples(st.sampled_from(NAMES), st.sampled_from(VERSIONS)), min_size=1, max_size=6)),
        key=lambda k: (k[0], Version(k[1])),
    )
    # Where each package comes from, when not from an index: an edge says it too.
    origins = {key: draw(sources()) if draw(st.integers(0, 4)) == 0 else None for key in keys}
    packages = []
    for name, version in keys:
        others = [k for k in keys if k != (name, version)]
        edges = draw(st.lists(st.sampled_from(others), unique=True, max_size=3)) if others else []
        edges.sort(key=lambda k: (k[0], Version(k[1])))
        common: dict[str, object] = dict(
            name=canonicalize_name(name),
            version=Version(version),
            marker=draw(markers(space)),
            dependencies=tuple(
                # An edge that never applies is not written (test_pylock).
                LockedDependency(
                    canonicalize_name(n), Version(v), draw(markers(space).filter(lambda m: not m.is_false)), origins[(n, v)]
                )
                for n, v in edges
            ),
            requires_python=draw(st.sampled_from([None, SpecifierSet(">=3.8"), SpecifierSet("!=3.10.*,>=3.9")])),
        )
        source = origins[(name, version)]
        if source is not None:
            packages.append(LockedPackage(index=None, files=(), source=source, **common))  # type: ignore[arg-type]
        else:
            index = draw(st.sampled_from(INDEXES))
            packages.append(LockedPackage(index=index, files=draw(files_of(name, version, index)), **common))  # type: ignore[arg-type]
    return LockGraph(
        requires_python=requires_python,
        environments=environments,
        # Every extra and group the markers name, as in a real lock.
        extras=tuple(canonicalize_name(e) for e in draw(st.sampled_from([("cpu", "cu124"), ("cu124", "cpu", "x")]))),
        groups=tuple(canonicalize_name(g) for g in draw(st.sampled_from([("dev",), ("docs", "dev")]))),
        default_groups=tuple(canonicalize_name(g) for g in draw(st.sampled_from([(), ("dev",)]))),
        packages=tuple(packages),
        forks=tuple(draw(st.lists(markers(space), max_size=3))),
    )


def shuffled(graph: LockGraph, seed: int) -> LockGraph:
    """*graph* with its packages, their files and their edges in another order."""
    rng = random.Random(seed)

    def mix(items: tuple) -> tuple:  # type: ignore[type-arg]
        return tuple(rng.sample(items, len(items)))

    packages = tuple(
        msgspec.structs.replace(p, files=mix(p.files), dependencies=mix(p.dependencies)) for p in graph.packages
    )
    return msgspec.structs.replace(graph, packages=mix(packages))
