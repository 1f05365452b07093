"""The locked dependency tree, drawn as ``uv tree --universal`` draws it."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from freewheel.lock.tree import render
from freewheel.resolver.markers import FALSE, TRUE, MarkerTree
from freewheel.resolver.result import LockedDependency, LockedSource

from .graphs import lock_graphs, package, project_graph, shuffled

# `uv tree --universal` for the same project (tests/lock/graphs.py).
UV_TREE = """\
proj v0.1
├── alpha v1.0
│   ├── beta v1.0
│   ├── beta v2.0
│   └── gamma v1.0
│       ├── beta v1.0
│       └── beta v2.0
├── beta v1.0
├── beta v2.0
├── delta v1.0 (extra: cpu)
│   ├── beta v1.0
│   └── beta v2.0
└── eps v1.0 (group: dev)
    └── alpha v1.0 (*)
(*) Package tree already displayed
"""

# `uv tree --universal --depth 1`.
UV_TREE_DEPTH_1 = """\
proj v0.1
├── alpha v1.0
├── beta v1.0
├── beta v2.0
├── delta v1.0 (extra: cpu)
└── eps v1.0 (group: dev)
"""

# uv draws a subtree again each time in an inverted tree; freewheel marks it
# as it does in the upright tree.
INVERTED = """\
beta v1.0
├── alpha v1.0
│   ├── eps v1.0
│   │   └── proj v0.1 (group: dev)
│   └── proj v0.1
├── delta v1.0
│   └── proj v0.1 (extra: cpu)
├── gamma v1.0
│   └── alpha v1.0 (*)
└── proj v0.1
beta v2.0
├── alpha v1.0 (*)
├── delta v1.0 (*)
├── gamma v1.0 (*)
└── proj v0.1
(*) Package tree already displayed
"""


def test_the_tree_is_uvs():
    assert render(project_graph()) == UV_TREE


def test_depth_limits_the_levels_below_the_roots():
    assert render(project_graph(), depth=1) == UV_TREE_DEPTH_1
    assert render(project_graph(), depth=0) == "proj v0.1\n"


def test_the_inverted_tree_starts_at_what_depends_on_nothing():
    assert render(project_graph(), invert=True) == INVERTED


def test_roots_choose_the_trees():
    assert render(project_graph(), roots=[("gamma", Version("1.0")), ("delta", Version("1.0"))]) == (
        "gamma v1.0\n├── beta v1.0\n└── beta v2.0\ndelta v1.0\n├── beta v1.0\n└── beta v2.0\n"
    )


def test_a_cycle_is_drawn_once():
    graph = msgspec.structs.replace(project_graph(), packages=(
        package("a", "1", dependencies=(("b", "1", TRUE),)),
        package("b", "1", dependencies=(("a", "1", TRUE),)),
    ))
    assert render(graph) == "a v1\n└── b v1\n    └── a v1 (*)\n(*) Package tree already displayed\n"


def test_an_edge_that_never_applies_is_not_drawn():
    graph = msgspec.structs.replace(project_graph(), packages=(package("a", "1", dependencies=(("z", "1", FALSE),)),))
    assert render(graph) == "a v1\n"


def test_one_version_from_two_places_is_two_packages():
    here, there = MarkerTree.from_marker("sys_platform == 'linux'"), MarkerTree.from_marker("sys_platform != 'linux'")
    first, second = LockedSource("directory", "../first"), LockedSource("directory", "../second")
    foo = [(source, marker, package("foo", "1.0", marker, dependencies=((dep, "1.0", TRUE),), source=source))
           for source, marker, dep in ((first, here, "beta"), (second, there, "gamma"))]
    edges = tuple(LockedDependency(p.name, p.version, marker, source) for source, marker, p in foo)
    graph = msgspec.structs.replace(project_graph(), packages=(
        msgspec.structs.replace(package("app", "0.1"), dependencies=edges),
        msgspec.structs.replace(package("bar", "1.0"), dependencies=edges),
        *(p for _, _, p in foo), package("beta", "1.0"), package("gamma", "1.0"),
    ))
    assert render(graph) == (
        "app v0.1\n"
        "├── foo v1.0 (from ../first)\n│   └── beta v1.0\n"
        "└── foo v1.0 (from ../second)\n    └── gamma v1.0\n"
        "bar v1.0\n├── foo v1.0 (from ../first) (*)\n└── foo v1.0 (from ../second) (*)\n"
        "(*) Package tree already displayed\n"
    )
    assert render(graph, invert=True, depth=1) == (
        "beta v1.0\n└── foo v1.0 (from ../first)\n"
        "gamma v1.0\n└── foo v1.0 (from ../second)\n"
    )
    assert render(graph, roots=[("foo", Version("1.0"))], depth=0) == (
        "foo v1.0 (from ../first)\nfoo v1.0 (from ../second)\n"
    )


@settings(max_examples=60, deadline=None)
@given(lock_graphs())
def test_every_package_is_drawn_and_every_edge_below_it(graph):
    for invert in (False, True):
        lines = render(graph, invert=invert).splitlines()
        titles = [line.lstrip("│├└─ ").split(" (")[0] for line in lines if not line.startswith("(*)")]
        assert {f"{p.name} v{p.version}" for p in graph.packages} == set(titles)
        drawn_edges = set()
        stack: list[str] = []
        for line in lines:
            if line.startswith("(*)"):
                continue
            level = (len(line) - len(line.lstrip("│├└─ "))) // 4
            title = line.lstrip("│├└─ ").split(" (")[0]
            del stack[level:]
            if stack:
                drawn_edges.add((stack[-1], title))
            stack.append(title)
        expected = {
            (f"{p.name} v{p.version}", f"{d.name} v{d.version}")
            for p in graph.packages
            for d in p.dependencies
        }
        if invert:
            expected = {(b, a) for a, b in expected}
        assert drawn_edges == expected


@settings(max_examples=40, deadline=None)
@given(lock_graphs(), st.integers())
def test_the_order_of_the_graph_does_not_change_the_tree(graph, seed):
    for invert in (False, True):
        assert render(shuffled(graph, seed), invert=invert) == render(graph, invert=invert)
