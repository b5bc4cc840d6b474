"""What a run judges: the candidate snapshot, the base it is compared with, and the change.

Three modes: ``staged`` (the index against HEAD, as under ``git commit``), ``range``
(``--from-ref/--to-ref`` or pre-commit's ``PRE_COMMIT_FROM_REF/TO_REF``) and ``all``
(every migration as if new). "Merged" means present in the base tree, where the base
commit is the merge base of the base ref and the candidate, so a base branch that moved
on after the branch point does not make its newer migrations look deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from migration_guard.errors import GuardError
from migration_guard.gitrepo import EMPTY_BLOB_SHA1, Change, Entry, Git

UPSTREAM_CANDIDATES = ("origin/HEAD", "origin/main", "origin/master", "main", "master")


class Snapshot:
    """The files being judged: the index (``commit`` None) or a commit's tree."""

    def __init__(self, git: Git, commit: str | None, label: str) -> None:
        self.git = git
        self.commit = commit
        self.label = label
        if commit is None:
            files = git.ls_index()
            empty = {p for p, e in files.items() if e.oid == EMPTY_BLOB_SHA1}
            for path in git.intent_to_add(empty) if empty else ():
                del files[path]
            self.files = files
        else:
            self.files = git.ls_tree(commit)
        self._cache: dict[str, bytes] = {}

    def read(self, path: str) -> bytes | None:
        return self.read_many([path]).get(path)

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        """Contents of the given regular files (symlinks and submodules are skipped)."""
        wanted = [p for p in paths if p in self.files and p not in self._cache
                  and self.files[p].mode.startswith("100")]
        if wanted:
            blobs = self.git.read_blobs(self.files[p].oid for p in wanted)
            for path in wanted:
                self._cache[path] = blobs[self.files[path].oid]
        return {p: self._cache[p] for p in paths if p in self._cache}


class Base(NamedTuple):
    commit: str | None  # None: the empty tree (first commit, or --all)
    label: str  # what a reviewer reads: which ref, which commit


class ChangeSet:
    def __init__(
        self, git: Git, mode: str, candidate: Snapshot, base: Base, changes: Sequence[Change]
    ) -> None:
        self.git = git
        self.mode = mode
        self.candidate = candidate
        self.base = base
        self.changes = list(changes)
        self._base_files: dict[tuple[str, ...], dict[str, Entry]] = {}
        self._base_blobs: dict[str, bytes] = {}

    def prefetch_base(self, directories: Sequence[str]) -> None:
        """List the base tree below all these directories with one ``ls-tree``."""
        if self.base.commit is not None and directories:
            listed = self.git.ls_tree(self.base.commit, list(directories))
            self._base_files[("*",)] = listed

    def base_files(self, directories: Sequence[str]) -> dict[str, Entry]:
        """Files of the base tree below the given directories."""
        key = tuple(directories)
        if key not in self._base_files:
            if self.base.commit is None:
                self._base_files[key] = {}
            elif ("*",) in self._base_files:
                prefixes = tuple(d + "/" for d in directories)
                self._base_files[key] = {p: e for p, e in self._base_files[("*",)].items()
                                         if p.startswith(prefixes)}
            else:
                self._base_files[key] = self.git.ls_tree(self.base.commit, list(directories))
        return self._base_files[key]

    def read_base(self, entries: dict[str, Entry]) -> dict[str, bytes]:
        """Contents of base entries (shares blobs with the candidate where ids agree)."""
        oids = [e.oid for e in entries.values() if e.oid not in self._base_blobs]
        self._base_blobs.update(self.git.read_blobs(oids))
        return {p: self._base_blobs[e.oid] for p, e in entries.items()}

    @property
    def summary(self) -> str:
        return f"base: {self.base.label}; checked: {self.candidate.label}"


def _short(commit: str) -> str:
    return commit[:12]


def resolve_base_ref(git: Git, ref: str, *, origin: str) -> str:
    commit = git.resolve_commit(ref)
    if commit is None:
        shallow = git.is_shallow()
        raise GuardError(
            f"base {ref} ({origin}) does not exist in this repository"
            + (" (the clone is shallow)" if shallow else ""),
            f"fetch it: git fetch origin {ref.removeprefix('origin/')}"
            + ("; in CI check out with fetch-depth: 0" if shallow else ""),
        )
    return commit


def find_base(
    git: Git,
    tip: str | None,
    *,
    explicit: str | None,
    explicit_origin: str,
) -> Base:
    """The base of ``tip`` (HEAD or the range's to-ref); see the module docstring."""
    if tip is None:
        return Base(None, "none (first commit: every migration is new)")
    if explicit is not None:
        ref, origin = explicit, explicit_origin
        commit = resolve_base_ref(git, ref, origin=origin)
    else:
        found = git.first_existing(UPSTREAM_CANDIDATES)
        if found is None:
            raise GuardError(
                "no base branch found: none of origin/HEAD, origin/main, origin/master, main, "
                "master exists",
                "name the base: --base REF, or `base: REF` in .migration-guard.yaml",
            )
        (ref, commit), origin = found, "default branch"
    merge_base = git.merge_base(commit, tip)
    if merge_base is None:
        if git.is_shallow():
            raise GuardError(
                f"no merge base between {ref} and {_short(tip)}: the clone is shallow",
                "fetch the history: git fetch --unshallow origin (in CI: fetch-depth: 0)",
            )
        raise GuardError(
            f"{ref} and {_short(tip)} share no history (unrelated histories)",
            "name a base that this branch grew from: --base REF",
        )
    if merge_base == commit:
        label = f"{ref} at {_short(commit)} ({origin})"
    else:
        label = f"{ref} at {_short(commit)} ({origin}), merge base {_short(merge_base)}"
    return Base(merge_base, label)


def staged(git: Git, index: Snapshot, *, base_ref: str | None, base_origin: str) -> ChangeSet:
    """The index against HEAD; ``index`` is read first because the config lives in it."""
    head = git.head()
    base = find_base(git, head, explicit=base_ref, explicit_origin=base_origin)
    changes = git.diff_index(head if head else git.empty_tree())
    return ChangeSet(git, "staged", index, base, changes)


def ranged(
    git: Git, from_ref: str, to_ref: str, *, base_ref: str | None, base_origin: str
) -> ChangeSet:
    to_commit = resolve_base_ref(git, to_ref, origin="--to-ref")
    from_commit = resolve_base_ref(git, from_ref, origin="--from-ref")
    candidate = Snapshot(git, to_commit, f"{to_ref} at {_short(to_commit)}")
    if base_ref is None:
        base_ref, base_origin = from_ref, "--from-ref"
    base = find_base(git, to_commit, explicit=base_ref, explicit_origin=base_origin)
    start = git.merge_base(from_commit, to_commit)
    if start is None:
        raise GuardError(
            f"no merge base between {from_ref} and {to_ref}"
            + (" (the clone is shallow)" if git.is_shallow() else ""),
            "fetch the history: git fetch --unshallow origin (in CI: fetch-depth: 0)",
        )
    changes = git.diff_tree(start, to_commit)
    return ChangeSet(git, "range", candidate, base, changes)


def whole_tree(git: Git, to_ref: str | None) -> ChangeSet:
    if to_ref is None:
        candidate = Snapshot(git, None, "every migration in the index (--all)")
    else:
        commit = resolve_base_ref(git, to_ref, origin="--to-ref")
        candidate = Snapshot(git, commit, f"every migration in {to_ref} at {_short(commit)}")
    changes = [Change("A", path) for path in candidate.files]
    return ChangeSet(git, "all", candidate, Base(None, "none (--all: every migration is new)"),
                     changes)
