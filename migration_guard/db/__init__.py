"""The throwaway PostgreSQL and the SQL execution engine behind the apply and drift checks.

Imported only by the database checks: it pulls in psycopg and pglast, which the fast
hooks must never load. Entry points: :func:`provider.open_server`,
:class:`execute.Session`, :func:`execute.apply_sql`, :func:`sample_data.fill_sample_rows`.
"""
