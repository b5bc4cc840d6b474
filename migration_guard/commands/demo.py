"""The ``demo`` command: a Supabase project in a throwaway git repository, migration-guard's
hooks installed by the real pre-commit, and four real ``git commit`` runs through them.

Everything happens in a temporary directory that is removed at the end (``--keep`` keeps
it): the repository, pre-commit's cache (``PRE_COMMIT_HOME``) and an empty global git
config, so neither the user's git configuration and hooks nor ``~/.cache/pre-commit`` are
read or written. The hooks are ``repo: local`` hooks running this interpreter's
migration-guard, so the demo works offline with nothing installed beyond the package.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from typing import IO

from migration_guard.errors import GuardError
from migration_guard.typing_lite import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import argparse

SUMMARY = "a walk-through on a temporary repository: four commits through the real hooks"

# (hook id, name pre-commit prints, migration-guard command): the ids and names of
# .pre-commit-hooks.yaml, so the output reads as it will in the user's own repository.
HOOKS = (
    ("migrations-required", "migrations required for schema changes", "required"),
    ("migrations-immutable", "merged migrations are immutable", "immutable"),
    ("migrations-linear", "migrations are linear", "linear"),
    ("migrations-lint", "migration SQL is safe", "lint"),
    ("migrations-apply", "migrations apply on a throwaway PostgreSQL", "apply"),
)

SCHEMA = "supabase/schemas/users.sql"
MERGED = "supabase/migrations/20240101000000_create_users.sql"
NEW = "supabase/migrations/20240102000000_add_email.sql"
USERS = """create table users (
  id bigint generated always as identity primary key,
  name text not null{extra}
);
"""
# A new migration as the lint wants it: a lock timeout before the ALTER TABLE.
ADD_EMAIL = "set lock_timeout = '2s';\n\nalter table users add column email text not null{};\n"


class Scenario(NamedTuple):
    title: str
    files: dict[str, str]  # what the developer writes and stages
    message: str  # the commit message
    blocked_by: str | None  # the finding code that must stop the commit; None: accepted


SCENARIOS = (
    Scenario("(a) a schema change without a migration",
             {SCHEMA: USERS.format(extra=",\n  email text not null default ''")},
             "users: add email (schema only)", "MG101"),
    Scenario("(b) an edit of a merged migration",
             {MERGED: USERS.format(extra=",\n  email text")},
             "users: add email to the merged migration", "MG102"),
    Scenario("(c) a migration that fails on a table with rows",
             {SCHEMA: USERS.format(extra=",\n  email text not null"),
              NEW: ADD_EMAIL.format("")},
             "users: add email (NOT NULL, no default)", "MG207"),
    Scenario("(d) a correct change: schema and a migration that applies",
             {SCHEMA: USERS.format(extra=",\n  email text not null default ''"),
              NEW: ADD_EMAIL.format(" default ''")},
             "users: add email", None),
)

_STATUS = re.compile(r".*\.{3,}.*(?:Passed|Failed|Skipped)$")
_FINDING = re.compile(r"\S.*: MG\d{3} ")


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser("demo", help=SUMMARY, description=SUMMARY)
    sub.add_argument("--keep", action="store_true",
                     help="keep the temporary repository and print its path")


class _Shell:
    """Commands run in the demo repository, with the isolated environment."""

    def __init__(self, cwd: str, env: dict[str, str]) -> None:
        self.cwd = cwd
        self.env = env

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(cmd, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, encoding="utf-8",
                              errors="replace", check=False)
        if check and proc.returncode != 0:
            raise GuardError(
                f"demo set-up: `{shlex.join(cmd)}` failed with exit code {proc.returncode}: "
                f"{proc.stdout.strip()}",
                "run `migration-guard demo --keep` and look at the repository it keeps",
            )
        return proc

    def write(self, files: dict[str, str]) -> None:
        for rel, content in files.items():
            path = os.path.join(self.cwd, *rel.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(content)

    def head(self) -> str:
        return self.run("git", "rev-parse", "HEAD").stdout.strip()


def isolated_environment(environ: dict[str, str], temp: str) -> dict[str, str]:
    """The caller's environment without git's and pre-commit's variables, pointed at an
    empty global git config and a pre-commit cache inside ``temp``."""
    env = {k: v for k, v in environ.items()
           if not k.startswith(("GIT_", "PRE_COMMIT")) and k != "SKIP"}
    global_config = os.path.join(temp, "gitconfig")
    open(global_config, "w").close()
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=global_config,
               PRE_COMMIT_HOME=os.path.join(temp, "pre-commit-home"), PRE_COMMIT_COLOR="never")
    return env


def pre_commit_config(python: str) -> str:
    import yaml

    hooks = [{"id": hook_id, "name": name,
              "entry": f"{shlex.quote(python)} -m migration_guard {command}",
              "language": "system", "pass_filenames": False, "always_run": True,
              "require_serial": True}
             for hook_id, name, command in HOOKS]
    return ("# migration-guard demo: the hooks of this Python's migration-guard\n"
            + yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}, sort_keys=False))


def set_up(shell: _Shell) -> None:
    """A Supabase project committed on main, hooks installed, work on branch feature."""
    shell.run("git", "init", "-q", "-b", "main")
    for key, value in (("user.name", "migration-guard demo"),
                       ("user.email", "demo@migration-guard.invalid"),
                       ("commit.gpgsign", "false")):
        shell.run("git", "config", key, value)
    shell.write({
        ".pre-commit-config.yaml": pre_commit_config(sys.executable),
        "supabase/config.toml": 'project_id = "demo"\n',
        SCHEMA: USERS.format(extra=""),
        MERGED: USERS.format(extra=""),
    })
    shell.run("git", "add", "-A")
    shell.run("git", "commit", "-q", "-m", "users table")
    shell.run(sys.executable, "-m", "pre_commit", "install")
    shell.run("git", "checkout", "-q", "-b", "feature")


def key_lines(output: str) -> list[str]:
    """pre-commit's one line per hook, and each finding with its hint."""
    kept: list[str] = []
    keep_hint = False
    for line in output.splitlines():
        if _STATUS.fullmatch(line) or _FINDING.match(line):
            kept.append(line)
            keep_hint = bool(_FINDING.match(line))
        elif keep_hint and line.startswith("  hint: "):
            kept.append(line)
        else:
            keep_hint = False
    return kept


