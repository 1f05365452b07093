"""The locked dependency tree as ``uv tree`` draws it.

Each package is a line ``name vVERSION`` under the package that needs it;
an edge taken only for an extra or a group of the project says so
(``(extra: cpu)``, ``(group: dev)``). A package whose dependencies were
drawn already is marked ``(*)`` instead of drawn again, and a note at the
end says what the mark means.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from packaging.utils import NormalizedName
from packaging.version import Version

from freewheel.resolver.markers import MarkerTree
from freewheel.resolver.result import LockGraph

Node = tuple[NormalizedName, Version]
#: Each node's children, each with the label of the edge that leads to it.
Edges = Mapping[Node, Sequence[tuple[Node, str]]]

REPEATED_NOTE = "(*) Package tree already displayed"


def render(
    graph: LockGraph,
    *,
    roots: Sequence[Node] | None = None,
    invert: bool = False,
    depth: int | None = None,
) -> str:
    """The dependency tree of *graph*, one line per package drawn.

    The trees start at *roots* (drawn in that order, as ``uv tree
    --package`` does), by default at every package nothing depends on (with
    *invert*, every package that depends on nothing) in name and version
    order, and then at any package those do not reach (a cycle), so that
    every package is drawn. An edge whose marker is false is not drawn.
    With *invert*, each package's children are the
    packages that depend on it. *depth* limits how many levels below a root
    are drawn (``0``: the roots alone). Children are in name and version
    order.
    """
    edges = _edges(graph, invert)
    starts = list(roots) if roots is not None else _default_roots(graph, edges)
    drawing = _Drawing(edges, depth)
    for node in starts:
        drawing.draw(node, _title(node), "", 0)
    lines = drawing.lines
    if drawing.repeated:
        lines.append(REPEATED_NOTE)
    return "".join(f"{line}\n" for line in lines)


def _default_roots(graph: LockGraph, edges: Edges) -> list[Node]:
    children = {child for below in edges.values() for child, _ in below}
    starts = [node for node in _nodes(graph) if node not in children]
    reached = _reachable(starts, edges)
    for node in _nodes(graph):
        if node not in reached:
            starts.append(node)
            reached |= _reachable([node], edges)
    return starts


def _nodes(graph: LockGraph) -> list[Node]:
    return sorted((p.name, p.version) for p in graph.packages)


def _reachable(starts: Iterable[Node], edges: Edges) -> set[Node]:
    seen: set[Node] = set()
    pending = list(starts)
    while pending:
        node = pending.pop()
        if node not in seen:
            seen.add(node)
            pending += [child for child, _ in edges.get(node, ())]
    return seen


def _edges(graph: LockGraph, invert: bool) -> dict[Node, list[tuple[Node, str]]]:
    edges: dict[Node, list[tuple[Node, str]]] = {node: [] for node in _nodes(graph)}
    for package in graph.packages:
        for dependency in package.dependencies:
            if dependency.marker.is_false:
                continue
            source, target = (package.name, package.version), (dependency.name, dependency.version)
            if invert:
                source, target = target, source
            edges.setdefault(source, []).append((target, _label(dependency.marker, graph)))
    for children in edges.values():
        children.sort()
    return edges


def _label(marker: MarkerTree, graph: LockGraph) -> str:
    """`` (extra: cpu)`` for an edge only the ``cpu`` extra takes, likewise
    for a group; empty for any other edge."""
    for kind, variable, names in (("extra", "extras", graph.extras), ("group", "dependency_groups", graph.groups)):
        for name in names:
            if marker.implies(MarkerTree.from_marker(f"'{name}' in {variable}")):
                return f" ({kind}: {name})"
    return ""


def _title(node: Node) -> str:
    return f"{node[0]} v{node[1]}"


class _Drawing:
    """The lines drawn so far, and the packages whose children they show."""

    def __init__(self, edges: Edges, depth: int | None) -> None:
        self.edges = edges
        self.depth = depth
        self.lines: list[str] = []
        self.expanded: set[Node] = set()
        self.repeated = False

    def draw(self, node: Node, head: str, indent: str, level: int) -> None:
        """Draw *node* after *head* (its branch) and, below it, its children
        indented by *indent*."""
        children = self.edges.get(node, ())
        opens = bool(children) and (self.depth is None or level < self.depth)
        if opens and node in self.expanded:
            self.repeated = True
            self.lines.append(f"{head} (*)")
            return
        self.lines.append(head)
        if opens:
            self.expanded.add(node)
            self._children(children, indent, level + 1)

    def _children(self, children: Iterable[tuple[Node, str]], indent: str, level: int) -> None:
        children = list(children)
        for i, (child, label) in enumerate(children):
            last = i == len(children) - 1
            head = f"{indent}{'└── ' if last else '├── '}{_title(child)}{label}"
            self.draw(child, head, indent + ("    " if last else "│   "), level)
