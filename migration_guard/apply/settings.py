"""What one apply run needs to know: the project's apply options and the database bounds."""

from __future__ import annotations

import time
from typing import NamedTuple

from migration_guard.config import Config, DatabaseConfig, ProjectConfig
from migration_guard.projects import Project


class Settings(NamedTuple):
    """The apply options of one project plus the run's database settings."""

    prelude: tuple[str, ...] = ()
    seed: tuple[str, ...] = ()
    roundtrip: str = "off"
    drift: bool = False
    database_url_env: str = "DATABASE_URL"
    declarative_schema: tuple[str, ...] = ()
    database: DatabaseConfig = DatabaseConfig()


def project_config(config: Config, project: Project) -> ProjectConfig | None:
    """The config entry the project came from (None for a detected project)."""
    for entry in config.projects or ():
        if entry.name is not None:
            if entry.name == project.name:
                return entry
        elif (entry.migrations or project.migrations) == project.migrations and (
                entry.alembic_ini is None or entry.alembic_ini == project.alembic_ini):
            return entry
    return None


def settings_for(config: Config, project: Project) -> Settings:
    entry = project_config(config, project)
    if entry is None:
        return Settings(database=config.database)
    return Settings(entry.prelude, entry.seed, entry.roundtrip, entry.drift,
                    entry.database_url_env, entry.declarative_schema, config.database)


class Deadline:
    """The whole-run limit: every statement's timeout is cut to what is left of it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def expired(self) -> bool:
        return self.left() <= 0

    def statement_timeout(self, configured: float) -> float:
        return max(0.001, min(configured, self.left()))
