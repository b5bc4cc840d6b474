"""Alembic round trips: upgrade, downgrade, upgrade again, with schema snapshots compared.

``new``: each new revision in order, starting from the base state; the schema after its
downgrade must equal the schema before its upgrade. ``all``: the whole chain, up to the
heads, down to base (compared with the empty database), and up again. ``downgrades``: the
same chain, down and up, without the compare: the downgrades must run, not restore.

A downgrade that raises ``NotImplementedError`` declares its revision irreversible (as
pytest-alembic reads it): the round trip ends there with a note, never a finding.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import psycopg

from migration_guard.apply.alembic_child import AlembicChild
from migration_guard.apply.alembic_run import NOT_IMPLEMENTED, Handover
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


def roundtrip_new(ws: AlembicChild, cfg: Handover, conninfo: str,
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
            ends = _not_implemented(found)
            if ends is not None:
                notes.append(ends)
                return [], notes
            if found:
                return found, notes
    return [], notes


def _roundtrip(ws: AlembicChild, cfg: Handover, conn: psycopg.Connection[Any],
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


def roundtrip_all(ws: AlembicChild, cfg: Handover, conninfo: str,
                  empty: catalog.Schema | None, where: str) -> tuple[list[Finding], list[Note]]:
    """Down to base from the heads (the database is at the heads), then up again; with
    ``empty``, the schema at base must be it."""
    found = ws.downgrade(cfg, "base", doing="downgrade to base")
    ends = _not_implemented(found)
    if ends is not None:
        # Where the chain stopped is up to env.py's transactions: upgrade from there.
        return ws.upgrade(cfg, "heads", code="MG204",
                          doing="upgrade to heads after the downgrade to base"), [ends]
    if found:
        return found, []
    if empty is not None:
        found = _left_behind(empty, schema_of(conninfo), where, "the downgrade to base")
    return found + ws.upgrade(cfg, "heads", code="MG204",
                              doing="upgrade to heads after the downgrade to base"), []


def _not_implemented(found: list[Finding]) -> Note | None:
    """The note for a downgrade that raised NotImplementedError, if that is what failed."""
    if not found or found[0].code != NOT_IMPLEMENTED:
        return None
    return Note(found[0].path, "downgrade raises NotImplementedError: round trip ends "
                "at this revision", CHECK)


def _blame_revision(finding: Finding, revision: Revision) -> Finding:
    """A downgrade failure raised outside the revision file is still that revision's."""
    if finding.path == revision.path:
        return finding
    return finding._replace(path=revision.path, line=None)
