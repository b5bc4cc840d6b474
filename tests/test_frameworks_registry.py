"""Each framework is one module of ``frameworks/``: nothing else spells a framework's name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from conftest import ROOT

from migration_guard import frameworks

PACKAGE = ROOT / "migration_guard"
#: Names that are also ordinary words or library names elsewhere (SQL, the alembic library
#: the apply engine drives) are caught only as whole literals; the others anywhere in a
#: string.
_WORDS = re.compile(r"drizzle|supabase|prisma|flyway|dbmate|golang", re.IGNORECASE)
#: "sql" is the plain framework's name and also a key of the trace's JSON: too common a
#: word to forbid.
_EXACT = set(frameworks.NAMES) - {"sql"}


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) \
                and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(node.body[0].value, ast.Constant):
            ids.add(id(node.body[0].value))
    return ids


def _literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_bytes())
    skip = _docstrings(tree)
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in skip]


def test_no_framework_name_outside_frameworks() -> None:
    spelled = []
    for path in sorted(PACKAGE.rglob("*.py")):
        # The demo writes a sample project of one framework: data, not knowledge.
        if path.is_relative_to(PACKAGE / "frameworks") or path.name == "demo.py":
            continue
        for line, text in _literals(path):
            if text in _EXACT or _WORDS.search(text):
                spelled.append(f"{path.relative_to(ROOT)}:{line}: {text[:60]!r}")
    assert spelled == []


def test_every_framework_is_one_module_with_its_name() -> None:
    modules = {p.stem for p in (PACKAGE / "frameworks").glob("*.py")}
    for name in frameworks.NAMES:
        assert name.replace("-", "_") in modules, name
        assert frameworks.get(name).name == name


def test_config_offers_exactly_the_registered_frameworks() -> None:
    from migration_guard.config import PROJECT_KEYS

    assert PROJECT_KEYS["framework"].allowed == frameworks.NAMES
