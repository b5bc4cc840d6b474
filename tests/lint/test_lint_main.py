"""``python -m migration_guard.lint``: exact output lines and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "migration_guard.lint", *args],
                          capture_output=True, text=True, check=False)


def test_findings_printed_with_location_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "V2__drop.sql"
    bad.write_text("SET lock_timeout = '2s';\nDELETE FROM orders;\n")
    result = _run(str(bad))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{bad}:2:1: MG327 DELETE without WHERE deletes every row of \"orders\" in one "
        "transaction, locking all of them until it commits",
        "    hint: add a WHERE clause; for a real backfill, DELETE in batches by primary key "
        "range",
    ]


def test_clean_files_exit_0_and_change_set_threads_created_tables(tmp_path: Path) -> None:
    first = tmp_path / "V1__create.sql"
    first.write_text("CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);\n")
    second = tmp_path / "V2__index.sql"
    second.write_text("CREATE INDEX orders_total_idx ON orders (total);\n")
    result = _run(str(first), str(second))
    assert (result.returncode, result.stdout) == (0, "")


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    result = _run(str(tmp_path / "missing.sql"))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: cannot read {tmp_path / 'missing.sql'}")
