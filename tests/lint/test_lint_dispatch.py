"""The engine's shortcuts change nothing: families declare every code they report (a
family with none enabled is skipped), pglast loaded without its AST, enums and package
``__init__`` still works whole, and files linted in forked slices get the results of one
process linting them in order.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from conftest import ROOT

from migration_guard.cache import read_bytes
from migration_guard.lint import LintOptions, LintResult, batch, lint_bytes
from migration_guard.lint.rules import _FAMILIES


@pytest.mark.parametrize("family", _FAMILIES, ids=lambda module: module.__name__)
def test_family_declares_every_code_it_reports(family: object) -> None:
    source = Path(str(getattr(family, "__file__", ""))).read_text(encoding="utf-8")
    reported = set(re.findall(r'"(MG3\d\d)"', source)) - {"MG309", "MG313"}
    assert reported == set(getattr(family, "CODES", ())), family


#: The lint of one statement, in a fresh interpreter (before the lines each test adds).
LINT_ONCE = ("import sys\n"
             "from migration_guard.lint import LintOptions, lint_sql\n"
             "result = lint_sql('CREATE INDEX i ON t (a);', 'm.sql', options=LintOptions())\n")


def _python(script: str) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    return done.returncode, done.stdout, done.stderr


def test_pglast_ast_and_enums_load_on_first_use_after_the_lint() -> None:
    script = LINT_ONCE + (
        "loaded = {'pglast.ast', 'pglast.enums', 'typing'} & set(sys.modules)\n"
        "assert not loaded, f'the lint imported {loaded}'\n"
        "import pglast\n"
        "from pglast import ast, enums, parse_sql\n"
        "assert isinstance(parse_sql('SELECT 1')[0].stmt, ast.SelectStmt)\n"
        "assert pglast.enums.ConstrType.CONSTR_FOREIGN == enums.ConstrType.CONSTR_FOREIGN\n"
        "from pglast.enums.parsenodes import ObjectType\n"
        "print(ObjectType.OBJECT_TABLE.name, pglast.__version__, pglast.prettify('select 1'))\n"
        "print(pglast.parser is sys.modules['pglast.parser'], pglast.Error is pglast.error.Error,"
        " pglast.ast is ast, hasattr(pglast, 'no_such_name'))\n"
    )
    version = metadata.version("pglast")
    assert _python(script) == (0, f"OBJECT_TABLE v{version} SELECT 1\nTrue True True False\n", "")


def test_pglast_imported_first_is_used_as_it_is() -> None:
    script = "import pglast\n" + LINT_ONCE + (
        "print([f.code for f in result.findings], sys.modules['pglast'] is pglast,"
        " type(pglast).__name__)\n"
    )
    assert _python(script) == (0, "['MG301', 'MG309', 'MG313'] True module\n", "")


@pytest.mark.parametrize(("extension", "held"), [
    ("from . import Error\n", "_HeldPackage"),
    # A pglast whose extension asks its package for a name only __init__ defines.
    ("from . import Error, VERSION\n", "module"),
], ids=["held", "asks-for-more"])
def test_a_pglast_laid_out_otherwise_is_imported_whole(tmp_path: Path, extension: str,
                                                      held: str) -> None:
    """The parser is loaded with pglast's __init__ held back when its extension takes only
    ``Error`` from the package; a pglast that asks for more is imported as usual."""
    package = tmp_path / "pglast"
    package.mkdir()
    (package / "__init__.py").write_text("from .error import Error\nVERSION = 'v9'\n"
                                         "from .parser import parse_sql_json\n")
    (package / "error.py").write_text("class Error(Exception):\n    pass\n")
    (package / "parser.py").write_text(extension + "def parse_sql_json(sql):\n"
                                       "    return '{\"stmts\": []}'\n")
    script = ("import sys\nfrom migration_guard.lint.pgparser import parser\n"
              "import pglast\nprint(parser.parse_sql_json('select 1'), type(sys.modules["
              "'pglast']).__name__, pglast.VERSION)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"},
                          check=False)
    assert (done.returncode, done.stdout, done.stderr) == (
        0, f'{{"stmts": []}} {held} v9\n', "")


def _change_set(root: Path) -> list[str]:
    """60 files; later ones alter, index, rename and drop tables created 20 files before."""
    names: list[str] = []
    for i in range(60):
        j = i - 20
        sql = [
            f"CREATE TABLE a{i} (id int PRIMARY KEY, v text);",
            f"CREATE INDEX ON a{j - 1} (v);\nALTER TABLE a{j - 1} ADD COLUMN w int;",
            f"ALTER TABLE a{j - 2} RENAME TO b{j - 2};\nALTER TABLE c{i} ADD COLUMN x int;\n"
            f"CREATE TABLE c{i} (id int);",
            f"CREATE INDEX ON b{j - 5} (v);\nDROP TABLE b{j - 5};\nTRUNCATE a{j - 3};",
        ][i % 4]
        path = root / f"{i:03d}.sql"
        path.write_text(sql, encoding="utf-8")
        names.append(str(path))
    return names


def _in_one_process(names: list[str]) -> list[LintResult]:
    created: set[str] = set()
    results = []
    for name in names:
        result = lint_bytes(read_bytes(name), name, options=LintOptions(), created_tables=created)
        created |= result.created_tables
        results.append(result)
    return results


@pytest.mark.parametrize("cores", [2, 3])
def test_forked_slices_give_the_results_of_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cores: int
) -> None:
    names = _change_set(tmp_path)
    expected = _in_one_process(names)
    assert sum(len(r.findings) for r in expected) > 20
    monkeypatch.setattr(batch, "FILES_PER_WORKER", 10)
    monkeypatch.setattr(batch, "_cores", lambda: cores)
    assert batch.lint_in_order(names, read_bytes, LintOptions()) == expected


def test_the_first_unreadable_file_in_order_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = _change_set(tmp_path)
    names[45] = str(tmp_path / "missing-45.sql")
    names[50] = str(tmp_path)
    monkeypatch.setattr(batch, "FILES_PER_WORKER", 10)
    monkeypatch.setattr(batch, "_cores", lambda: 3)
    with pytest.raises(batch.UnreadableFile) as raised:
        batch.lint_in_order(names, read_bytes, LintOptions())
    assert (raised.value.name, raised.value.strerror) == (names[45], "No such file or directory")
