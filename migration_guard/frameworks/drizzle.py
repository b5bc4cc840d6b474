"""Drizzle: ``NNNN_tag.sql`` files whose order and membership ``meta/_journal.json`` records,
in the ``out`` directory ``drizzle.config.*`` names."""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from migration_guard.errors import GuardError
from migration_guard.findings import Finding
from migration_guard.frameworks import Found, Reader, Version
from migration_guard.frameworks.sqldir import SqlDirectory, join, text_of

if TYPE_CHECKING:  # a new migration is written rarely: keep detection's imports light
    from migration_guard.frameworks.newfile import Plan, Write


JOURNAL = "meta/_journal.json"


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
    applied_query = "SELECT max(created_at) FROM drizzle.__drizzle_migrations"

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

    def journal_findings(self, journal_path: str, files: dict[str, str], journal: bytes | None,
                         base_journal: bytes | None) -> list[Finding]:
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
        merged = parse_journal(base_journal) if base_journal is not None else []
        if isinstance(merged, list) and merged:
            found += _out_of_order(journal_path, entries, merged)
        return found

    def recorded_version(self, rel: str) -> str:
        return rel.removesuffix(".sql")

    def applied(self, recorded: set[str], versions: list[str]) -> set[str]:
        return set(versions) if recorded else set()

    def detect(self, paths: list[str], read: Reader) -> list[Found]:
        configs: dict[str, tuple[str, str]] = {}  # migrations dir -> (config file, text)
        for cfg in (p for p in paths if "drizzle.config." in p
                    and re.fullmatch(_CONFIG_NAME, posixpath.basename(p))):
            text = text_of(read, cfg)
            out = re.search(_OUT, text)
            configs[join(posixpath.dirname(cfg), out.group(1) if out else "drizzle")] = \
                (cfg, text)
        found: list[Found] = []
        dirs = {posixpath.dirname(posixpath.dirname(p)) for p in paths
                if p.endswith("/meta/_journal.json")}
        for migrations in sorted(dirs | set(configs)):
            schema: tuple[str, ...] = ()
            source = "no schema in drizzle.config"
            root = posixpath.dirname(migrations)
            if migrations in configs:
                cfg, text = configs[migrations]
                root = posixpath.dirname(cfg)
                match = re.search(_SCHEMA, text)
                if match:
                    schema = tuple(join(root, g) for g in re.findall(_QUOTED, match.group(1)))
                    source = f"schema in {cfg}"
            found.append(Found(migrations, schema, source, root))
        return found


FRAMEWORK = DrizzleFramework()


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
    sql = _with_breakpoints(plan.up, breakpoint) if entries[-1]["breakpoints"] else plan.up
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
    merged_tags = {e.tag for e in merged}
    last_idx = max(e.idx for e in merged)
    last_when = max(e.when for e in merged)
    return [Finding("MG110", journal_path, e.line,
                    f"new journal entry {e.tag} (idx {e.idx}) comes before the newest merged "
                    f"entry (idx {last_idx})",
                    "regenerate the migration on top of the base: drizzle-kit generate")
            for e in entries if e.tag not in merged_tags
            and (e.idx <= last_idx or e.when < last_when)]


def parse_journal(data: bytes) -> list[JournalEntry] | JournalError:
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
    parsed: list[JournalEntry] = []
    for number, entry in enumerate(entries):
        if not (isinstance(entry, dict) and isinstance(entry.get("tag"), str)
                and isinstance(entry.get("idx"), int)):
            return JournalError(1, f'entry {number} lacks a string "tag" or an integer "idx"')
        when = entry.get("when")
        tag_match = re.search(r'"tag"\s*:\s*' + re.escape(json.dumps(entry["tag"])), text)
        line = text.count("\n", 0, tag_match.start()) + 1 if tag_match else 1
        parsed.append(JournalEntry(entry["idx"], entry["tag"],
                                   when if isinstance(when, int) else 0, line))
    return parsed
