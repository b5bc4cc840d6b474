"""Fixtures for the apply tests: real repos whose CLI runs share one server cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """XDG_CACHE_HOME for every CLI run: the initdb'd cluster is made once per session."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture
def apply_repo(repo: Any, shared_cache: Path) -> Iterator[Any]:
    repo.env["XDG_CACHE_HOME"] = str(shared_cache)
    yield repo
