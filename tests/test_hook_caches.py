"""What the fast hooks keep between runs (``$XDG_CACHE_HOME/migration-guard``): Alembic
revision files parsed before, by blob id, ``alembic.ini`` settings by the file's bytes,
the base commit's migrations directories as listed, the projects detected in an index, and
the command line as argparse read it.
A second run prints exactly what the first printed; a damaged or unwritable cache only
means working it all out again; a kept parse never stands in for the compile check of a
new revision, kept settings never outlive a file they looked for, and kept projects never
outlive the index they were found in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import Repo, probe_imports
from layouts import BY_NAME, branched_and_merged, revision, setup

from migration_guard.frameworks.alembic import ParsedRevisions

VERSIONS = "migrations/versions"
PROBE = ("import sys\nfrom migration_guard.cli import main\ncode = main({argv!r})\n"
         "print('exit', code, 'configparser', 'configparser' in sys.modules)\n")


def probe(repo: Repo, *argv: str, cache: Path) -> list[str]:
    """Run the CLI in a fresh interpreter: what it printed on stdout, then on stderr; the
    last line says whether it read an alembic.ini with configparser."""
    env = dict(repo.env, XDG_CACHE_HOME=str(cache))
    proc = subprocess.run([sys.executable, "-c", PROBE.format(argv=list(argv))],
                          cwd=repo.path, env=env, capture_output=True, text=True, check=False)
    *printed, last = proc.stdout.splitlines()
    return [*printed, *proc.stderr.splitlines(), last]


def verdict(lines: list[str]) -> list[str]:
    """What a run said, without the line on configparser."""
    return [*lines[:-1], lines[-1].split(" configparser ")[0]]


def two_heads(repo: Repo) -> None:
    """A branch adding a revision beside the merged head: MG113 and MG114."""
    setup(repo, BY_NAME["alembic"])
    repo.branch("feature")
    repo.write(f"{VERSIONS}/0003_branch.py", revision("0003", "0001"))
    repo.add()


def test_second_run_prints_the_same_without_configparser(repo: Repo, tmp_path: Path) -> None:
    two_heads(repo)
    first = probe(repo, "linear", cache=tmp_path)
    assert first[-1] == "exit 1 configparser True"
    assert any(" MG113 " in line for line in first)
    packs = sorted(p.parent.name for p in (tmp_path / "migration-guard").glob("*/*.marshal"))
    assert set(packs) == {"alembic-ini", "alembic-revisions", "arguments", "base-listings",
                          "detected-projects"}
    second = probe(repo, "linear", cache=tmp_path)
    assert second == [*first[:-1], "exit 1 configparser False"]


def test_a_damaged_cache_is_worked_out_again(repo: Repo, tmp_path: Path) -> None:
    two_heads(repo)
    first = probe(repo, "linear", cache=tmp_path)
    packs = list((tmp_path / "migration-guard").glob("**/*.marshal"))
    assert len(packs) > 3
    for pack in packs:
        pack.write_bytes(b"\xff\x00 not a pack")
    assert probe(repo, "linear", cache=tmp_path) == first


def test_immutable_prints_the_same_from_the_kept_base_listing(repo: Repo,
                                                              tmp_path: Path) -> None:
    setup(repo, BY_NAME["alembic"])
    repo.branch("feature")
    repo.append(f"{VERSIONS}/0002_users.py", "# edited\n")
    repo.add(f"{VERSIONS}/0002_users.py")
    repo.git("rm", "-q", "--cached", f"{VERSIONS}/0001_init.py")
    first = probe(repo, "immutable", cache=tmp_path)
    assert [line.split(": ")[1][:5] for line in first if ": MG" in line] == ["MG103", "MG102"]
    assert list((tmp_path / "migration-guard" / "base-listings").glob("*.marshal"))
    assert verdict(probe(repo, "immutable", cache=tmp_path)) == verdict(first)


def test_an_unwritable_cache_only_means_parsing_again(repo: Repo, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory would be\n")
    two_heads(repo)
    runs = [probe(repo, "linear", cache=blocked) for _ in range(2)]
    assert runs[0] == runs[1]
    assert runs[0][-1] == "exit 1 configparser True"


def test_a_new_copy_of_a_merged_revision_is_still_compiled(repo: Repo,
                                                            tmp_path: Path) -> None:
    """A merged file is parsed without compiling it; the same bytes added as a new file
    are compiled, whatever the cache holds for that blob."""
    broken = "revision = '0003'\ndown_revision = '0002'\ndef x(:\n"
    setup(repo, BY_NAME["alembic"])
    repo.commit("a merged revision nobody compiled", f"{VERSIONS}/0003_broken.py", broken)
    repo.branch("feature")
    assert probe(repo, "linear", cache=tmp_path)[-1].startswith("exit 0")  # cache filled
    repo.write(f"{VERSIONS}/0004_copy.py", broken)
    repo.add()
    warm = probe(repo, "linear", cache=tmp_path)
    assert f"{VERSIONS}/0004_copy.py:3: MG118 cannot read this revision: syntax error: " \
           "invalid syntax" in warm
    assert verdict(warm) == verdict(probe(repo, "linear", cache=tmp_path / "cold"))


def test_kept_ini_settings_follow_the_env_py_they_looked_for(repo: Repo,
                                                             tmp_path: Path) -> None:
    """Flask-Migrate's layout: alembic.ini in the script directory, no script_location,
    found through the env.py beside it. Without that env.py, the project cannot be
    resolved, whatever an earlier run kept."""
    repo.commit("flask", "migrations/alembic.ini", "[alembic]\n",
                "migrations/env.py", "target_metadata = None\n",
                f"{VERSIONS}/0001_init.py", revision("0001", None))
    repo.branch("feature")
    assert probe(repo, "linear", cache=tmp_path)[-1] == "exit 0 configparser True"
    repo.git("rm", "-q", "--cached", "migrations/env.py")
    warm = probe(repo, "linear", cache=tmp_path)
    assert warm == probe(repo, "linear", cache=tmp_path / "cold")
    assert warm == [
        "migration-guard: error: migrations/alembic.ini: [alembic] has no script_location "
        "and there is no env.py beside it",
        "  hint: declare the project under `projects:` in .migration-guard.yaml with its "
        "`alembic_ini`, `migrations` and `framework`",
        "exit 2 configparser True",
    ]


def test_only_revisions_not_parsed_before_are_read(repo: Repo, tmp_path: Path) -> None:
    files = {f"{VERSIONS}/{n:04d}_step.py": revision(f"{n:04d}", f"{n - 1:04d}" if n > 1
                                                      else None) for n in range(1, 4)}
    blobs = {path: text.encode() for path, text in files.items()}
    for path, text in files.items():
        repo.write(path, text)
    oids = {path: repo.git("hash-object", "--", path).strip() for path in files}
    asked: list[list[str]] = []

    def read_many(paths: list[str]) -> dict[str, bytes]:
        asked.append(sorted(paths))
        return {p: blobs[p] for p in paths}

    first = ParsedRevisions(str(tmp_path))
    parsed = first.parse_many(oids, read_many)
    first.save()
    again = ParsedRevisions(str(tmp_path)).parse_many(oids, read_many,
                                                      compiled=[f"{VERSIONS}/0003_step.py"])
    assert again == parsed
    assert asked == [sorted(files), [f"{VERSIONS}/0003_step.py"]]
    assert [r.down for r in parsed.values()] == [(), ("0001",), ("0002",)]


def test_a_whole_history_is_kept_as_one_entry(repo: Repo, tmp_path: Path) -> None:
    """A base's revisions come back from one entry, even with every file's own entry gone;
    another history (a revision more) is parsed from those."""
    files = {f"{VERSIONS}/{n:04d}_step.py": revision(f"{n:04d}", f"{n - 1:04d}" if n > 1
                                                      else None) for n in range(1, 5)}
    for path, text in files.items():
        repo.write(path, text)
    oids = {path: repo.git("hash-object", "--", path).strip() for path in files}
    asked: list[str] = []

    def read_many(paths: list[str]) -> dict[str, bytes]:
        asked.extend(paths)
        return {p: files[p].encode() for p in paths}

    base = dict(list(oids.items())[:3])
    first = ParsedRevisions(str(tmp_path))
    parsed = first.parse_history(base, read_many)
    first.save()
    for pack in tmp_path.glob("*.marshal"):
        pack.unlink()
    assert ParsedRevisions(str(tmp_path)).parse_history(base, read_many) == parsed
    assert asked == list(base)
    longer = ParsedRevisions(str(tmp_path)).parse_history(oids, read_many)
    assert asked == [*base, *oids]  # the files' own entries were gone: all read again
    assert list(longer.values())[:3] == list(parsed.values())


#: Modules of frameworks an Alembic repository does not use: detection imports them all.
UNUSED_FRAMEWORKS = ("migration_guard.frameworks.drizzle", "migration_guard.frameworks.prisma")


def test_a_later_hook_reads_the_projects_an_earlier_one_detected(repo: Repo,
                                                                 tmp_path: Path) -> None:
    """Hooks of one commit detect in the same index: the second one prints what a run
    without a cache prints, and imports no framework the repository does not use."""
    two_heads(repo)
    repo.write("db/migrations/0001_init.sql", "create table t (id bigint);\n")
    repo.add()
    first = probe_imports(repo, ["immutable"], cache=tmp_path, modules=UNUSED_FRAMEWORKS)
    assert first == [
        "migration-guard: base: main at " + repo.git("rev-parse", "HEAD")[:12]
        + " (default branch); checked: the index (staged changes)",
        "no findings (immutable over 2 projects)",
        f"exit 0 imported {sorted(UNUSED_FRAMEWORKS)}",
    ]
    assert list((tmp_path / "migration-guard" / "detected-projects").glob("*.marshal"))
    said = {}
    for command in ("linear", "required"):
        cold = probe_imports(repo, [command], cache=tmp_path / command,
                             modules=UNUSED_FRAMEWORKS)
        warm = probe_imports(repo, [command], cache=tmp_path, modules=UNUSED_FRAMEWORKS)
        assert warm == [*cold[:-1], cold[-1].replace(str(sorted(UNUSED_FRAMEWORKS)), "[]")]
        said[command] = warm
    assert any(" MG113 " in line for line in said["linear"])
    assert said["required"][1:] == ["no findings (required over 2 projects)", "exit 0 imported []"]


def test_kept_projects_follow_the_index(repo: Repo, tmp_path: Path) -> None:
    """A migrations directory staged after a hook ran is detected by the next one; one
    unstaged again is gone again."""
    setup(repo, BY_NAME["alembic"])
    repo.branch("feature")
    assert probe(repo, "linear", cache=tmp_path)[:-1][-1] == \
        "no findings (linear over 1 project)"
    repo.write("db/migrations/0001_init.sql", "create table t (id bigint);\n")
    repo.add()
    assert probe(repo, "linear", cache=tmp_path)[:-1][-1] == \
        "no findings (linear over 2 projects)"
    repo.git("rm", "-q", "--cached", "db/migrations/0001_init.sql")
    assert probe(repo, "linear", cache=tmp_path)[:-1][-1] == \
        "no findings (linear over 1 project)"


def test_kept_projects_stand_for_the_commit_tried_again_with_other_edits(
        repo: Repo, tmp_path: Path) -> None:
    """Detection is kept by the index's paths, not its every blob: the same commit tried
    again after staging edits of files detection never read (the new revision fixed, a
    model) detects nothing again, and prints what a run without a cache prints."""
    two_heads(repo)
    probe_imports(repo, ["required"], cache=tmp_path, modules=UNUSED_FRAMEWORKS)
    repo.write(f"{VERSIONS}/0003_branch.py", revision("0003", "0002"))
    repo.write("app/models.py", (repo.path / "app/models.py").read_text() + "\n# who signs in\n")
    repo.write("README.md", "# shop\n")
    repo.add(f"{VERSIONS}/0003_branch.py", "app/models.py")
    repo.git("add", "-N", "README.md")  # announced only: not a file of the index yet
    warm = probe_imports(repo, ["required"], cache=tmp_path, modules=UNUSED_FRAMEWORKS)
    cold = probe_imports(repo, ["required"], cache=tmp_path / "cold", modules=UNUSED_FRAMEWORKS)
    assert warm == [*cold[:-1], cold[-1].replace(str(sorted(UNUSED_FRAMEWORKS)), "[]")]
    assert cold[-1] == f"exit 0 imported {sorted(UNUSED_FRAMEWORKS)}"


def test_a_file_detection_read_that_changed_is_detected_anew(repo: Repo,
                                                             tmp_path: Path) -> None:
    """The same paths with another alembic.ini (script_location moved to a directory
    already in the tree): the kept projects are not used, the new directory is found."""
    setup(repo, BY_NAME["alembic"])
    repo.write("alt/env.py", (repo.path / "migrations/env.py").read_text())
    repo.write("alt/versions/0001_init.py", revision("0001", None))
    repo.commit("a second script directory")
    repo.branch("feature")
    before = probe(repo, "linear", cache=tmp_path)
    assert before[1:-1] == ["no findings (linear over 1 project)"]
    repo.write("alembic.ini", (repo.path / "alembic.ini").read_text().replace(
        "script_location = migrations", "script_location = alt"))
    repo.add("alembic.ini")
    after = probe(repo, "projects", cache=tmp_path)
    assert verdict(after) == verdict(probe(repo, "projects", cache=tmp_path / "cold"))
    assert any("alt/versions" in line for line in after)
    assert not any("migrations/versions" in line for line in after)


def test_a_deleted_migrations_directory_is_still_compared_from_kept_projects(
        repo: Repo, tmp_path: Path) -> None:
    """Detection in the base tree finds a migrations directory the change deleted: the kept
    projects hold it too, so a second run reports the same deletions."""
    setup(repo, BY_NAME["alembic"])
    repo.write("db/migrations/0001_init.sql", "create table t (id bigint);\n")
    repo.commit("sql migrations")
    repo.branch("feature")
    repo.git("rm", "-q", "-r", "--cached", "db")
    first = probe(repo, "immutable", cache=tmp_path)
    main = repo.git("rev-parse", "main")[:12]
    assert first[1:-1] == [
        f"db/migrations/0001_init.sql: MG103 migration deleted after it was merged (merged "
        f"in main at {main} (default branch); blob e29e8e1741fd)",
        f"  hint: restore it: git restore --source={main} --staged --worktree -- "
        "db/migrations/0001_init.sql and put the change in a new migration",
        "1 finding (immutable over 2 projects)",
    ]
    assert verdict(probe(repo, "immutable", cache=tmp_path)) == verdict(first)
    assert verdict(probe(repo, "immutable", cache=tmp_path / "cold")) == verdict(first)


def test_a_clean_linear_verdict_stands_only_for_the_same_migrations_and_settings(
        repo: Repo, tmp_path: Path) -> None:
    """A project found clean is read as clean again; a staged setting that makes it fail
    (strict history), or a staged revision that does, is worked out anew."""
    branched_and_merged(repo, "")
    clean = probe(repo, "linear", cache=tmp_path)
    assert clean[1:-1] == ["no findings (linear over 1 project)"]
    assert list((tmp_path / "migration-guard" / "linear-clean").glob("*.marshal"))
    assert verdict(probe(repo, "linear", cache=tmp_path)) == verdict(clean)
    repo.write(".migration-guard.yaml", "linear:\n  strict: true\n")
    repo.add(".migration-guard.yaml")
    strict = probe(repo, "linear", cache=tmp_path)
    assert [line.split(" ", 2)[:2] for line in strict[1:-2] if not line.startswith("  ")] \
        == [[f"{VERSIONS}/0003a_left.py:5:", "MG125"],
            [f"{VERSIONS}/0003b_right.py:5:", "MG125"], [f"{VERSIONS}/0004_merge.py:5:", "MG124"]]
    assert verdict(strict) == verdict(probe(repo, "linear", cache=tmp_path / "cold"))
    repo.git("rm", "-q", "--cached", ".migration-guard.yaml")  # the header says so
    assert verdict(probe(repo, "linear", cache=tmp_path))[1:] == verdict(clean)[1:]
    repo.write(f"{VERSIONS}/0005_side.py", revision("0005", "0002"))
    repo.add()
    forked = probe(repo, "linear", cache=tmp_path)
    assert any(f"{VERSIONS}/0005_side.py:5: MG113 " in line for line in forked)
    assert verdict(forked) == verdict(probe(repo, "linear", cache=tmp_path / "cold2"))
