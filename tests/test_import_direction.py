"""The apps' imports point one way: creative_engine → promotion → variants → productions.

Read from the source with `ast`, every import counted, including those inside
functions: an import tucked into a function still makes the arrow, and one that only
hides a loop is the thing this test exists to catch.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Lowest first: an app may import the apps before it in this tuple, never those after.
LAYERS = ("productions", "variants", "promotion", "creative_engine")


@dataclass(frozen=True)
class ImportArrow:
    source: str  # the importing module, dotted
    target: str  # the imported module (or the package a name was taken from)
    line: int

    def where(self) -> str:
        return f"{self.source}:{self.line} -> {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def app_modules() -> dict[str, Path]:
    modules = {}
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                modules[module_name(path)] = path
    return modules


def arrows_of(name: str, path: Path, known: set[str]) -> Iterator[ImportArrow]:
    """Every import of an app module in `path`; `from a import b` names a.b when b is a
    module of ours, else a."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0]
                base = f"{anchor}.{base}" if base else anchor
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in LAYERS:
                yield ImportArrow(source=name, target=target, line=node.lineno)


def all_arrows() -> list[ImportArrow]:
    modules = app_modules()
    known = set(modules)
    return [
        arrow
        for name, path in modules.items()
        for arrow in arrows_of(name, path, known)
    ]


def upward(arrows: list[ImportArrow]) -> list[ImportArrow]:
    rank = {app: i for i, app in enumerate(LAYERS)}
    return [
        a for a in arrows if rank[a.target.split(".")[0]] > rank[a.source.split(".")[0]]
    ]


def import_loops(arrows: list[ImportArrow]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    graph: dict[str, set[str]] = {}
    for a in arrows:
        if a.source != a.target:
            graph.setdefault(a.source, set()).add(a.target)
            graph.setdefault(a.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []

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
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                loops.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return loops


def test_no_app_imports_an_app_above_it():
    wrong = sorted({a.where() for a in upward(all_arrows())})
    assert wrong == [], "imports that point up the stack:\n" + "\n".join(wrong)


def test_no_import_loops_even_through_imports_inside_functions():
    loops = import_loops(all_arrows())
    assert loops == [], "modules that import each other: " + repr(loops)


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("variants.planning_hints", "promotion.models", True),
        ("promotion.meta.stub", "creative_engine.market", True),
        ("creative_engine.services.steps", "promotion.selectors", False),
        ("productions.guard", "productions.roles", False),
    ],
)
def test_the_checker_tells_up_from_down(source, target, expected):
    arrow = ImportArrow(source=source, target=target, line=1)
    assert bool(upward([arrow])) is expected


def test_the_checker_finds_a_loop_hidden_in_a_function():
    arrows = [
        ImportArrow("creative_engine.services.cycle", "creative_engine.tasks", 116),
        ImportArrow("creative_engine.tasks", "creative_engine.services.cycle", 7),
        ImportArrow("creative_engine.tasks", "productions.models", 8),
    ]
    assert import_loops(arrows) == [
        ["creative_engine.services.cycle", "creative_engine.tasks"]
    ]
