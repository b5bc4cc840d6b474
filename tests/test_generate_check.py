"""``generate_check``: a project's own "would generate a migration?" command judges a schema
change the file-name rule would fail, on an export of the checked snapshot."""

from __future__ import annotations

import json

import pytest
from conftest import Repo

# Exit 1 ("a migration is needed") when the staged models declare a field no migration
# creates: the command reads the exported snapshot, not the work tree.
CHECK = ("for f in $(sed -n 's/^field //p' app/models.txt); do "
         "grep -q \"$f\" migrations/*.sql || { echo \"missing $f\"; exit 1; }; done")


def project(repo: Repo, command: str) -> None:
    repo.write(".migration-guard.yaml", "projects:\n  - migrations: migrations\n"
               "    framework: sql\n    schema: [app/models.txt]\n"
               f"    generate_check: {json.dumps(command)}\n")
    repo.write("app/models.txt", "field id\n")
    repo.write("migrations/0001_init.sql", "create table t (id int);\n")
    repo.commit("init")
    repo.branch("feature")


def test_change_the_command_calls_needed_fails_with_its_output(repo: Repo) -> None:
    project(repo, CHECK)
    repo.write("app/models.txt", "field id\nfield email\n")
    repo.add()
    result = repo.mg("required")
    assert result.code == 1, result.out + result.err
    assert result.lines[1] == (
        "app/models.txt: MG101 schema source changed but no migration was added to "
        f"migrations/: generate_check `{CHECK}` says one is needed: missing email")


def test_change_the_command_calls_harmless_passes_with_a_note(repo: Repo) -> None:
    project(repo, CHECK)
    repo.write("app/models.txt", "# the id column\nfield id\n")
    repo.add()
    result = repo.mg("required")
    assert (result.code, result.err) == (0, ""), result.out
    assert result.lines[1:] == [
        f"app/models.txt: note: generate_check `{CHECK}` (run on the checked snapshot) says "
        "no migration is needed: the change passes",
        "no findings (required over 1 project)",
    ]


def test_the_command_judges_the_staged_snapshot_not_the_work_tree(repo: Repo) -> None:
    project(repo, CHECK)
    repo.write("app/models.txt", "field id\nfield email\n")
    repo.add()
    repo.write("migrations/0002_email.sql", "alter table t add column email text;\n")
    result = repo.mg("required")
    assert result.code == 1, result.out + result.err


@pytest.mark.parametrize("command", ["exit 3", "no-such-command-anywhere"])
def test_a_command_that_does_not_decide_cannot_check(repo: Repo, command: str) -> None:
    project(repo, command)
    repo.write("app/models.txt", "field id\nfield email\n")
    repo.add()
    result = repo.mg("required")
    assert result.code == 2, result.out + result.err
    assert result.err.splitlines()[-1] == (
        "  hint: make the command exit 0 when no migration is needed and 1 when one is")
