"""``required`` judges a model file by its code: comment, docstring and formatting edits
need no migration (the files' syntax trees are compared, nothing is imported)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Repo, probe_imports
from layouts import BY_NAME, MODELS, setup

NOTE = ("app/models.py: note: only comments, docstrings or formatting changed: no migration "
        "needed (judged by file)")
MG101 = ("app/models.py: MG101 schema source changed but no migration was added to "
         "migrations/versions/ (modules behind target_metadata in migrations/env.py; judged by "
         "file)")


@pytest.mark.parametrize("edit", [
    pytest.param(("class User(Base):\n", "class User(Base):  # who signs in\n"), id="comment"),
    pytest.param(("class User(Base):\n", 'class User(Base):\n    """Who signs in."""\n\n'),
                 id="docstring"),
    pytest.param(("mapped_column(String(100))", "mapped_column(\n        String(100),\n    )"),
                 id="formatting"),
    pytest.param(("    pass\n", "    pass\n\n\n\n"), id="blank-lines"),
])
def test_cosmetic_model_edit_passes_required(repo: Repo, edit: tuple[str, str]) -> None:
    setup(repo, BY_NAME["alembic"])
    repo.branch("feature")
    old, new = edit
    assert old in MODELS
    repo.write("app/models.py", MODELS.replace(old, new, 1))
    repo.add()
    result = repo.mg("required")
    assert (result.code, result.err) == (0, ""), result.out
    assert result.lines[1:] == [NOTE, "no findings (required over 1 project)"]


def test_docstring_edit_of_a_documented_model_passes(repo: Repo) -> None:
    layout = BY_NAME["alembic"]
    documented = MODELS.replace("class User(Base):\n", 'class User(Base):\n    """Users."""\n')
    setup(repo, layout._replace(files={**layout.files, "app/models.py": documented}))
    repo.branch("feature")
    repo.write("app/models.py", documented.replace('"""Users."""', '"""People who sign in."""'))
    repo.add()
    result = repo.mg("required")
    assert result.lines[1:] == [NOTE, "no findings (required over 1 project)"]


def test_code_edit_fails_required_judged_by_file(repo: Repo) -> None:
    setup(repo, BY_NAME["alembic"])
    repo.branch("feature")
    repo.write("app/models.py", MODELS.replace("String(100)", "String(200)"))
    repo.add()
    result = repo.mg("required")
    assert result.code == 1, result.out
    assert result.lines[1:] == [
        MG101,
        '  hint: generate one and stage it: alembic revision --autogenerate -m "<describe the '
        'change>"; if the change has no schema effect, prove it: migration-guard required '
        "--prove",
        "1 finding (required over 1 project)"]


def test_string_literal_edit_is_a_code_change(repo: Repo) -> None:
    setup(repo, BY_NAME["alembic"])
    repo.branch("feature")
    repo.write("app/models.py", MODELS.replace('"users"', '"members"'))
    repo.add()
    assert repo.mg("required").code == 1


def test_env_py_is_read_only_when_a_python_file_changed(repo: Repo, tmp_path: Path) -> None:
    """The schema sources behind env.py are Python modules: a change with no Python file
    outside the migrations touches none, so env.py (here unreadable) is not parsed; a model
    edit needs it, and an env.py that cannot be read then stops the check."""
    setup(repo, BY_NAME["alembic"])
    repo.commit("env.py broken", "migrations/env.py", "target_metadata = (\n")
    repo.branch("feature")
    repo.write("README.md", "# shop\n")
    repo.add()
    assert probe_imports(repo, ["required"], cache=tmp_path, modules=("ast",))[-2:] == [
        "no findings (required over 1 project)", "exit 0 imported []"]
    repo.write("app/models.py", MODELS.replace("String(100)", "String(200)"))
    repo.add()
    result = repo.mg("required")
    assert (result.code, result.err.splitlines()) == (2, [
        "migration-guard: error: migrations/env.py: cannot read it to find target_metadata: "
        "'(' was never closed (env.py, line 1)",
        "  hint: fix env.py, or set `schema:` globs for this project in the config"])
