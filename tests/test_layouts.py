"""Every fast check, pass and fail, on every supported layout (real repos, real commits)."""

from __future__ import annotations

import pytest
from conftest import Repo
from layouts import LAYOUTS, Layout, setup

NAMES = [layout.name for layout in LAYOUTS]


@pytest.fixture(params=LAYOUTS, ids=NAMES)
def layout(request: pytest.FixtureRequest, repo: Repo) -> Layout:
    setup(repo, request.param)
    repo.branch("feature")
    return request.param  # type: ignore[no-any-return]


def codes(output: str) -> list[str]:
    return [line.split(": ")[1].split(" ")[0] for line in output.splitlines()
            if ": MG" in line]


def test_layout_is_detected(repo: Repo, layout: Layout) -> None:
    result = repo.mg("check")
    assert result.code == 0, result.out + result.err
    assert result.lines[-1] == "no findings (required, immutable, linear, lint over 1 project)"


def test_correct_new_migration_passes(repo: Repo, layout: Layout) -> None:
    layout.new(repo)
    repo.add()
    result = repo.mg("check")
    assert result.code == 0, result.out + result.err


def test_edit_of_merged_migration_fails(repo: Repo, layout: Layout) -> None:
    repo.append(layout.merged, "-- fix\n" if layout.merged.endswith(".sql") else "# fix\n")
    repo.add()
    result = repo.mg("immutable")
    assert result.code == 1
    assert codes(result.out) == ["MG102"]
    assert result.lines[1].startswith(f"{layout.merged}: MG102 migration edited after it was "
                                      "merged (merged in main at ")


def test_deleted_merged_migration_fails(repo: Repo, layout: Layout) -> None:
    repo.git("rm", "-q", "--", layout.merged)
    result = repo.mg("immutable")
    assert result.code == 1
    assert codes(result.out) == ["MG103"]
    assert f"{layout.merged}: MG103 migration deleted after it was merged" in result.out


def test_out_of_order_migration_fails(repo: Repo, layout: Layout) -> None:
    path = layout.old(repo)
    repo.add()
    result = repo.mg("linear")
    assert result.code == 1, result.out
    assert layout.out_of_order_code in codes(result.out)
    assert any(line.startswith(path) or line.startswith(layout.merged)
               or "_journal.json" in line for line in result.lines[1:-1])


def test_badly_named_migration_fails(repo: Repo, layout: Layout) -> None:
    if layout.bad_name is None:
        pytest.skip("Alembic names carry no version")
    repo.write(layout.bad_name, "create table x (id int);\n")
    repo.add()
    result = repo.mg("linear")
    assert result.code == 1
    assert "MG111" in codes(result.out)


def test_schema_change_without_migration_fails(repo: Repo, layout: Layout) -> None:
    if layout.schema is None:
        pytest.skip("this layout has no schema source")
    change = {".ts": "\n// changed\n", ".py": "\nAUDITED = True\n"}
    repo.append(layout.schema, change.get(layout.schema[layout.schema.rfind("."):], "\n"))
    repo.add()
    result = repo.mg("required")
    assert result.code == 1
    assert codes(result.out) == ["MG101"]
    assert result.lines[1].startswith(f"{layout.schema}: MG101 schema source changed but no "
                                      "migration was added to ")


def test_schema_change_with_migration_passes(repo: Repo, layout: Layout) -> None:
    if layout.schema is None:
        pytest.skip("this layout has no schema source")
    repo.append(layout.schema, "\n")
    layout.new(repo)
    repo.add()
    result = repo.mg("check")
    assert result.code == 0, result.out


def test_unrelated_change_passes(repo: Repo, layout: Layout) -> None:
    repo.write("README.md", "hello\n")
    repo.add()
    assert repo.mg("check").code == 0
