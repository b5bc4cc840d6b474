"""migrations-immutable: every migration in the base tree has the identical blob now.

Trees are compared, not diffs: a path present in the base must be present in the
candidate with the same blob id and mode. Blob ids are committed bytes, so line-ending
conversion in the working tree can never raise a false alarm.
"""

from __future__ import annotations

from migration_guard.config import Config
from migration_guard.findings import Finding, Note, Outcome
from migration_guard.git.changeset import ChangeSet
from migration_guard.git.repo import Entry
from migration_guard.projects import Project
from migration_guard.shell import quote

CHECK = "immutable"


def _nature_of_edit(old: bytes, new: bytes) -> str:
    """Say what kind of edit it is when it is one of the confusing ones."""
    if old.replace(b"\r\n", b"\n") == new.replace(b"\r\n", b"\n"):
        return " (only line endings changed)"
    bom = b"\xef\xbb\xbf"
    if old.removeprefix(bom) == new.removeprefix(bom):
        return " (only a byte order mark was added or removed)"
    try:
        old.decode("utf-8")
        new.decode("utf-8")
    except UnicodeDecodeError:
        return " (its text encoding changed)"
    return ""


def _restore_hint(base_commit: str, path: str) -> str:
    return (f"restore it: git restore --source={base_commit[:12]} --staged --worktree -- "
            f"{quote(path)} and put the change in a new migration")


def check(project: Project, changeset: ChangeSet, config: Config) -> Outcome:
    """MG102-MG104 for merged migrations edited, deleted, renamed or given another mode."""
    fw = project.fw
    base_commit = changeset.base.commit
    if base_commit is None:
        return Outcome(CHECK, project.name, [], [])
    cut = len(project.migrations) + 1
    base = {p: e for p, e in project.inside(changeset.base_files([project.migrations])).items()
            if fw.is_migration(p[cut:])}
    candidate = changeset.candidate.below(project.migrations)  # where base paths can be
    exceptions = {(e.path, e.blob): e for e in config.exceptions}
    by_path = {e.path: e for e in config.exceptions}
    findings: list[Finding] = []
    notes: list[Note] = []
    edited: dict[str, tuple[Entry, Entry]] = {}
    where = f"merged in {changeset.base.label}"
    for path, old in sorted(base.items()):
        new = candidate.get(path)
        if new is None:
            renamed = sorted(p for p, e in changeset.candidate.files.items()
                             if e.oid == old.oid and p not in base and p != path)
            what = f"renamed to {renamed[0]}" if renamed else "deleted"
            findings.append(Finding(
                "MG103", path, None,
                f"migration {what} after it was merged ({where}; blob {old.oid[:12]})",
                _restore_hint(base_commit, path),
                check=CHECK, project=project.name,
            ))
            continue
        if new == old:
            continue
        exception = exceptions.get((path, new.oid))
        if exception is not None:
            notes.append(Note(path, f"exception honoured for blob {new.oid[:12]}: "
                              f"{exception.reason} ({config.source}:{exception.line})",
                              CHECK, project.name))
            continue
        if new.oid == old.oid:
            findings.append(Finding(
                "MG104", path, None,
                f"migration changed mode {old.mode} -> {new.mode} after it was merged ({where})",
                f"restore the mode: git update-index --chmod=-x -- {quote(path)}"
                if new.mode == "100755" else _restore_hint(base_commit, path),
                check=CHECK, project=project.name,
            ))
            continue
        edited[path] = (old, new)
    if edited:
        olds = changeset.read_base({p: o for p, (o, _) in edited.items()})
        news = changeset.candidate.read_many(list(edited))
        for path, (old, new) in edited.items():
            nature = _nature_of_edit(olds.get(path, b""), news.get(path, b""))
            hint = _restore_hint(base_commit, path)
            stale = by_path.get(path)
            if stale is not None:
                hint += (f"; the exception at {config.source}:{stale.line} is for blob "
                         f"{stale.blob[:12]}, not {new.oid[:12]}")
            elif "line endings" in nature:
                hint += "; pin line endings with `*.sql text eol=lf` in .gitattributes"
            findings.append(Finding(
                "MG102", path, None,
                f"migration edited after it was merged{nature} ({where}; blob "
                f"{old.oid[:12]} -> {new.oid[:12]})",
                hint, check=CHECK, project=project.name,
            ))
    findings += fw.immutable_extras(project, changeset, CHECK)
    return Outcome(CHECK, project.name, findings, notes)
