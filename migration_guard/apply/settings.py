"""What one apply run needs to know: the project's apply options and the database bounds."""

from __future__ import annotations

import time
from typing import NamedTuple

from migration_guard.config import Config, DatabaseConfig
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


def settings_for(config: Config, project: Project) -> Settings:
    entry = project.config
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
