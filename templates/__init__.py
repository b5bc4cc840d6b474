"""Files users copy into their repositories (config, pre-commit snippet, CI callers, SQL
migration templates); shipped in the wheel as ``migration_guard.templates`` package data
so ``migration-guard init`` and ``new`` read them through :mod:`importlib.resources`."""
