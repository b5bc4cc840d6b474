"""Pinned peers for the benchmarks, installed by the benchmarks themselves.

Each set of pins gets its own virtual environment under the temp directory, named by a hash
of the pins, created on first use and reused afterwards. An install that fails, or a peer
run that fails, stops the benchmark: a ratio against a peer that did not run is no figure.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class PeerFailed(SystemExit):
    """A peer could not be installed or did not run cleanly: the benchmark stops."""

    def __init__(self, what: str, detail: str) -> None:
        super().__init__(f"benchmark stopped: {what}\n{detail.strip()[-3000:]}")


def pinned_venv(pins: Sequence[str], *, with_project: bool = False) -> Path:
    """The python of a cached venv holding exactly ``pins`` (and this project, if asked)."""
    key = hashlib.sha256("\n".join([sys.version, *pins, str(with_project)]).encode())
    venv = Path(tempfile.gettempdir()) / f"mg-bench-venv-{key.hexdigest()[:16]}"
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    os.chmod(venv, 0o755)  # the embedded server, run as an unprivileged user, reads it
    args = [str(python), "-m", "pip", "install", "--quiet", *pins]
    if with_project:
        args += ["-e", str(ROOT)]
    print(f"installing into {venv}: {' '.join(pins)}", file=sys.stderr)
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PeerFailed(f"pip install {' '.join(pins)} exited {result.returncode}",
                         result.stderr)
    (venv / ".complete").touch()
    return python


def run_checked(cmd: Sequence[str], *, cwd: Path | None = None,
                env: dict[str, str] | None = None, expect: int = 0) -> float:
    """Wall time of one whole process; stops the benchmark unless it exits ``expect``."""
    started = time.perf_counter()
    result = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True,
                            check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != expect:
        raise PeerFailed(f"`{' '.join(cmd)}` exited {result.returncode}, expected {expect}",
                         result.stdout + result.stderr)
    return elapsed
