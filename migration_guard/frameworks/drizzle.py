"""Drizzle: ``NNNN_tag.sql`` files whose order and membership ``meta/_journal.json`` records,
in the ``out`` directory ``drizzle.config.*`` names.

Everything this tool knows about Drizzle lives here: where drizzle-kit runs and what its
config names, the journal and its snapshots, how drizzle-orm's migrator decides what is
applied, its one transaction per run, the hints that work for a Drizzle project, new
migrations as ``drizzle-kit generate --custom`` writes them, and running drizzle-kit's own
generator.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence

from migration_guard.errors import GuardError
from migration_guard.findings import Finding, Note, Outcome
from migration_guard.frameworks import Found, Reader, Version
from migration_guard.frameworks.sqldir import SqlDirectory, join, text_of
from migration_guard.typing_lite import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from typing import Any

    from migration_guard.frameworks.newfile import Plan, Write
    from migration_guard.git.changeset import ChangeSet
    from migration_guard.git.repo import Entry
    from migration_guard.projects import Project

JOURNAL = "meta/_journal.json"
#: The journal fields drizzle-orm's migrator reads: editing one after a merge changes what
#: production runs (``when`` decides whether an entry is pending at all).
IMMUTABLE_ENTRY_FIELDS = ("idx", "tag", "when", "breakpoints")
_SNAPSHOT = re.compile(r"meta/(\d+)_snapshot\.json")
_ROOT_SNAPSHOT_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_MIGRATIONS_SCHEMA = "drizzle"
DEFAULT_MIGRATIONS_TABLE = "__drizzle_migrations"

#: Said wherever a statement PostgreSQL refuses in a transaction block meets drizzle's
#: migrator (which runs every pending migration in one transaction).
ONE_TRANSACTION_HINT = (
    "drizzle-kit migrate and drizzle-orm's migrate() run all pending migrations in one "
    "transaction, so PostgreSQL rejects this there: run the statement as a separate step "
    "outside the migrator (a script with its own connection, after migrate), or set "
    "runner: per-file for this project if your deploy applies the SQL files another way")
#: Drizzle's replacement for the "use CREATE INDEX CONCURRENTLY" advice, which its migrator
#: cannot follow.
INDEX_HINT = (
    "create the index while the table is small or during a quiet window; for a large busy "
    "table build it with CREATE INDEX CONCURRENTLY in a separate step outside drizzle's "
    "migrator (its one transaction rejects CONCURRENTLY), then record it in the schema")


class JournalEntry(NamedTuple):
    idx: int
    tag: str
    when: int
    line: int


class JournalError(NamedTuple):
    line: int
    reason: str


# Patterns are compiled on first use (re caches them): most repositories need few of them.
_CONFIG_NAME = r"drizzle\.config\.[cm]?[jt]s|drizzle\.config\.json"
_OUT = r"""\bout\s*:\s*["'`]([^"'`]+)["'`]"""
_SCHEMA = r"""\bschema\s*:\s*(\[[^\]]*\]|["'`][^"'`]+["'`])"""
_QUOTED = r"""["'`]([^"'`]+)["'`]"""


class DrizzleFramework(SqlDirectory):
    tracking_tables = frozenset({"__drizzle_migrations"})
    reads = tuple(f"drizzle.config.{ext}" for ext in ("ts", "js", "mts", "cts", "mjs", "cjs",
                                                      "json"))
    markers = (*reads, "/_journal.json")
    detected_by = "drizzle.config.* or meta/_journal.json"
    tracking_schemas = frozenset({"drizzle"})
    journal = JOURNAL
    statement_breakpoint = "--> statement-breakpoint"
    #: drizzle-orm's migrator wraps every pending migration in one transaction.
    one_transaction_per_run = True

    def __init__(self) -> None:
        super().__init__(
            "drizzle", r"(?P<version>\d{4,})_.+\.sql", "<NNNN>_<tag>.sql",
            "npx drizzle-kit generate",
        )
        self.claims_directories = True

    def new_migration(self, plan: Plan) -> list[Write]:
        return _new_files(plan, self.statement_breakpoint)

    def listed_order(self, migrations: str, paths: list[str],
                     read: Reader) -> list[str] | None:
        data = read(f"{migrations}/{JOURNAL}")
        entries = parse_journal(data) if data is not None else None
        if not isinstance(entries, list):
            return None
        present = set(paths)
        ordered = [f"{migrations}/{e.tag}.sql" for e in sorted(entries, key=lambda e: e.idx)]
        return [p for p in ordered if p in present]

    def journal_findings(self, project: Project, changeset: ChangeSet,
                         files: dict[str, str]) -> list[Finding]:
        journal_path = f"{project.migrations}/{JOURNAL}"
        journal = changeset.candidate.read(journal_path)
        if journal is None:
            return [Finding("MG121", journal_path, None, "the Drizzle journal is missing",
                            "regenerate it with drizzle-kit generate, or restore it from the "
                            "base")] if files else []
        entries = parse_journal(journal)
        if not isinstance(entries, list):
            return [Finding("MG121", journal_path, entries.line,
                            f"the Drizzle journal cannot be read: {entries.reason}",
                            "restore it from the base and run drizzle-kit generate again")]
        found = _membership(journal_path, files, entries)
        found += snapshot_chain_findings(project, changeset, entries, "linear")
        base = changeset.base_files([project.migrations])
        merged = parse_journal(changeset.read_base({journal_path: base[journal_path]})
                               [journal_path]) if journal_path in base else []
        if isinstance(merged, list) and merged:
            found += _out_of_order(journal_path, entries, merged)
        return found

    def recorded_version(self, rel: str) -> str:
        return rel.removesuffix(".sql")

    def detect(self, paths: list[str], read: Reader, *,
               every: Sequence[str] = ()) -> list[Found]:
        """Projects of ``drizzle.config.*`` files and journals; ``out`` and ``schema``
        resolve as drizzle-kit resolves them: against the directory it runs in (see
        :func:`run_directory`)."""
        configs: dict[str, tuple[str, str, str]] = {}  # migrations -> (config, text, run dir)
        config_files = [p for p in paths if "drizzle.config." in p
                        and re.fullmatch(_CONFIG_NAME, posixpath.basename(p))]
        # Every path is looked at only for a config: most repositories have none.
        everything = (list(every) or paths) if config_files else paths
        package_dirs = {posixpath.dirname(p) for p in everything if p.endswith("package.json")
                        } if config_files else set()
        for cfg in config_files:
            text = text_of(read, cfg)
            run_dir = run_directory(cfg, package_dirs, read)
            out = re.search(_OUT, text)
            configs[join(run_dir, out.group(1) if out else "drizzle")] = (cfg, text, run_dir)
        found: list[Found] = []
        dirs = {posixpath.dirname(posixpath.dirname(p)) for p in paths
                if p.endswith("/meta/_journal.json")}
        for migrations in sorted(dirs | set(configs)):
            found.append(self._found(migrations, configs, everything))
        return found

    def _found(self, migrations: str, configs: dict[str, tuple[str, str, str]],
               everything: list[str]) -> Found:
        cfg, text, run_dir = configs.get(migrations, ("", "", posixpath.dirname(migrations)))
        if not cfg:
            return Found(migrations, (), "no schema in drizzle.config", run_dir)
        schema: tuple[str, ...] = ()
        source = "no schema in drizzle.config"
        match = re.search(_SCHEMA, text)
        if match:
            schema = tuple(join(run_dir, g) for g in re.findall(_QUOTED, match.group(1)))
            source = f"schema in {cfg}"
        command = self.generate_command + (f" (in {run_dir}/)" if run_dir else "")
        return Found(migrations, schema, source, run_dir, command, framework_config=cfg,
                     notes=missing_paths(everything, run_dir, migrations, schema))

    def rehint(self, findings: list[Finding]) -> list[Finding]:
        """Lint findings with hints a Drizzle project can follow."""
        return [rehint_finding(f) for f in findings]

    def immutable_extras(self, project: Project, changeset: ChangeSet,
                         check: str) -> list[Finding]:
        return immutable_findings(project, changeset, check)

    def prove_required(self, project: Project, changeset: ChangeSet,
                       findings: list[Finding]) -> Outcome | None:
        return prove_required(project, changeset, findings)

    def declared_schema(self, project: Project,
                        changeset: ChangeSet) -> tuple[str, str] | None:
        return export_schema(project, changeset)

    def applied_paths(self, conn: Any, project: Project, changes: ChangeSet) -> set[str]:
        status = project_status(conn, project, changes)
        return {*status.applied, *status.edited}

    def write_status(self, conn: Any, project: Project, changes: ChangeSet, out: Any) -> bool:
        write_status(out, project.name, project_status(conn, project, changes))
        return True





FRAMEWORK = DrizzleFramework()


def template_body(sql: str) -> str:
    """A new-migration template for a Drizzle project: without the CONCURRENTLY advice
    its migrator cannot follow."""
    sql = re.sub(r"CREATE INDEX\s*(?:--\s*)?CONCURRENTLY,\s*", "", sql)
    note = ("-- drizzle's migrator runs all pending migrations in one transaction: no "
            "CONCURRENTLY, VACUUM or other statement PostgreSQL refuses inside one.\n")
    return note + sql


def rehint_finding(finding: Finding) -> Finding:
    if finding.code == "MG340":
        return finding._replace(
            message=finding.message.replace(
                "inside the transaction the migration runner wraps this file in",
                "inside the one transaction drizzle's migrator runs all pending migrations "
                "in"),
            hint=ONE_TRANSACTION_HINT)
    if finding.code == "MG301":
        return finding._replace(hint=INDEX_HINT)
    if "CONCURRENTLY" in finding.hint:
        return finding._replace(hint=finding.hint + "; with drizzle's migrator, do any "
                                "CONCURRENTLY step outside it (its one transaction rejects it)")
    return finding


# -- where drizzle-kit runs -------------------------------------------------------------------


def missing_paths(paths: list[str], run_dir: str, migrations: str,
                  schema: tuple[str, ...]) -> tuple[str, ...]:
    """Notes for configured paths that resolve to nothing in the snapshot."""
    where = f"resolved from {run_dir or '.'}/, where drizzle-kit runs"
    notes: list[str] = []
    if not any(p.startswith(migrations + "/") for p in paths):
        notes.append(f"out resolves to {migrations}/ ({where}), which holds no "
                     "migrations yet: nothing to check there until drizzle-kit generate "
                     "writes one")
    for glob in schema:
        literal = re.split(r"[*?\[]", glob, maxsplit=1)[0].rstrip("/")
        if not any(p.startswith(literal) for p in paths):
            notes.append(f"schema {glob} ({where}) matches no file: changes to the "
                         "schema cannot be watched")
    return tuple(notes)


_CONFIG_ARG = r"""--config(?:=|\s+)["']?([^\s"'&;|]+)"""


def run_directory(cfg: str, package_dirs: set[str],
                  read: Callable[[str], bytes | None]) -> str:
    """The directory drizzle-kit runs in for ``cfg``: the nearest enclosing package whose
    package.json runs drizzle-kit with ``--config`` naming it, else the config's own."""
    import json

    here = posixpath.dirname(cfg)
    ancestors = [here]
    while ancestors[-1]:
        ancestors.append(posixpath.dirname(ancestors[-1]))
    for directory in ancestors:
        if directory not in package_dirs:
            continue
        try:
            scripts = json.loads(text_of(read, join(directory, "package.json"))).get("scripts")
        except (ValueError, AttributeError):
            continue
        for script in (scripts or {}).values() if isinstance(scripts, dict) else ():
            if not isinstance(script, str) or "drizzle-kit" not in script:
                continue
            if any(join(directory, arg) == cfg for arg in re.findall(_CONFIG_ARG, script)):
                return directory
    return here


# -- the journal --------------------------------------------------------------------------


def _document(data: bytes) -> tuple[str, list[Any]] | JournalError:
    import json  # only Drizzle projects pay for it

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return JournalError(data[: exc.start].count(b"\n") + 1, "not valid UTF-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return JournalError(exc.lineno, f"not valid JSON: {exc.msg}")
    entries = document.get("entries") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        return JournalError(1, 'no "entries" list')
    return text, entries


def _tag_line(text: str, tag: str) -> int:
    import json

    match = re.search(r'"tag"\s*:\s*' + re.escape(json.dumps(tag)), text)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def _membership(journal_path: str, files: dict[str, str],
                entries: list[JournalEntry]) -> list[Finding]:
    found = [Finding("MG119", journal_path, e.line,
                     f"journal entry {e.idx} names {e.tag}.sql, which does not exist",
                     "add the file, or remove the entry with drizzle-kit drop")
             for e in entries if f"{e.tag}.sql" not in files]
    tags = {e.tag for e in entries}
    found += [Finding("MG120", path, None,
                      "migration is not in meta/_journal.json: drizzle-kit migrate never runs it",
                      "generate migrations with drizzle-kit generate (it updates the journal)")
              for rel, path in sorted(files.items()) if rel.removesuffix(".sql") not in tags]
    return found


def _out_of_order(journal_path: str, entries: list[JournalEntry],
                  merged: list[JournalEntry]) -> list[Finding]:
    """New entries must come after the merged ones, by ``idx`` and by ``when``: drizzle's
    migrator skips an entry whose ``when`` is not after the newest applied one."""
    merged_tags = {e.tag for e in merged}
    last_idx = max(e.idx for e in merged)
    last_when = max(e.when for e in merged)
    hint = "regenerate the migration on top of the base: drizzle-kit generate"
    found: list[Finding] = []
    for entry in (e for e in entries if e.tag not in merged_tags):
        if entry.idx <= last_idx:
            found.append(Finding(
                "MG110", journal_path, entry.line,
                f"new journal entry {entry.tag} (idx {entry.idx}) comes before the newest "
                f"merged entry (idx {last_idx})", hint))
        elif entry.when <= last_when:
            found.append(Finding(
                "MG110", journal_path, entry.line,
                f"new journal entry {entry.tag} has when {entry.when}, not after the newest "
                f"merged entry's {last_when}: drizzle's migrator silently skips it on every "
                "database that applied the merged one", hint))
    return found


def parse_journal(data: bytes) -> list[JournalEntry] | JournalError:
    document = _document(data)
    if isinstance(document, JournalError):
        return document
    text, entries = document
    parsed: list[JournalEntry] = []
    for number, entry in enumerate(entries):
        if not (isinstance(entry, dict) and isinstance(entry.get("tag"), str)
                and isinstance(entry.get("idx"), int)):
            return JournalError(1, f'entry {number} lacks a string "tag" or an integer "idx"')
        when = entry.get("when")
        parsed.append(JournalEntry(entry["idx"], entry["tag"],
                                   when if isinstance(when, int) else 0,
                                   _tag_line(text, entry["tag"])))
    return parsed


def _raw_entries(data: bytes) -> dict[str, dict[str, Any]]:
    """Journal entries by tag, as written (an unreadable journal has none)."""
    document = _document(data)
    if isinstance(document, JournalError):
        return {}
    return {e["tag"]: e for e in document[1] if isinstance(e, dict) and isinstance(
        e.get("tag"), str)}


def snapshot_name(tag: str) -> str:
    """The snapshot drizzle-kit writes beside a migration: ``meta/<prefix>_snapshot.json``."""
    return f"meta/{tag.split('_', 1)[0]}_snapshot.json"


# -- immutability of the journal and the snapshots -----------------------------------------


def immutable_findings(project: Project, changeset: ChangeSet, check: str) -> list[Finding]:
    """MG102/MG103 for a merged journal entry or snapshot that was edited or removed."""
    base_commit = changeset.base.commit
    if base_commit is None:
        return []
    prefix = project.migrations + "/"
    base = {p: e for p, e in changeset.base_files([project.migrations]).items()
            if p.startswith(prefix)}
    candidate = changeset.candidate.below(project.migrations)
    where = f"merged in {changeset.base.label}"
    findings = _journal_edits(project, changeset, base, candidate, where, check)
    restore = f"git restore --source={base_commit[:12]} --staged --worktree -- "
    for path, old in sorted(base.items()):
        if not _SNAPSHOT.fullmatch(path[len(prefix):]):
            continue
        new = candidate.get(path)
        if new is not None and new.oid == old.oid:
            continue
        what = "deleted" if new is None else "edited"
        findings.append(Finding(
            "MG103" if new is None else "MG102", path, None,
            f"Drizzle snapshot {what} after it was merged ({where}): drizzle-kit diffs the "
            "schema against the newest snapshot, so the next generated migration is wrong",
            f"restore it: {restore}{path}", check=check, project=project.name))
    return findings


def _journal_edits(project: Project, changeset: ChangeSet, base: dict[str, Entry],
                   candidate: dict[str, Entry], where: str, check: str) -> list[Finding]:
    path = f"{project.migrations}/{JOURNAL}"
    old, new = base.get(path), candidate.get(path)
    if old is None or new is None or old.oid == new.oid:
        return []  # a deleted journal is MG121 (linear)
    old_entries = _raw_entries(changeset.read_base({path: old}).get(path, b""))
    data = changeset.candidate.read(path) or b""
    new_entries = _raw_entries(data)
    text = data.decode("utf-8-sig", errors="replace")
    findings: list[Finding] = []
    for tag, entry in old_entries.items():
        now = new_entries.get(tag)
        if now is None:
            findings.append(Finding(
                "MG103", path, None,
                f"merged journal entry {tag} (idx {entry.get('idx')}) was removed ({where}): "
                "drizzle's migrator no longer runs that migration",
                "restore the entry from the base; to undo a migration, add a new one",
                check=check, project=project.name))
            continue
        changed = [k for k in IMMUTABLE_ENTRY_FIELDS if entry.get(k) != now.get(k)]
        if changed:
            findings.append(Finding(
                "MG102", path, _tag_line(text, tag),
                f"merged journal entry {tag} edited ({where}): "
                + ", ".join(f"{k} {entry.get(k)!r} -> {now.get(k)!r}" for k in changed),
                "restore the entry's values from the base (drizzle's migrator compares "
                "\"when\" with the database; an edited entry is skipped or re-run)",
                check=check, project=project.name))
    return findings


# -- the snapshot chain ---------------------------------------------------------------------


def snapshot_chain_findings(project: Project, changeset: ChangeSet,
                            entries: list[JournalEntry], check: str) -> list[Finding]:
    """MG126 where a new or changed snapshot's ``prevId`` is not the id of the snapshot
    before it in journal order (what ``drizzle-kit check`` reports as a collision)."""
    import json

    prefix = project.migrations + "/"
    candidate = changeset.candidate.below(project.migrations)
    base = changeset.base_files([project.migrations])
    ordered = [prefix + snapshot_name(e.tag) for e in sorted(entries, key=lambda e: e.idx)]
    present = [p for p in ordered if p in candidate]
    touched = {p for p in present if p not in base or base[p].oid != candidate[p].oid}
    if not touched:
        return []
    blobs = changeset.candidate.read_many(present)
    findings: list[Finding] = []
    previous_id, previous_path = _ROOT_SNAPSHOT_ID, ""
    for path in present:
        try:
            document = json.loads(blobs.get(path, b"").decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            document = None
        if not isinstance(document, dict):
            if path in touched:
                findings.append(Finding(
                    "MG126", path, None, "Drizzle snapshot is not a JSON object",
                    "regenerate it: restore meta/ from the base and run drizzle-kit generate",
                    check=check, project=project.name))
            return findings
        if path in touched and document.get("prevId") != previous_id:
            after = f"the id of {previous_path}" if previous_path else "the root id"
            findings.append(Finding(
                "MG126", path, None,
                f"snapshot prevId {document.get('prevId')!r} is not {after} "
                f"({previous_id!r}): the snapshot chain forks or skips a migration",
                "delete this migration and its snapshot, then run drizzle-kit generate again "
                "on top of the base (drizzle-kit check shows the collision)",
                check=check, project=project.name))
        previous_id, previous_path = str(document.get("id")), path
    return findings


# -- the migrations table, as drizzle-orm reads it -----------------------------------------


class Status(NamedTuple):
    applied: list[str]  # migration paths
    pending: list[str]
    edited: list[str]  # applied by when, but the database ran other bytes
    unknown: list[tuple[str, int | None]]  # (hash, created_at) no file of the tree has


def migrations_table(config_text: str) -> tuple[str, str]:
    """``(schema, table)`` of drizzle's bookkeeping table, from ``migrations: {...}`` of a
    drizzle config (drizzle's defaults otherwise)."""
    section = re.search(r"\bmigrations\s*:\s*\{([^}]*)\}", config_text)
    body = section.group(1) if section else ""
    table = re.search(r"""\btable\s*:\s*["'`]([^"'`]+)["'`]""", body)
    schema = re.search(r"""\bschema\s*:\s*["'`]([^"'`]+)["'`]""", body)
    return (schema.group(1) if schema else DEFAULT_MIGRATIONS_SCHEMA,
            table.group(1) if table else DEFAULT_MIGRATIONS_TABLE)


def status_query(schema: str, table: str) -> str:
    def quote(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    return f"SELECT hash, created_at FROM {quote(schema)}.{quote(table)} ORDER BY id"


def read_status(rows: list[tuple[Any, ...]], entries: list[JournalEntry],
                files: dict[str, bytes], migrations: str) -> Status:
    """What drizzle-orm's migrator would run on this database: an entry is pending only
    when its ``when`` is greater than the newest row's ``created_at``; a row's hash is the
    SHA-256 of the file's bytes when it ran."""
    import hashlib

    stored = {str(h): (int(c) if c is not None else None) for h, c in rows}
    last = max((c for c in stored.values() if c is not None), default=None)
    applied: list[str] = []
    pending: list[str] = []
    edited: list[str] = []
    known: set[str] = set()
    for entry in sorted(entries, key=lambda e: e.idx):
        path = f"{migrations}/{entry.tag}.sql"
        digest = hashlib.sha256(files.get(path, b"")).hexdigest()
        known.add(digest)
        if last is not None and entry.when <= last:
            (applied if digest in stored else edited).append(path)
        else:
            pending.append(path)
    unknown = [(h, c) for h, c in stored.items() if h not in known]
    return Status(applied, pending, edited, unknown)


def project_status(conn: Any, project: Project, changes: ChangeSet) -> Status:
    """Read the project's migrations table (read-only) and judge each journal entry."""
    import psycopg

    from migration_guard.errors import GuardError

    candidate = changes.candidate
    config_text = (candidate.read(project.framework_config) or b"").decode(
        "utf-8", errors="replace") if project.framework_config else ""
    schema, table = migrations_table(config_text)
    journal_path = f"{project.migrations}/{JOURNAL}"
    entries = parse_journal(candidate.read(journal_path) or b'{"entries": []}')
    if isinstance(entries, JournalError):
        raise GuardError(f"{journal_path}:{entries.line}: {entries.reason}",
                         "restore the journal from git, or regenerate it with drizzle-kit")
    files = candidate.read_many([f"{project.migrations}/{e.tag}.sql" for e in entries])
    try:
        rows = list(conn.execute(status_query(schema, table)).fetchall())
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
        conn.rollback()
        rows = []
    return read_status(rows, entries, files, project.migrations)


def write_status(out: Any, name: str, status: Status) -> None:
    out.write(f"{name} (drizzle): {len(status.applied) + len(status.edited)} applied, "
              f"{len(status.pending)} pending\n")
    for path in status.pending:
        out.write(f"  pending: {path}\n")
    for path in status.edited:
        out.write(f"  applied, but the file changed since: {path} (its hash is not in the "
                  "migrations table)\n")
    for digest, created_at in status.unknown:
        out.write(f"  applied but unknown: hash {digest[:12]} (created_at {created_at}): no "
                  "migration file of the tree has these bytes\n")


# -- "would drizzle-kit generate a migration?" -----------------------------------------------


_NO_CHANGES = "No schema changes, nothing to migrate"


def prove_required(project: Project, changeset: ChangeSet,
                   findings: list[Finding]) -> Outcome:
    """Run drizzle-kit generate on a throwaway export of the checked snapshot: a migration
    it writes is the one missing (MG101 with its SQL); none written and drizzle-kit saying
    so is a pass; anything else (a rename it must ask about) could not be judged."""
    from pathlib import Path

    from migration_guard.git.toolrun import exported, find_installed

    worktree = Path(changeset.git.toplevel)
    binary = find_installed(worktree, project.root, "drizzle-kit")
    if binary is None or project.framework_config is None:
        why = ("drizzle-kit is not installed (no node_modules/.bin/drizzle-kit from "
               f"{project.root or '.'}/ up)" if binary is None else "no drizzle.config found")
        return Outcome("required", project.name, [f._replace(
            message=f"{f.message}; judged by file name: {why}") for f in findings], [])
    config = posixpath.relpath(project.framework_config, project.root or ".")
    with exported(changeset, project.root) as (root, run_dir):
        out_dir = root / project.migrations
        before = _sql_files(out_dir)
        proc = _generate(binary, run_dir, config)
        written = sorted(_sql_files(out_dir) - before)
        sql = {name: (out_dir / name).read_text(errors="replace") for name in written}
    output = _plain(proc.stdout + proc.stderr).replace(f"{root}/", "")
    where = f" (in {project.root}/)" if project.root else ""
    if written:
        first = findings[0]
        generated = " ".join(" ".join(text.replace(FRAMEWORK.statement_breakpoint, "").split())
                             for text in sql.values())
        return Outcome("required", project.name, [first._replace(
            message=f"schema changed but no migration was added to {project.migrations}/: "
                    f"drizzle-kit generate would write a migration: {generated}",
            hint=f"generate it and stage it: npx drizzle-kit generate{where}")], [])
    if proc.returncode == 0 and _NO_CHANGES in output:
        return Outcome("required", project.name, [], [Note(
            findings[0].path, "drizzle-kit generate (run on the checked snapshot) writes no "
            "migration: the change has no schema effect", "required", project.name)])
    from migration_guard.errors import GuardError

    raise GuardError(
        f"drizzle-kit generate{where} could not decide whether {project.name} needs a "
        f"migration (exit {proc.returncode}): {output[-2000:] or 'no output'}",
        "run npx drizzle-kit generate yourself and answer its questions (a rename), then "
        "stage the migration it writes")




def _sql_files(directory: Any) -> set[str]:
    return {p.name for p in directory.glob("*.sql")} if directory.is_dir() else set()


def _generate(binary: Any, run_dir: Any, config: str) -> Any:
    from migration_guard.git.toolrun import run

    return run([str(binary), "generate", "--config", config], run_dir,
               what="drizzle-kit generate")


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _plain(text: str) -> str:
    """Terminal output without colour and cursor codes, on one line."""
    return " ".join(_ANSI.sub("", text).split())


def export_schema(project: Project, changeset: ChangeSet) -> tuple[str, str]:
    """The SQL the TypeScript schema declares, printed by ``drizzle-kit export`` on a
    throwaway export of the checked snapshot."""
    from pathlib import Path

    from migration_guard.errors import GuardError
    from migration_guard.git.toolrun import exported, find_installed, run

    binary = find_installed(Path(changeset.git.toplevel), project.root, "drizzle-kit")
    if binary is None or project.framework_config is None:
        why = ("drizzle-kit is not installed (no node_modules/.bin/drizzle-kit from "
               f"{project.root or '.'}/ up)" if binary is None
               else "no drizzle.config names the schema")
        raise GuardError(
            f"drift of {project.name}: cannot read the schema the TypeScript declares: {why}",
            "install the project's packages (npm ci) so drizzle-kit export can print it, or "
            "set drift: false for this project")
    config = posixpath.relpath(project.framework_config, project.root or ".")
    with exported(changeset, project.root) as (root, run_dir):
        proc = run([str(binary), "export", "--config", config], run_dir,
                   what="drizzle-kit export")
    if proc.returncode != 0:
        output = _plain(proc.stdout + proc.stderr).replace(f"{root}/", "")
        raise GuardError(f"drizzle-kit export failed (exit {proc.returncode}): {output}",
                         f"run npx drizzle-kit export in {project.root or '.'}/ and fix what "
                         "it reports")
    where = project.schema[0] if project.schema else project.framework_config
    return where, proc.stdout


# -- a new migration, as ``drizzle-kit generate --custom`` writes one ----------------------


def _with_breakpoints(sql: str, breakpoint: str) -> str:
    """Drizzle's file format: a breakpoint line after each statement but the last."""
    lines = sql.splitlines()
    out: list[str] = []
    for number, line in enumerate(lines):
        out.append(line)
        later = [x for x in lines[number + 1:] if x.strip() and not x.lstrip().startswith("--")]
        if line.rstrip().endswith(";") and later:
            out.append(breakpoint)
    return "\n".join(out) + "\n"


def _json_layout(text: str) -> tuple[str, str]:
    """The indent and final newline of a JSON file, to write it back the same way."""
    match = re.search(r"\n([ \t]+)\S", text)
    return (match.group(1) if match else "  "), ("\n" if text.endswith("\n") else "")


def _load_json(read: Reader, rel: str) -> tuple[Any, str, str] | None:
    import json

    data = read(rel)
    if data is None:
        return None
    try:
        text = data.decode("utf-8-sig")
        return (json.loads(text), *_json_layout(text))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GuardError(f"{rel}: cannot read it: {exc}",
                         "fix or regenerate it (drizzle-kit generate), then run new again"
                         ) from None


def _dump_json(document: Any, indent: str, newline: str) -> str:
    import json

    return json.dumps(document, indent=indent, ensure_ascii=False) + newline


def _new_files(plan: Plan, breakpoint: str) -> list[Write]:
    import uuid

    from migration_guard.frameworks.newfile import Write, newest_number, next_version, version_style

    journal_rel = plan.at("meta/_journal.json")
    loaded = _load_json(plan.read, journal_rel)
    journal, indent, newline = loaded or ({"version": "7", "dialect": "postgresql",
                                           "entries": []}, "  ", "")
    entries = journal.get("entries") if isinstance(journal, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise GuardError(f'{journal_rel}: no "entries" list of objects',
                         "restore the journal from git, or regenerate it with drizzle-kit")
    last: dict[str, Any] = entries[-1] if entries else {}
    idx = max((int(e.get("idx", 0)) for e in entries), default=-1) + 1
    tags = [Version((int(m.group()),), m.group()) for e in entries
            if (m := re.match(r"\d+", str(e.get("tag", ""))))]
    style = version_style(tags, "sequence", unix=True)
    if style == "sequence":
        prefix = str(max(idx, newest_number(plan.versions) + 1)).zfill(4)
    else:
        prefix = next_version([*tags, *plan.versions], style, plan.now, 14)
    tag = f"{prefix}_{plan.slug}"
    when = max(int(plan.now.timestamp() * 1000),
               max((int(e.get("when", 0)) for e in entries), default=0) + 1)
    entries.append({"idx": idx, "version": str(last.get("version", journal.get("version", "7"))),
                    "when": when, "tag": tag, "breakpoints": last.get("breakpoints", True)})
    up = template_body(plan.up)
    sql = _with_breakpoints(up, breakpoint) if entries[-1]["breakpoints"] else up
    writes = [Write(plan.at(f"{tag}.sql"), sql)]
    previous = re.match(r"\d+", str(last.get("tag", "")))
    snapshot = _load_json(plan.read, plan.at(f"meta/{previous.group()}_snapshot.json")) \
        if previous else None
    if snapshot is not None and isinstance(snapshot[0], dict):
        # What drizzle-kit generate --custom does: the schema is unchanged as far as
        # drizzle-kit knows, so the new snapshot is the previous one with new ids.
        document, snap_indent, snap_newline = snapshot
        document = {**document, "id": str(uuid.uuid4()), "prevId": document.get("id")}
        writes.append(Write(plan.at(f"meta/{prefix}_snapshot.json"),
                            _dump_json(document, snap_indent, snap_newline)))
    writes.append(Write(journal_rel, _dump_json(journal, indent, newline),
                        "updated" if loaded is not None else "wrote"))
    return writes
