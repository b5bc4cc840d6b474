"""Lint results and parsed configs kept between runs (``$XDG_CACHE_HOME/migration-guard``):
a second run prints exactly what the first printed without importing pglast or PyYAML, and
anything a result depends on (the bytes, the options, the files before it in the change
set, the config's text) makes it lint again. A cache that cannot be read or written only
means working it all out again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Repo, probe_imports

#: A config PyYAML reads (an anchor: beyond migration_guard/yaml_lite.py), kept parsed.
CONFIG = "lint: &lint\n  pg_version: 16\n"
CREATE = ("SET lock_timeout = '2s';\nSET statement_timeout = '5s';\n"
          "CREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint);\n")
INDEX = ("SET lock_timeout = '2s';\nSET statement_timeout = '5s';\n"
         "CREATE INDEX orders_user_id_idx ON orders (user_id);\n")
INDEX_FINDING = ('db/V2__index.sql:3:1: MG301 CREATE INDEX orders_user_id_idx on existing table '
                 '"orders" without CONCURRENTLY blocks every INSERT, UPDATE and DELETE on it '
                 "until the index is built")


def probe(repo: Repo, *argv: str, cache: Path) -> list[str]:
    """Run the CLI in a fresh interpreter; the last line says what it imported."""
    return probe_imports(repo, list(argv), cache=cache, modules=("pglast", "yaml"))


def test_second_run_prints_the_same_and_imports_neither_parser(repo: Repo,
                                                                 tmp_path: Path) -> None:
    repo.write(".migration-guard.yaml", CONFIG)
    repo.write("db/V2__index.sql", INDEX)
    first = probe(repo, "lint", "db/V2__index.sql", cache=tmp_path)
    assert first[-1] == "exit 1 imported ['pglast', 'yaml']"
    assert first[1].startswith(INDEX_FINDING)
    second = probe(repo, "lint", "db/V2__index.sql", cache=tmp_path)
    assert second == [*first[:-1], "exit 1 imported []"]


def test_an_edited_file_is_linted_again(repo: Repo, tmp_path: Path) -> None:
    repo.write("db/V2__index.sql", INDEX)
    assert probe(repo, "lint", "db/V2__index.sql", cache=tmp_path)[-1] == \
        "exit 1 imported ['pglast']"
    repo.write("db/V2__index.sql", INDEX.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY"))
    assert probe(repo, "lint", "db/V2__index.sql", cache=tmp_path) == [
        "migration-guard: linting 1 file(s) as named",
        "no findings (lint over 1 project)",
        "exit 0 imported ['pglast']",
    ]


def test_changed_options_lint_again(repo: Repo, tmp_path: Path) -> None:
    repo.write("db/V2__index.sql", INDEX)
    assert probe(repo, "lint", "db/V2__index.sql", cache=tmp_path)[1].startswith(INDEX_FINDING)
    repo.write(".migration-guard.yaml", "lint: &lint\n  ignore: [MG301]\n")
    assert probe(repo, "lint", "db/V2__index.sql", cache=tmp_path) == [
        "migration-guard: linting 1 file(s) as named",
        "no findings (lint over 1 project)",
        "exit 0 imported ['pglast', 'yaml']",
    ]
    repo.write(".migration-guard.yaml", "lint: &lint\n  ignore: [MG301]\n# edited\n")
    assert probe(repo, "lint", "db/V2__index.sql", cache=tmp_path)[-1] == \
        "exit 0 imported ['yaml']"


def test_a_cached_file_learns_the_tables_earlier_files_create(repo: Repo,
                                                               tmp_path: Path) -> None:
    """Alone, the index locks an existing table; after the file that creates the table,
    the same cached file has nothing to report."""
    repo.write("db/V1__orders.sql", CREATE)
    repo.write("db/V2__index.sql", INDEX)
    alone = probe(repo, "lint", "db/V2__index.sql", cache=tmp_path)
    assert alone[1].startswith(INDEX_FINDING)
    together = ["migration-guard: linting 2 file(s) as named",
                "no findings (lint over 1 project)", "exit 0 imported ['pglast']"]
    assert probe(repo, "lint", "db/V1__orders.sql", "db/V2__index.sql",
                 cache=tmp_path) == together
    # Both results are kept as if each came first: the pair is reconciled again. (-C: a
    # command line the whole-run replay does not take, so the results answer.)
    assert probe(repo, "lint", "-C", ".", "db/V1__orders.sql", "db/V2__index.sql",
                 cache=tmp_path) == together
    assert probe(repo, "lint", "db/V2__index.sql", cache=tmp_path) == [
        *alone[:-1], "exit 1 imported []"]


def test_a_damaged_cache_is_worked_out_again(repo: Repo, tmp_path: Path) -> None:
    repo.write(".migration-guard.yaml", CONFIG)
    repo.write("db/V2__index.sql", INDEX)
    first = probe(repo, "lint", "db/V2__index.sql", cache=tmp_path)
    packs = sorted((tmp_path / "migration-guard").glob("*/*.marshal"))
    assert [p.parent.name for p in packs] == ["arguments", "config", "lint-results",
                                             "lint-runs"]
    for pack in packs:
        pack.write_bytes(b"\xff\x00 not a pack")
    assert probe(repo, "lint", "db/V2__index.sql", cache=tmp_path) == first


def test_an_unwritable_cache_only_means_linting_again(repo: Repo, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory would be\n")
    repo.write(".migration-guard.yaml", CONFIG)
    repo.write("db/V2__index.sql", INDEX)
    runs = [probe(repo, "lint", "db/V2__index.sql", cache=blocked) for _ in range(2)]
    assert runs[0] == runs[1]
    assert runs[0][-1] == "exit 1 imported ['pglast', 'yaml']"


def run(repo: Repo, cache: Path) -> tuple[int, list[str], list[str]]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "migration_guard", "lint",
                           "db/V2__index.sql"], cwd=repo.path,
                          env=dict(repo.env, XDG_CACHE_HOME=str(cache)),
                          capture_output=True, text=True, check=False)
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
    yaml = [line for line in proc.stderr.splitlines() if line.endswith("| yaml")]
    return proc.returncode, errors, yaml


@pytest.mark.parametrize(("config", "error"), [
    ("lint: [unclosed\n", "migration-guard: error: .migration-guard.yaml:2: invalid YAML: did "
     "not find expected ',' or ']'"),
    # A YAML timestamp is not plain data for the cache: the text is parsed every run.
    ("base: 2026-01-01\n", "migration-guard: error: .migration-guard.yaml:1: base: expected a "
     "string, got date"),
], ids=["invalid YAML", "a timestamp"])
def test_a_config_that_is_not_kept_is_read_with_pyyaml_every_time(
        repo: Repo, tmp_path: Path, config: str, error: str) -> None:
    repo.write(".migration-guard.yaml", config)
    repo.write("db/V2__index.sql", INDEX)
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "migration_guard",
                               "lint", "db/V2__index.sql"], cwd=repo.path,
                              env=dict(repo.env, XDG_CACHE_HOME=str(tmp_path)),
                              capture_output=True, text=True, check=False)
        lines = proc.stderr.splitlines()
        errors = [line for line in lines if not line.startswith("import time:")]
        yaml = [line for line in lines if line.endswith("| yaml")]
        assert (proc.returncode, errors[0], len(yaml)) == (2, error, 1)


def test_the_staged_change_is_cached_too(repo: Repo, tmp_path: Path) -> None:
    repo.write("db/migrations/0001_orders.sql", CREATE)
    repo.commit("base")
    repo.write("db/migrations/0002_index.sql", INDEX)
    repo.add()
    first = probe(repo, "lint", cache=tmp_path)
    assert first[-1] == "exit 1 imported ['pglast']"
    assert probe(repo, "lint", cache=tmp_path) == [*first[:-1], "exit 1 imported []"]


def test_partly_cached_chain_in_forked_slices_reads_as_linted_whole(repo: Repo,
                                                                    tmp_path: Path) -> None:
    """450 files, each indexing the table the one before it creates: linted whole (two
    forked slices) with every other file's result kept from linting it alone, the output is
    exactly that of a run that keeps nothing."""
    names = []
    for number in range(450):
        before = f"t{number - 1}" if number else "legacy"
        sql = (f"SET lock_timeout = '2s';\nSET statement_timeout = '5s';\n"
               f"CREATE TABLE t{number} (id bigint PRIMARY KEY, ref bigint);\n"
               f"CREATE INDEX {before}_ref_idx ON {before} (ref);\n")
        names.append(f"db/V{number:04d}__t.sql")
        repo.write(names[-1], sql)
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("no cache\n")
    uncached = probe(repo, "lint", *names, cache=blocked)
    cache = tmp_path / "cache"
    for name in names[1::2]:
        probe(repo, "lint", name, cache=cache)
    # -C: a command line the whole-run replay does not take, so the results answer.
    assert probe(repo, "lint", "-C", ".", *names, cache=cache) == uncached
    assert probe(repo, "lint", "-C", ".", *names, cache=cache) == uncached
    assert uncached[1].startswith('db/V0000__t.sql:4:1: MG301 CREATE INDEX legacy_ref_idx on '
                                  'existing table "legacy"')
    assert uncached[-2:] == ["1 finding (lint over 1 project)", "exit 1 imported ['pglast']"]
