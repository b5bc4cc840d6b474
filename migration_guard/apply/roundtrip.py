"""Alembic round trips: upgrade, downgrade, upgrade again, with schema snapshots compared.

``new``: each new revision in order, starting from the base state; the schema after its
downgrade must equal the schema before its upgrade. ``all``: the whole chain, up to the
heads, down to base (compared with the empty database), and up again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import psycopg
from alembic.config import Config as AlembicConfig

from migration_guard.apply.alembic_run import Workspace
from migration_guard.apply.drift import schema_in, schema_of
from migration_guard.db import catalog
from migration_guard.db.remote import connect
from migration_guard.findings import Finding, Note
from migration_guard.frameworks.alembic import Revision

CHECK = "apply"


def _left_behind(before: catalog.Schema, after: catalog.Schema, path: str,
                 what: str) -> list[Finding]:
    differences = catalog.compare(before, after, expected_label="the schema before the upgrade",
                                  actual_label=f"the schema after {what}")
    return [Finding("MG205", path, None, f"{what} does not restore the schema: {d.message}",
                    "make downgrade() undo exactly what upgrade() does", check=CHECK)
            for d in differences]


def roundtrip_new(ws: Workspace, cfg: AlembicConfig, conninfo: str,
                  revisions: Sequence[Revision]) -> tuple[list[Finding], list[Note]]:
    """Round-trip each of ``revisions`` (parents first) on a database at the base state."""
    notes: list[Note] = []
    # One idle connection for every catalog read: a new backend reads its caches afresh.
    with contextlib.closing(connect(conninfo)) as conn:
        for revision in revisions:
            if len(revision.down) > 1:
                notes.append(Note(revision.path, "merge revision: round trip skipped", CHECK))
                continue
            found = _roundtrip(ws, cfg, conn, revision)
            if found:
                return found, notes
    return [], notes


def _roundtrip(ws: Workspace, cfg: AlembicConfig, conn: psycopg.Connection[Any],
               revision: Revision) -> list[Finding]:
    target = revision.down[0] if revision.down else "base"
    before = schema_in(conn)
    found = ws.upgrade(cfg, revision.id, doing=f"upgrade to {revision.id}")
    if found:
        return found
    found = ws.downgrade(cfg, target, doing=f"downgrade of {revision.id}")
    if found:
        return [_blame_revision(f, revision) for f in found]
    found = _left_behind(before, schema_in(conn), revision.path,
                         f"the downgrade of {revision.id}")
    return found or ws.upgrade(cfg, revision.id, code="MG204",
                               doing=f"upgrade of {revision.id} after its downgrade")


def roundtrip_all(ws: Workspace, cfg: AlembicConfig, conninfo: str,
                  empty: catalog.Schema, where: str) -> list[Finding]:
    """Down to base from the heads (the database is at the heads), then up again."""
    found = ws.downgrade(cfg, "base", doing="downgrade to base")
    if found:
        return found
    found = _left_behind(empty, schema_of(conninfo), where, "the downgrade to base")
    return found + ws.upgrade(cfg, "heads", code="MG204",
                              doing="upgrade to heads after the downgrade to base")


def _blame_revision(finding: Finding, revision: Revision) -> Finding:
    """A downgrade failure raised outside the revision file is still that revision's."""
    if finding.path == revision.path:
        return finding
    return finding._replace(path=revision.path, line=None)
