"""The import graph of ``src/freewheel`` follows the pipeline: no lower layer
imports a higher one.

Layers, lowest first. A module may import its own layer and lower ones,
wherever the import statement is (module level or inside a function). The
PubGrub core imports nothing else from freewheel at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import freewheel

LAYERS = [
    ("errors", "util"),
    ("config",),
    ("python",),
    ("net",),
    ("cache",),
    ("index",),
    ("dists",),
    ("install",),
    ("inputs",),
    ("resolver",),
    ("lock",),
    ("project",),
    ("cli", "__main__", "__init__"),
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
SOURCE = Path(freewheel.__file__).parent


def _layer(module: str) -> str:
    """``freewheel.index.client`` -> ``index``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path, module: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            if target == "freewheel":
                found += [(node.lineno, f"freewheel.{alias.name}") for alias in node.names]
    return [(line, name) for line, name in found if name == "freewheel" or name.startswith("freewheel.")]


def _modules() -> list[tuple[Path, str]]:
    result = []
    for path in sorted(SOURCE.rglob("*.py")):
        relative = path.relative_to(SOURCE.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        result.append((path, ".".join(parts)))
    return result


def test_every_top_level_module_or_package_has_a_layer() -> None:
    names = {_layer(module) for _, module in _modules()}
    assert names <= set(RANK), sorted(names - set(RANK))


@pytest.mark.parametrize(("path", "module"), _modules(), ids=[m for _, m in _modules()])
def test_no_module_imports_a_higher_layer(path: Path, module: str) -> None:
    own = RANK[_layer(module)]
    higher = [
        f"line {line}: {target}"
        for line, target in _imports(path, module)
        if target != "freewheel" and RANK.get(_layer(target), own) > own
    ]
    assert not higher, f"{module} imports a higher layer: {higher}"


def test_the_pubgrub_core_imports_nothing_else_from_freewheel() -> None:
    for path, module in _modules():
        if module.startswith("freewheel.resolver.pubgrub"):
            outside = [t for _, t in _imports(path, module) if not t.startswith("freewheel.resolver.pubgrub")]
            assert not outside, (module, outside)


def test_the_check_itself_sees_an_upward_import(tmp_path: Path) -> None:
    """A test that cannot fail is a defect: an upward import is found."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from freewheel.cli import run\n")
    [(line, target)] = _imports(sample, "freewheel.install.sample")
    assert RANK[_layer(target)] > RANK[_layer("freewheel.install.sample")]
