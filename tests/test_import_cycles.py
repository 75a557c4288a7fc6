"""No import circle among bamnet_core's modules, counting imports made only for type checking.

import-linter's contracts leave out ``if TYPE_CHECKING:`` imports (they never run), so a
circle through them passes ``lint-imports``; yet such a circle still means two modules each
need the other's types, and a type then lives in the wrong place. This test reads every
module with ``ast`` and finds the strongly connected components of the import graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

import bamnet_core

ROOT = Path(bamnet_core.__file__).parent


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name a (possibly relative) ``from ... import`` names."""
    if not level:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the modules of ``root``'s package it imports anywhere (type-only included)."""
    files = {_module_name(p, root): p for p in root.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in files}
    for module, path in files.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node.level, node.module)
                # `from . import x` and `from .pkg import mod` may name modules themselves
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                           for alias in node.names]
            for target in targets:
                while target and target not in files:  # `a.b.name` -> module `a.b`
                    target = target.rpartition(".")[0]
                if target.startswith(root.name) and target != module:
                    graph[module].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _is_package_init(graph: dict[str, set[str]], a: str, b: str) -> bool:
    """A package and the modules inside it: ``pkg/__init__`` re-exporting ``pkg.mod`` while
    ``pkg.mod`` imports a sibling through ``pkg`` is how Python packages work, not a circle."""
    return b.startswith(a + ".") or a.startswith(b + ".")


def test_the_finder_sees_a_circle_through_type_checking_imports(tmp_path: Path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import B\n")
    (package / "b.py").write_text("import pkg.c\nB = 1\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\n"
                                  "if TYPE_CHECKING:\n    from . import a\n")
    (package / "d.py").write_text("from pkg.a import *\n")
    assert cycles(import_graph(package)) == [["pkg.a", "pkg.b", "pkg.c"]]


def test_no_import_circle_among_bamnet_core_modules():
    graph = import_graph()
    # a package's __init__ importing its own modules (and they it) is not a design circle
    graph = {m: {t for t in targets if not _is_package_init(graph, m, t)}
             for m, targets in graph.items()}
    found = cycles(graph)
    assert not found, "import circles (type-only imports included): " + "; ".join(
        " <-> ".join(c) for c in found)
