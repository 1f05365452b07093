"""Speed of the marker algebra (``freewheel.resolver.markers``).

    python bench/markers.py [--count 10000] [--seed 1]

Builds ``--count`` distinct markers of the shapes found in real metadata
(Python version bounds, platforms, machines, implementations, extras and
dependency groups, one to four atoms joined by ``and``/``or``), then
combines them: ``and`` and ``or`` of pairs, negations, implication and
disjointness checks, text output and evaluation; then derives every
package's marker in a random dependency graph as universal resolution does
(the union over its parents of parent marker and dependency marker). Each phase is timed on a cold process; the same
markers are then built again to time the cache.
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from collections.abc import Callable

from freewheel.resolver.markers import MarkerTree

#: String variables and the values real metadata compares them with.
STRINGS = [
    ("sys_platform", ["linux", "win32", "darwin", "emscripten", "cygwin"]),
    ("platform_machine", ["x86_64", "aarch64", "arm64", "AMD64", "ppc64le", "s390x"]),
    ("platform_system", ["Linux", "Windows", "Darwin", "FreeBSD"]),
    ("implementation_name", ["cpython", "pypy"]),
    ("platform_python_implementation", ["CPython", "PyPy"]),
]


def atom(rng: random.Random) -> str:
    kind = rng.randrange(4 + len(STRINGS))
    minor = rng.randrange(6, 15)
    if kind == 0:
        return f"python_version {rng.choice(['<', '<=', '>=', '>', '==', '!='])} '3.{minor}'"
    if kind == 1:
        return f"python_full_version {rng.choice(['<', '>='])} '3.{minor}.{rng.randrange(12)}'"
    if kind == 2:
        return f"extra == 'extra{rng.randrange(40)}'"
    if kind == 3:
        return f"'group{rng.randrange(10)}' in dependency_groups"
    name, values = STRINGS[kind - 4]
    return f"{name} {rng.choice(['==', '!='])} '{rng.choice(values)}'"


def marker(rng: random.Random) -> str:
    text = atom(rng)
    for _ in range(rng.randrange(4)):
        text = f"({text}) {rng.choice(['and', 'or'])} {atom(rng)}"
    return text


def edge_marker(rng: random.Random) -> str | None:
    """The marker of one dependency, distributed roughly as in real metadata."""
    roll = rng.random()
    if roll < 0.7:
        return None
    if roll < 0.95:
        return atom(rng)
    return f"{atom(rng)} and {atom(rng)}"


def propagate(rng: random.Random, count: int) -> list[MarkerTree]:
    """Each package's marker in a random dependency DAG, as universal resolution derives it.

    Package ``i`` depends on one to three earlier packages; its marker is the
    union over its parents of the parent's marker and the edge's marker.
    The first twenty packages are the project's own requirements.
    """
    markers: list[MarkerTree] = []
    for index in range(count):
        if index < 20:
            markers.append(MarkerTree.from_marker(edge_marker(rng)))
            continue
        union = ~MarkerTree.from_marker(None)
        for parent in rng.sample(range(index), min(index, rng.randint(1, 3))):
            union = union | (markers[parent] & MarkerTree.from_marker(edge_marker(rng)))
        markers.append(union)
    return markers


def timed(label: str, count: int, action: Callable[[], object]) -> object:
    start = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {elapsed * 1000:9.1f} ms  {elapsed / count * 1e6:8.1f} µs each")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--memory", action="store_true", help="also trace peak memory (slows every phase)")
    options = parser.parse_args()
    rng = random.Random(options.seed)
    texts: list[str] = []
    seen: set[str] = set()
    while len(texts) < options.count:
        text = marker(rng)
        if text not in seen:
            seen.add(text)
            texts.append(text)
    count = len(texts)
    if options.memory:
        tracemalloc.start()
    trees = timed(f"build {count} markers (cold)", count, lambda: [MarkerTree.from_marker(t) for t in texts])
    assert isinstance(trees, list)
    timed(f"build {count} markers again (cached)", count, lambda: [MarkerTree.from_marker(t) for t in texts])

    pairs = list(zip(trees[::2], trees[1::2], strict=False))
    timed(f"{len(pairs)} pairs: a & b and a | b", 2 * len(pairs), lambda: [(a & b, a | b) for a, b in pairs])

    graph = timed("markers of a 2000-package dependency graph", 2000, lambda: propagate(rng, 2000))
    assert isinstance(graph, list)
    timed(f"negate {count}", count, lambda: [~tree for tree in trees])
    timed(
        f"{count - 1} implies + is_disjoint of neighbours",
        count - 1,
        lambda: [(a.implies(b), a.is_disjoint(b)) for a, b in zip(trees, trees[1:], strict=False)],
    )
    timed(f"write {count} markers as text", count, lambda: [str(tree) for tree in trees])
    environment = {"sys_platform": "linux", "platform_machine": "x86_64", "python_full_version": "3.12.1"}
    timed(
        f"evaluate {count} markers",
        count,
        lambda: [tree.evaluate(environment, extras=("extra1",), dependency_groups=("group2",)) for tree in trees],
    )
    timed("write the graph's markers as text", len(graph), lambda: [str(tree) for tree in graph])
    longest = max((str(tree) for tree in graph), key=len)
    conditional = sum(not tree.is_true for tree in graph)
    print(f"graph: {conditional} conditional packages; longest marker {len(longest)} characters")
    if options.memory:
        print(f"peak traced memory {tracemalloc.get_traced_memory()[1] / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
