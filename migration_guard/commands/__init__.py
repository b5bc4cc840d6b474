"""CLI-only commands that are not checks: one module each, called from ``cli.run``."""
