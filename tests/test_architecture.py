"""The module structure: the import graph of `rewardlang/` and `trainer/` has no circle.

The graph is built from every import statement of every module (top level and
inside functions alike: an import done lazily is still a dependency). An edge
goes to the module named; `from package import name` goes to the submodule
`package.name` when there is one. A module's implicit import of its own parent
package is not an edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"rewardlang": ROOT / "rewardlang", "rewardlang_trainer": ROOT / "trainer"}


def module_files() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative import
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                named = [f"{base}.{alias.name}" for alias in node.names]
                targets = [candidate if candidate in modules else base for candidate in named]
            for target in targets:
                # `import a.b.c` depends on a.b.c; an unknown tail is a name inside the module before it.
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_the_graph_finds_what_it_should() -> None:
    # The checks below mean something only if the graph sees real edges and real circles.
    graph = import_graph()
    assert "rewardlang.source" in graph["rewardlang.diagnostics"]
    assert "rewardlang" in graph["rewardlang_trainer.train"]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle() -> None:
    cycles = find_cycles(import_graph())
    assert cycles == [], "import circles: " + "; ".join(" <-> ".join(group) for group in cycles)


def test_source_positions_are_the_bottom_layer() -> None:
    # Spans and the source map know nothing of syntax, diagnostics or rendering.
    assert import_graph()["rewardlang.source"] == set()


def test_diagnostics_do_not_know_their_renderer() -> None:
    graph = import_graph()
    assert "rewardlang.render" not in graph["rewardlang.diagnostics"]
    assert "rewardlang.render" not in graph["rewardlang.codes"]
