"""Benchmark: a ``git commit`` through pre-commit with every fast hook, only a SQL migration
staged. Prints figures, not a test.

The repository is bench_hooks' (10,000 files, 2,000 migrations: an Alembic project and a
plain SQL project, packed), with one new SQL migration staged that passes every hook. It is
copied once per pre-commit configuration, each committed as ``.pre-commit-config.yaml`` and
installed with ``pre-commit install``: (b) one no-op hook (``entry: true``), pre-commit's own
start; (b4) one no-op hook per fast hook, pre-commit's own cost of running that many hooks;
(c) the separate fast hooks of ``.pre-commit-hooks.yaml``; (d) its combined hook
``migration-guard`` (``check --fast``). (a) is ``git commit --no-verify``, git's floor, in
(d)'s copy. Hooks mirror the manifest's (``repo: local``, ``language: system``, the entry
calling ``migration-guard`` of a cached venv holding a normal install of this project and
pinned pre-commit, see ``peers.project_venv``). Whole ``git commit -m x`` runs alternate,
each round starting one configuration further; each is undone untimed by ``git reset --soft
HEAD~1`` so that every run commits the same change. (c) and (d) run twice: with
``XDG_CACHE_HOME`` an empty directory (nothing cached: the first commit after installing),
and with a copy of the cache an earlier commit left, that of the same migration file with
other content (every commit after the first: the base's history and the hooks' command lines
are cached, the new migration and the index are not). A commit that fails, or hooks that did
not all pass, stop the benchmark.

    python bench/bench_commit.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml
from bench_hooks import NEW_SQL, build_base, clean_env, fast_hook_manifest, git, stage_new_sql
from peers import (  # bench/ is on sys.path: a script
    PeerFailed,
    project_venv,
    rotated,
    run_checked,
    write_files,
)

PRE_COMMIT_PINS = ("pre-commit==4.7.0",)
#: The manifest's hook that runs every fast check in one process.
COMBINED_ID = "migration-guard"
NO_VERIFY = "(a) git commit --no-verify"
NOOP = "(b) pre-commit, one no-op hook"
NOOPS = "(b4) pre-commit, a no-op hook per fast hook"
SEPARATE = "(c) pre-commit, separate fast hooks"
COMBINED = "(d) pre-commit, combined hook"
#: What a row with an earlier commit's cache adds to its configuration's name.
EARLIER = ", earlier commit's cache"
#: The target for a commit through every fast hook, only SQL migrations staged, set where
#: pre-commit's own start, (b), took 280 ms: as a ratio to (b), the same target on a machine
#: of any speed.
TARGET_MS = 600.0
TARGET_START_MS = 280.0
COMMIT = ["git", "commit", "-m", "x"]


def local_hooks(script: Path) -> dict[str, list[dict[str, Any]]]:
    """Each configuration's hooks: the manifest's fast hooks as ``language: system`` hooks
    whose entry calls ``script``, and the no-op hook."""
    mirrored = [{**hook, "language": "system",
                 "entry": shlex.join([str(script), *shlex.split(hook["entry"])[1:]])}
                for hook in fast_hook_manifest()]
    combined = [hook for hook in mirrored if hook["id"] == COMBINED_ID]
    if not combined:
        raise PeerFailed(f"no hook {COMBINED_ID!r} in .pre-commit-hooks.yaml", "")
    separate = [h for h in mirrored if h["id"] != COMBINED_ID]
    noops = [{"id": f"noop-{n}", "name": f"no-op {n}", "entry": "true", "language": "system",
              "always_run": True, "pass_filenames": False} for n in range(1, len(separate) + 1)]
    return {NOOP: noops[:1], NOOPS: noops, SEPARATE: separate, COMBINED: combined}


def slug(name: str) -> str:
    """A configuration's letter: ``b4`` for "(b4) ..."."""
    return name[1:name.index(")")]