def play(shell: _Shell, scenario: Scenario, out: IO[str]) -> bool:
    """Stage the scenario's change, commit, print the key lines; True when it went as
    expected. A blocked change is then discarded, so each scenario starts from the same tree."""
    out.write(f"{scenario.title}\n    $ git commit -m {shlex.quote(scenario.message)}")
    out.flush()
    shell.write(scenario.files)
    shell.run("git", "add", "-A")
    before = shell.head()
    started = time.monotonic()
    proc = shell.run("git", "commit", "-m", scenario.message, check=False)
    out.write(f"  ({time.monotonic() - started:.1f} s)\n")
    committed = shell.head() != before
    lines = key_lines(proc.stdout)
    if scenario.blocked_by is None:
        ok = proc.returncode == 0 and committed
        verdict = "accepted, as expected" if ok else "blocked, but it should have been accepted"
    else:
        found = any(f": {scenario.blocked_by} " in line for line in lines)
        ok = proc.returncode != 0 and not committed and found
        verdict = (f"blocked by {scenario.blocked_by}, as expected" if ok
                   else f"{'blocked' if not committed else 'committed'}, but it should have "
                        f"been blocked by {scenario.blocked_by}")
    shown = lines if ok else proc.stdout.splitlines()  # everything when it went wrong
    out.write("".join(f"    {line}\n" for line in shown))
    out.write(f"    verdict: {verdict}\n\n")
    out.flush()
    if not committed:
        shell.run("git", "reset", "-q", "--hard")
        shell.run("git", "clean", "-q", "-f", "-d")
    return ok


INTRO = (
    "migration-guard demo: a Supabase project in a temporary git repository, with the hooks "
    "{hooks} installed by pre-commit. On main: {schema} (the declarative schema) and one "
    "merged migration; each scenario stages a change on branch feature and runs `git commit`."
)


def run(args: argparse.Namespace, environ: dict[str, str], out: IO[str]) -> int:
    started = time.monotonic()
    temp = tempfile.mkdtemp(prefix="migration-guard-demo-")
    try:
        repo = os.path.join(temp, "repo")
        os.mkdir(repo)
        shell = _Shell(repo, isolated_environment(environ, temp))
        intro = INTRO.format(schema=SCHEMA, hooks=_hook_list([h[0] for h in HOOKS]))
        out.write(textwrap.fill(intro, width=88, break_on_hyphens=False) + "\n\n")
        out.flush()
        set_up(shell)
        results = [play(shell, scenario, out) for scenario in SCENARIOS]
        out.write(f"demo: {sum(results)} of {len(results)} scenarios behaved as expected "
                  f"({time.monotonic() - started:.1f} s)\n")
        if args.keep:
            out.write(f"the repository is kept in {repo}\n")
        return 0 if all(results) else 1
    finally:
        if not args.keep:
            shutil.rmtree(temp, ignore_errors=True)


def _hook_list(ids: Sequence[str]) -> str:
    return ", ".join(ids[:-1]) + " and " + ids[-1]
