"""Every runtime dependency declared in pyproject.toml is used by the package: imported
(``import``, ``find_spec``, ``import_module``), or run as ``python -m <module>``."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from itertools import pairwise

from conftest import ROOT


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {canonical(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0])
            for spec in pyproject["project"]["dependencies"]}


def used_modules() -> set[str]:
    """Top-level modules the package imports, locates or runs with ``-m``."""
    used: set[str] = set()
    for path in (ROOT / "migration_guard").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                used.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                used.add(node.module.split(".")[0])
            if (isinstance(node, ast.Call) and node.args
                    and isinstance(node.args[0], ast.Constant) and (getattr(
                        node.func, "attr", None) or getattr(node.func, "id", None)) in (
                        "find_spec", "import_module", "_package_dirs")):
                used.add(str(node.args[0].value).split(".")[0])
            if isinstance(node, ast.List | ast.Tuple | ast.Call):
                items = node.args if isinstance(node, ast.Call) else node.elts
                words = [i.value if isinstance(i, ast.Constant) else None for i in items]
                used.update(str(after) for before, after in pairwise(words)
                            if before == "-m" and isinstance(after, str))
    return used


#: Needed at run time by another dependency, never named by ours.
RUNTIME_ONLY = {
    "greenlet": "SQLAlchemy's asyncio engines (an async env.py) need it; SQLAlchemy 2.1 no "
                "longer installs it",
}


def test_every_declared_dependency_is_imported_or_run() -> None:
    by_module = packages_distributions()
    used = {canonical(dist) for module in used_modules() for dist in by_module.get(module, [])}
    assert declared() - used - set(RUNTIME_ONLY) == set()


def test_git_is_driven_directly_not_through_gitpython() -> None:
    assert "git" not in used_modules()
    assert "gitpython" not in declared()
