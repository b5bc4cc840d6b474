"""One small entry module per hook id of ``.pre-commit-hooks.yaml``.

Each ``main(argv)`` only prepends its command and hands over to the CLI, so a hook run
directly (``python -m migration_guard.hooks.immutable``) behaves exactly like the
``migration-guard <command>`` entry pre-commit calls.
"""
