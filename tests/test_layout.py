"""The tree shows the pipeline: no import cycles in the product package, and the README's layout
names every package and module in it (so a newcomer finds each from the tree alone). The layers'
order itself is the import-linter contract in pyproject.toml, which bin/test runs."""

from __future__ import annotations

import re
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_the_product_package_has_no_import_cycle():
    graph = grimp.build_graph("leadqual", cache_dir=None)
    assert _cycles(graph) == []


def test_a_cycle_is_found_when_there_is_one():
    class Graph:
        modules = {"a", "b", "c"}
        edges = {"a": {"b"}, "b": {"a"}, "c": {"a"}}

        def find_modules_directly_imported_by(self, module):
            return self.edges[module]

    assert _cycles(Graph()) == [["a", "b"]]


def test_the_readme_layout_names_every_package_and_module():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout") :]
    layout = layout[: layout.index("\n## ", 5)]
    words = set(re.findall(r"[a-z_0-9]+", layout))
    missing = []
    for path in sorted((ROOT / "leadqual").rglob("*.py")):
        relative = path.relative_to(ROOT / "leadqual")
        if relative.parts[0] in ("console", "db") and len(relative.parts) > 2 or "migrations" in relative.parts:
            continue  # templates' helpers and migration scripts are named by their folder
        name = path.stem if path.stem not in ("__init__", "__main__") else path.parent.name
        if name not in words:
            missing.append(str(relative))
    assert missing == []
