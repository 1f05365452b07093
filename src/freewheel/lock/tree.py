"""The locked dependency tree as ``uv tree`` draws it.

Each package is a line ``name vVERSION`` under the package that needs it;
an edge taken only for an extra or a group of the project says so
(``(extra: cpu)``, ``(group: dev)``). One version locked from two places
(a path source per platform) is two packages, each told apart by where it
comes from (``(from ../first)``). A package whose dependencies were
drawn already is marked ``(*)`` instead of drawn again, and a note at the
end says what the mark means.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from packaging.utils import NormalizedName
from packaging.version import Version

from freewheel.resolver.markers import MarkerTree
from freewheel.resolver.result import LockedSource, LockGraph

#: A lock entry: its name, its version, and where it comes from (empty for
#: an index), as the lock tells apart the entries of one version.
Node = tuple[NormalizedName, Version, str]
#: Each node's children, each with the label of the edge that leads to it.
Edges = Mapping[Node, Sequence[tuple[Node, str]]]

REPEATED_NOTE = "(*) Package tree already displayed"


def render(
    graph: LockGraph,
    *,
    roots: Sequence[tuple[NormalizedName, Version]] | None = None,
    invert: bool = False,
    depth: int | None = None,
) -> str:
    """The dependency tree of *graph*, one line per package drawn.

    The trees start at *roots*, names and versions (drawn in that order, as
    ``uv tree --package`` does, each entry of the name and version), by default at every package nothing depends on (with
    *invert*, every package that depends on nothing) in name and version
    order, and then at any package those do not reach (a cycle), so that
    every package is drawn. An edge whose marker is false is not drawn.
    With *invert*, each package's children are the
    packages that depend on it. *depth* limits how many levels below a root
    are drawn (``0``: the roots alone). Children are in name and version
    order.
    """
    edges = _edges(graph, invert)
    nodes = _nodes(graph)
    if roots is None:
        starts = _default_roots(nodes, edges)
    else:
        starts = [node for root in roots for node in nodes if node[:2] == root]
    drawing = _Drawing(edges, depth, _titles(nodes))
    for node in starts:
        drawing.draw(node, drawing.title(node), "", 0)
    lines = drawing.lines
    if drawing.repeated:
        lines.append(REPEATED_NOTE)
    return "".join(f"{line}\n" for line in lines)


def _default_roots(nodes: Sequence[Node], edges: Edges) -> list[Node]:
    children = {child for below in edges.values() for child, _ in below}
    starts = [node for node in nodes if node not in children]
    reached = _reachable(starts, edges)
    for node in nodes:
        if node not in reached:
            starts.append(node)
            reached |= _reachable([node], edges)
    return starts


def _nodes(graph: LockGraph) -> list[Node]:
    return sorted({(p.name, p.version, _origin(p.source)) for p in graph.packages})


def _origin(source: LockedSource | None) -> str:
    """Where a lock entry comes from, as its source table says (empty: an index)."""
    if source is None:
        return ""
    place = f"{source.url}@{source.commit}" if source.commit else source.url
    return f"{place}#subdirectory={source.subdirectory}" if source.subdirectory else place


def _titles(nodes: Sequence[Node]) -> dict[Node, str]:
    """Each node's ``name vVERSION``, with where it comes from when
    another node has the same name and version."""
    shared = {node[:2] for node in nodes if sum(other[:2] == node[:2] for other in nodes) > 1}
    return {
        node: f"{node[0]} v{node[1]}" + (f" (from {node[2] or 'an index'})" if node[:2] in shared else "")
        for node in nodes
    }


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
    nodes = _nodes(graph)
    edges: dict[Node, list[tuple[Node, str]]] = {node: [] for node in nodes}
    for package in graph.packages:
        for dependency in package.dependencies:
            if dependency.marker.is_false:
                continue
            source = (package.name, package.version, _origin(package.source))
            target = (dependency.name, dependency.version, _origin(dependency.source))
            if target not in edges:
                # An edge that does not say where from leads to the one entry of its version.
                target = next((n for n in nodes if n[:2] == target[:2]), target)
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


class _Drawing:
    """The lines drawn so far, and the packages whose children they show."""

    def __init__(self, edges: Edges, depth: int | None, titles: Mapping[Node, str]) -> None:
        self.edges = edges
        self.depth = depth
        self.titles = titles
        self.lines: list[str] = []
        self.expanded: set[Node] = set()
        self.repeated = False

    def title(self, node: Node) -> str:
        return self.titles.get(node) or f"{node[0]} v{node[1]}"

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
            head = f"{indent}{'└── ' if last else '├── '}{self.title(child)}{label}"
            self.draw(child, head, indent + ("    " if last else "│   "), level)
