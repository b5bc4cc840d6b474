"""The database driver named in the URL handed to an Alembic project's env.py.

psycopg (3) serves sync and async engines alike, so it is the default. A project pinned to
an async-only driver (``postgresql+asyncpg`` in ``alembic.ini``, env.py or the settings
module env.py imports) may build its engine with options only that driver takes, or
replace the scheme itself: it gets the driver it names, which must then be installed.
"""

from __future__ import annotations

import importlib.util

from migration_guard.apply.alembic_run import DEFAULT_DRIVER
from migration_guard.errors import GuardError
from migration_guard.frameworks.alembic_env import named_drivers
from migration_guard.git.changeset import Snapshot
from migration_guard.projects import Project

# Drivers handed over as named: those psycopg cannot stand in for (async-only ones).
PINNED_DRIVERS = ("asyncpg",)


def project_driver(project: Project, snapshot: Snapshot) -> str:
    if project.alembic_ini is None or project.env_py is None:
        return DEFAULT_DRIVER

    def read(path: str) -> bytes | None:
        return snapshot.read(path) if path in snapshot.files else None

    named = named_drivers(project.alembic_ini, project.env_py, list(project.module_roots),
                          set(snapshot.files), read)
    pinned = sorted(named.intersection(PINNED_DRIVERS))
    if not pinned:
        return DEFAULT_DRIVER
    driver = pinned[0]
    if not _installed(driver):
        raise GuardError(f"project {project.name} runs on the {driver} driver "
                         f"(postgresql+{driver}), which is not installed",
                         f"install it where migration-guard runs (pip install {driver}), "
                         "e.g. in the hook's additional_dependencies")
    return driver


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken install is no install
        return False
