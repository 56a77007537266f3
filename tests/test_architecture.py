"""The house rules, read from the code: data flows retrieval → drafting → tracker → bot, with no import circles.

Every import counts, including those inside functions and under TYPE_CHECKING: a circle hidden from the
interpreter is still a circle for the next engineer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
#: Lower layers first; a module may import its own layer or a lower one, never a higher one.
LAYERS = {"corpus": 0, "prompts": 0, "retrieval": 1, "drafting": 2, "tracker": 3, "bot": 4}
SLACK_LIBRARIES = ("slack_sdk", "slack_bolt")


def module_files() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Every module `path` imports, each resolved to the deepest module of ours (or the library's top name)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                names.add(candidate if candidate in modules else node.module)
    resolved = set()
    for name in names:
        parts = name.split(".")
        while len(parts) > 1 and ".".join(parts) not in modules:
            parts.pop()
        resolved.add(".".join(parts))
    return resolved


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    files = module_files()
    ours = set(files)
    return {name: {target for target in imports_of(path, ours) if target != name} for name, path in files.items()}


def layer(module: str) -> int | None:
    return LAYERS.get(module.split(".")[0])


def upward_arrows(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{source} → {target}"
        for source, targets in graph.items()
        for target in targets
        if (above := layer(target)) is not None and above > (layer(source) or 0)
    )


def test_no_module_imports_a_higher_layer(graph: dict[str, set[str]]) -> None:
    assert upward_arrows(graph) == []


def test_below_bot_nothing_knows_slack(graph: dict[str, set[str]]) -> None:
    slack_aware = sorted(
        f"{source} → {target}"
        for source, targets in graph.items()
        for target in targets
        if not source.startswith("bot") and target.split(".")[0] in SLACK_LIBRARIES
    )
    assert slack_aware == []


def test_there_are_no_import_circles(graph: dict[str, set[str]]) -> None:
    ours = {name: {t for t in targets if t in graph} for name, targets in graph.items()}
    circles = [sorted(component) for component in strongly_connected(ours) if len(component) > 1]
    assert circles == []


def test_the_checker_sees_a_circle_and_an_upward_arrow() -> None:
    """The rules above must be able to fail: a planted circle and a planted arrow are found."""
    planted = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert [sorted(c) for c in strongly_connected(planted) if len(c) > 1] == [["a", "b", "c"]]
    assert upward_arrows({"retrieval.index": {"tracker.store", "chromadb"}, "bot.cli": {"tracker.store"}}) == [
        "retrieval.index → tracker.store"
    ]


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively (the graph is a few hundred modules; recursion would be fine too)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components
