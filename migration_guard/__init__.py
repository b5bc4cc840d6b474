"""migration-guard: git-aware guards for database schema migrations."""

__version__ = "0.1.0"
