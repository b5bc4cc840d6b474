"""Pinned peers and this project, installed by the benchmarks themselves.

Each set of pins gets its own virtual environment under the temp directory, named by a hash
of the pins (and, for a venv holding this project, of the files its install is built from),
created on first use and reused afterwards. An install that fails, or a peer run that fails,
stops the benchmark: a ratio against a peer that did not run is no figure.

Each venv takes ~200 MB, and every edit of the project makes a new one: building one removes
the venvs of the same pins holding an older project that no benchmark used for an hour, and
any of these venvs unused for a day (a venv's ``.complete`` file is touched on each use).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: What a normal install of this project is built from: pyproject.toml names README.md as
#: the readme and ships templates/ as migration_guard.templates.
PROJECT_INPUTS = ("pyproject.toml", "README.md", "migration_guard", "templates")


class PeerFailed(SystemExit):
    """A peer could not be installed or did not run cleanly: the benchmark stops."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"benchmark stopped: {what}\n{detail.strip()[-3000:]}")


def project_files() -> list[Path]:
    """Every file a normal install of this project is built from, bytecode left out."""
    files: list[Path] = []
    for name in PROJECT_INPUTS:
        path = ROOT / name
        found = sorted(path.rglob("*")) if path.is_dir() else [path]
        files += [f for f in found if f.is_file() and "__pycache__" not in f.parts
                  and f.suffix != ".pyc"]
    return files


def project_digest() -> str:
    """A hash of the project's install inputs: a change to any of them rebuilds its venv."""
    digest = hashlib.sha256()
    for path in project_files():
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def project_venv(*pins: str) -> Path:
    """The python of a cached venv holding a normal (non-editable) install of this project,
    as pre-commit installs it for users, plus ``pins``."""
    return pinned_venv(pins, with_project=True)


#: The prefix of every venv made here: only these are ever removed.
VENV_PREFIX = "mg-bench-venv-"
#: Unused this long, a venv of the same pins with an older project goes; any venv, a day.
STALE_PROJECT_SECONDS, STALE_SECONDS = 3600, 86_400


def pinned_venv(pins: Sequence[str], *, with_project: bool = False) -> Path:
    """The python of a cached venv holding exactly ``pins`` (and this project, if asked)."""
    pinned = hashlib.sha256("\n".join([sys.version, *pins]).encode()).hexdigest()[:8]
    project = project_digest()[:8] if with_project else "none"
    venv = Path(tempfile.gettempdir()) / f"{VENV_PREFIX}{pinned}-{project}"
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        (venv / ".complete").touch()
        return python
    _remove_stale_venvs(f"{VENV_PREFIX}{pinned}-")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    os.chmod(venv, 0o755)  # the embedded server, run as an unprivileged user, reads it
    what = " ".join([*pins, "migration-guard" if with_project else ""]).strip()
    print(f"installing into {venv}: {what}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        args = [str(python), "-m", "pip", "install", "--quiet", "--compile", *pins]
        if with_project:
            args.append(str(_copy_project(Path(tmp) / "src")))
        result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PeerFailed(f"pip install {what} exited {result.returncode}", result.stderr)
    if with_project:
        _check_normal_install(python)
    (venv / ".complete").touch()
    return python


def _remove_stale_venvs(same_pins: str) -> None:
    """Remove the venvs made here (named ``VENV_PREFIX...``, finished) that are stale: of
    ``same_pins`` and unused for an hour, or unused for a day."""
    now = time.time()
    for venv in Path(tempfile.gettempdir()).glob(f"{VENV_PREFIX}*"):
        try:
            unused = now - (venv / ".complete").stat().st_mtime
        except OSError:
            continue  # not finished: being built, or not one of ours
        limit = STALE_PROJECT_SECONDS if venv.name.startswith(same_pins) else STALE_SECONDS
        if unused > limit:
            shutil.rmtree(venv, ignore_errors=True)


def _copy_project(destination: Path) -> Path:
    """A copy of exactly the hashed inputs to build from: an in-tree build would leave a
    build/ directory in the checkout whose stale files later wheels would pick up."""
    for path in project_files():
        target = destination / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return destination


def _check_normal_install(python: Path) -> None:
    """Stop unless the project is installed as users get it: no editable finder (whose .pth
    imports modules in every process of the venv) and every module byte-compiled."""
    site = python.parent.parent / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site = site / "site-packages"
    editable = sorted(p.name for p in site.glob("__editable__*"))
    uncompiled = [str(p) for p in (site / "migration_guard").rglob("*.py")
                  if not Path(importlib.util.cache_from_source(str(p))).exists()]
    if editable or uncompiled or not (site / "migration_guard").is_dir():
        raise PeerFailed(f"migration-guard is not a normal, compiled install in {site}",
                         "\n".join(editable + uncompiled[:20]))


def rotated(names: Sequence[str], round_number: int) -> list[str]:
    """``names`` starting one further each round: every command takes every place in the
    order in turn, so none always runs right after the same one (the process before warms
    or evicts caches, the CPU's clock follows the load)."""
    shift = round_number % len(names) if names else 0
    return [*names[shift:], *names[:shift]]


def run_checked(cmd: Sequence[str], *, cwd: Path | None = None,
                env: dict[str, str] | None = None,
                expect: int | Collection[int] = 0) -> float:
    """Wall time of one whole process; stops the benchmark unless it exits ``expect``."""
    expected = {expect} if isinstance(expect, int) else set(expect)
    started = time.perf_counter()
    result = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode not in expected:
        output = (result.stdout + result.stderr).decode(errors="replace")
        raise PeerFailed(f"`{' '.join(cmd)}` exited {result.returncode}, expected "
                         f"{' or '.join(map(str, sorted(expected)))}", output)
    return elapsed


def write_files(repo: Path, files: dict[str, str]) -> None:
    """Write ``files`` (path relative to ``repo`` -> text), making folders as needed."""
    for rel, text in files.items():
        target = repo / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
