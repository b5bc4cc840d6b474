"""What one apply run needs to know: the project's apply options and the database bounds."""

from __future__ import annotations

import time
from typing import Any

from migration_guard.config import (
    Config,
    DatabaseConfig,
    PostgresConfig,
    ProjectConfig,
    default_project_config,
)
from migration_guard.projects import Project
from migration_guard.typing_lite import NamedTuple


class Settings(NamedTuple):
    """What one project's apply run is told: its config entry (the apply options are read
    from it; a detected project gets every key at its default), the database section and
    the server's (``postgres.version`` filled from the older ``lint.pg_version``)."""

    options: ProjectConfig
    database: DatabaseConfig = DatabaseConfig()
    lint: tuple[tuple[str, Any], ...] = ()  # the top-level lint section (the trace lints)
    postgres: PostgresConfig = PostgresConfig()


def settings_for(config: Config, project: Project) -> Settings:
    return Settings(project.config or default_project_config(), config.database, config.lint,
                    config.postgres._replace(version=config.pg_version))


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
