"""Shared fixtures: real git repositories in temporary directories, the real CLI process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent


def clean_env(home: Path) -> dict[str, str]:
    """The environment minus anything git or pre-commit would pick up from the outside."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "PRE_COMMIT", "MIGRATION_GUARD", "GITHUB_"))}
    env.update(
        HOME=str(home), GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        GIT_AUTHOR_DATE="2026-01-01T00:00:00Z", GIT_COMMITTER_DATE="2026-01-01T00:00:00Z",
        LC_ALL="C.UTF-8",
    )
    return env


class Result(NamedTuple):
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


class Repo:
    """A real git repository with helpers to write, stage and commit files."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path = path
        self.env = env

    def git(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
        proc = subprocess.run(["git", *args], cwd=self.path, env=env or self.env,
                              capture_output=True, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"git {args} failed: {proc.stderr.decode()}")
        return proc.stdout.decode(errors="replace")

    def write(self, rel: str, content: str | bytes) -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_bytes(content.encode())
        else:
            target.write_bytes(content)
        return target

    def append(self, rel: str, content: str) -> None:
        with open(self.path / rel, "a", encoding="utf-8") as handle:
            handle.write(content)

    def add(self, *paths: str) -> None:
        self.git("add", "-A", "--", *(paths or ["."]))

    def commit(self, message: str = "change", *files: str) -> str:
        for rel, content in zip(files[::2], files[1::2], strict=True):
            self.write(rel, content)
        self.add()
        self.git("commit", "-q", "--no-verify", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def branch(self, name: str) -> None:
        self.git("checkout", "-q", "-b", name)

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)

    def mg(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
        proc = subprocess.run(
            [sys.executable, "-m", "migration_guard", *args],
            cwd=cwd or self.path, env=env or self.env, capture_output=True, check=False,
        )
        return Result(proc.returncode, proc.stdout.decode(errors="replace"),
                      proc.stderr.decode(errors="replace"))


_PROBE = ("import sys\nfrom migration_guard.cli import main\ncode = main({argv!r})\n"
          "print('exit', code, 'imported', sorted(m for m in {modules!r} if m in sys.modules))\n")


def probe_imports(repo: Repo, argv: list[str], *, cache: Path,
                  modules: tuple[str, ...]) -> list[str]:
    """Run the CLI in a fresh interpreter with ``cache`` as ``XDG_CACHE_HOME``; the last
    line of what it printed says its exit code and which of ``modules`` it imported."""
    env = dict(repo.env, XDG_CACHE_HOME=str(cache))
    proc = subprocess.run([sys.executable, "-c", _PROBE.format(argv=argv, modules=modules)],
                          cwd=repo.path, env=env, capture_output=True, text=True, check=False)
    return proc.stdout.splitlines()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
    )
    return home


@pytest.fixture
def repo(tmp_path: Path, home: Path) -> Iterator[Repo]:
    path = tmp_path / "repo"
    path.mkdir()
    env = clean_env(home)
    env["PYTHONPATH"] = str(ROOT)
    r = Repo(path, env)
    r.git("init", "-q", "-b", "main")
    yield r
