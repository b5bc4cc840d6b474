"""The package's layers: each a folder, imports only downward, no import cycle.

Every import that runs counts, deferred ones inside functions included: a lazy import is
still an arrow in the drawing in the README's "How it is built". Imports under
``if TYPE_CHECKING:`` only name types for annotations and never run; they are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "migration_guard"
#: Top to bottom, as the README draws them; the first dotted part after the package names
#: a module's layer.
LAYERS = [
    {"cli", "__main__", "commands"},
    {"checks", "report"},
    {"apply", "lint"},
    {"projects", "config"},
    {"frameworks"},
    {"git", "db"},
    {"cache", "codes", "findings", "tracing", "errors", "globs", "shell", "template_files",
     "typing_lite", "yaml_lite", "__init__"},
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """The package modules ``path`` imports (``from a import b`` counts ``a.b`` when ``b``
    is a module)."""
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_bytes())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "migration_guard":
                continue
            found.add(node.module)
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                if _exists(candidate):
                    found.add(candidate)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "migration_guard")
    return found


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` but those under ``if TYPE_CHECKING:``."""
    nodes: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) \
                and node.test.id == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return nodes


def _exists(module: str) -> bool:
    relative = Path(*module.split("."))
    return (ROOT / relative.with_suffix(".py")).exists() or (ROOT / relative).is_dir()


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    for rank, members in enumerate(LAYERS):
        if top in members:
            return rank
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS and the README")


def test_every_module_belongs_to_a_layer() -> None:
    for module in _graph():
        _layer(module)


def test_imports_point_down_or_within_their_layer() -> None:
    upward = [f"{a} -> {b}" for a, targets in _graph().items() for b in targets
              if _layer(b) < _layer(a)]
    assert upward == []


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        for target in sorted(graph.get(node, ())):
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


def _folder(module: str) -> str:
    """``migration_guard.X``: the folder a module lives in, or a module at the top."""
    return ".".join(module.split(".")[:2])


def test_no_module_imports_itself_through_others() -> None:
    graph = {a: {b for b in targets if b != a and not a.startswith(b + ".")}
             for a, targets in _graph().items()}
    cycles = [c for c in (_cycle_from(m, graph) for m in graph) if c is not None]
    assert cycles == []


def test_folders_of_one_layer_do_not_import_each_other_in_a_circle() -> None:
    folders: dict[str, set[str]] = {}
    for a, targets in _graph().items():
        for b in targets:
            if _folder(b) not in (_folder(a), "migration_guard"):
                folders.setdefault(_folder(a), set()).add(_folder(b))
    cycles = [c for c in (_cycle_from(f, folders) for f in folders) if c is not None]
    assert cycles == []


def test_the_database_layer_makes_no_findings() -> None:
    """db/ says what happened (a statement failed, timed out); codes are the checks'."""
    makers = [module for module, targets in _graph().items()
              if module.startswith("migration_guard.db.")
              and targets & {"migration_guard.findings", "migration_guard.codes"}]
    assert makers == []