def configured_copy(base: Path, target: Path, hooks: list[dict[str, Any]],
                    env: dict[str, str]) -> None:
    """A copy of ``base`` with ``hooks`` committed as its pre-commit config, installed, and
    the new SQL migration staged."""
    shutil.copytree(base, target, symlinks=True)
    config = {"repos": [{"repo": "local", "hooks": hooks}]}
    (target / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    git(target, "add", ".pre-commit-config.yaml", env=env)
    git(target, "commit", "-q", "-m", "pre-commit config", env=env)
    run_checked(["pre-commit", "install"], cwd=target, env=env)
    stage_new_sql(target, env)


def commit_env(env: dict[str, str], cache: Path, earlier: Path | None = None) -> dict[str, str]:
    """``env`` with ``cache`` as ``XDG_CACHE_HOME``, emptied, or a copy of ``earlier``."""
    shutil.rmtree(cache, ignore_errors=True)
    if earlier is None:
        cache.mkdir()
    else:
        shutil.copytree(earlier, cache, symlinks=True)
    return {**env, "XDG_CACHE_HOME": str(cache)}


def earlier_cache(repo: Path, env: dict[str, str], cache: Path,
                  hooks: list[dict[str, Any]]) -> Path:
    """The cache one earlier commit through ``hooks`` leaves in ``cache``: that of the staged
    migration with other content; then the migration is staged again as it was."""
    write_files(repo, {NEW_SQL: "create table s1001_earlier (id bigint);\n"})
    git(repo, "add", NEW_SQL, env=env)
    check_hooks_pass(repo, commit_env(env, cache), hooks)
    stage_new_sql(repo, env)
    return cache


def check_hooks_pass(repo: Path, env: dict[str, str], hooks: list[dict[str, Any]]) -> None:
    """One untimed commit: it succeeds and pre-commit reports every hook as passed (a
    commit that skipped them would time nothing); then undone."""
    result = subprocess.run(COMMIT, cwd=repo, env=env, capture_output=True, text=True,
                            check=False)
    output = result.stdout + result.stderr
    passed = {line.split(".")[0] for line in output.splitlines() if line.endswith("Passed")}
    missing = [hook["name"] for hook in hooks if hook["name"] not in passed]
    if result.returncode != 0 or missing:
        raise PeerFailed(f"`git commit` in {repo} exited {result.returncode}; hooks not "
                         f"passed: {missing}", output)
    git(repo, "reset", "-q", "--soft", "HEAD~1", env=env)


def time_commits(rows: dict[str, tuple[Path, Path | None]], runs: int, env: dict[str, str],
                 cache: Path) -> dict[str, float]:
    """Median ms of ``git commit -m x`` per row (a repository, and the cache it starts
    with: ``None`` for none), alternating, each run undone."""
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for number in range(runs):
        for name in rotated(list(rows), number):
            repo, earlier = rows[name]
            command = [*COMMIT, "--no-verify"] if name == NO_VERIFY else COMMIT
            samples[name].append(run_checked(command, cwd=repo,
                                             env=commit_env(env, cache, earlier)))
            git(repo, "reset", "-q", "--soft", "HEAD~1", env=env)
    return {name: statistics.median(values) * 1000 for name, values in samples.items()}


def versus(ms: float, reference: float, *, shown: bool) -> str:
    """The difference and the ratio to ``reference``, blank where they say nothing."""
    return f"{ms - reference:+8.1f} {ms / reference:6.2f}" if shown else f"{'':8} {'':6}"


def report(medians: dict[str, float], hooks: dict[str, list[dict[str, Any]]],
           runs: int) -> None:
    floor, start = medians[NO_VERIFY], medians[NOOP]
    print(f"median of {runs} alternating `git commit -m x` runs, each undone untimed; only "
          f"a new SQL migration staged; nothing cached unless the row says so; load "
          f"{os.getloadavg()[0]:.1f}")
    for name in (SEPARATE, COMBINED):
        print(f"{name[:3]} hooks: {', '.join(hook['id'] for hook in hooks[name])}")
    print(f"{'what':60} {'median ms':>10} {'- (a)':>8} {'x (a)':>6} {'- (b)':>8} {'x (b)':>6}")
    for name, ms in medians.items():
        row = (f"{name:60} {ms:10.1f} {versus(ms, floor, shown=name != NO_VERIFY)} "
               f"{versus(ms, start, shown=name not in (NO_VERIFY, NOOP))}")
        print(row.rstrip())
    per_hook = (medians[NOOPS] - start) / (len(hooks[NOOPS]) - 1)
    print(f"pre-commit's own cost per further hook: (b4 - b) / {len(hooks[NOOPS]) - 1} = "
          f"{per_hook:.1f} ms; (c) - (b4), the separate hooks' own time: "
          f"{medians[SEPARATE] - medians[NOOPS]:.1f} ms, with an earlier commit's cache "
          f"{medians[SEPARATE + EARLIER] - medians[NOOPS]:.1f} ms")
    ratio = TARGET_MS / TARGET_START_MS
    for name in (SEPARATE, COMBINED, SEPARATE + EARLIER, COMBINED + EARLIER):
        label = f"{name[:3]}{name[len(SEPARATE if name.startswith('(c)') else COMBINED):]}"
        verdict = "met" if medians[name] <= TARGET_MS else "NOT met"
        print(f"target: every fast hook, only SQL staged, <= {TARGET_MS:.0f} ms: {label} "
              f"{medians[name]:.0f} ms -> {verdict}")
        verdict = "met" if medians[name] / start <= ratio else "NOT met"
        print(f"target: the same as a ratio to (b), <= {TARGET_MS:.0f}/{TARGET_START_MS:.0f} = "
              f"{ratio:.2f}x: {label} {medians[name] / start:.2f}x -> {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    if args.runs < 9:
        parser.error("--runs: at least 9")
    python = project_venv(*PRE_COMMIT_PINS)
    hooks = local_hooks(python.with_name("migration-guard"))
    with tempfile.TemporaryDirectory() as tmp:
        env = clean_env(dict(os.environ))
        # pre-commit from the venv, for `pre-commit install`; its store kept out of ~/.cache.
        env.update(PATH=f"{python.parent}{os.pathsep}{env.get('PATH', os.defpath)}",
                   PRE_COMMIT_HOME=str(Path(tmp) / "pre-commit-home"))
        base, cache = Path(tmp) / "base", Path(tmp) / "cache"
        base.mkdir()
        build_base(base, env)
        rows: dict[str, tuple[Path, Path | None]] = {}
        for name, config in hooks.items():
            repo = Path(tmp) / slug(name)
            configured_copy(base, repo, config, env)
            check_hooks_pass(repo, commit_env(env, cache), config)
            rows[name] = (repo, None)
            if name in (SEPARATE, COMBINED):
                primed = earlier_cache(repo, env, Path(tmp) / f"earlier-{slug(name)}", config)
                rows[name + EARLIER] = (repo, primed)
        rows = {NO_VERIFY: rows[COMBINED], **rows}
        print(f"repository: 10,000 files, 2,000 migrations; normal install: "
              f"{python.parent.parent}; {' '.join(PRE_COMMIT_PINS)}")
        medians = time_commits(rows, args.runs, env, cache)
    report(medians, hooks, args.runs)


if __name__ == "__main__":
    main()
