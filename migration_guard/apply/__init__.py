"""The apply check's engine: migrations applied to a throwaway PostgreSQL, per framework.

Imported lazily by :mod:`migration_guard.checks.apply` and the ``status``/``drift``
commands only: it pulls in psycopg, SQLAlchemy and alembic, which the fast hooks must
never load.
"""
