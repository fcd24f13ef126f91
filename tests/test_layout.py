"""The package's own imports point one way: no cycles, leaves that stay leaves.

Reads every ``import`` statement of ``embedkit/`` with :mod:`ast` (module level and inside
functions alike, so an import moved into a function to dodge a cycle still counts; only
``if TYPE_CHECKING:`` blocks, which never run, are left out) and fails on any cycle.
``from package import submodule`` counts as an import of the submodule only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "embedkit"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node outside ``if TYPE_CHECKING:`` blocks."""
    found: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The embedkit modules that ``path`` imports when it runs."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base = ".".join(base_parts[: len(base_parts) - node.level + 1])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            for alias in node.names:  # a submodule if there is one of that name, else a name of source
                submodule = f"{source}.{alias.name}"
                targets.add(submodule if submodule in modules else source)
    return {t for t in targets if t in modules and t != name}


def import_graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(f) for f in files}
    return {module_name(f): imports_of(f, modules) for f in files}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (as a path that returns to its start), or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 20  # the walk found the package
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


@pytest.mark.parametrize("leaf", ["embedkit.util", "embedkit.errors", "embedkit.version"])
def test_leaves_import_nothing_of_the_package(leaf: str) -> None:
    assert import_graph()[leaf] == set()


def test_no_module_imports_the_top_package() -> None:
    """``embedkit/__init__`` is the public face: inside, modules import what they use directly."""
    importers = sorted(name for name, targets in import_graph().items() if "embedkit" in targets)
    assert importers == []


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("embedkit.training.threads", "embedkit.training.cluster"),
        ("embedkit.training.cluster", "embedkit.training.threads"),
        ("embedkit.training.core", "embedkit.training.threads"),
        ("embedkit.training.core", "embedkit.training.cluster"),
        ("embedkit.training.core", "embedkit.training.word2vec"),
    ],
)
def test_backends_and_models_depend_on_the_core_only(module: str, forbidden: str) -> None:
    """A new backend or model is a new file: the core knows none of them, and they know
    nothing of each other."""

    def reaches(start: str, graph: dict[str, set[str]]) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    assert forbidden not in reaches(module, import_graph())
