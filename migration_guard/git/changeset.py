"""What a run judges: the candidate snapshot, the base it is compared with, and the change.

Three modes: ``staged`` (the index against HEAD, as under ``git commit``), ``range``
(``--from-ref/--to-ref`` or pre-commit's ``PRE_COMMIT_FROM_REF/TO_REF``) and ``all``
(every migration as if new). "Merged" means present in the base tree, where the base
commit is the merge base of the base ref and the candidate, so a base branch that moved
on after the branch point does not make its newer migrations look deleted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence

from migration_guard.errors import GuardError
from migration_guard.git.repo import (
    EMPTY_BLOB_SHA1,
    SYMLINK_MODE,
    Change,
    Entry,
    Git,
    IndexListing,
)
from migration_guard.typing_lite import NamedTuple

UPSTREAM_CANDIDATES = ("origin/HEAD", "origin/main", "origin/master", "main", "master")


class Snapshot:
    """The files being judged: the index (``commit`` None) or a commit's tree."""

    def __init__(self, git: Git, commit: str | None, label: str) -> None:
        """For the index, git lists it while the caller works on: the listing is waited
        for when first used."""
        self.git = git
        self.commit = commit
        self.label = label
        self._listing: IndexListing | None = None
        self._pending: Callable[[], IndexListing] | None = None
        self._files: dict[str, Entry] | None = None
        if commit is None:
            git.start_batch()  # HEAD, the base and the config are read right after
            self._pending = git.start_list_index()
        else:
            self._files = git.ls_tree(commit)
        self._cache: dict[str, bytes] = {}
        self._below: dict[str, dict[str, Entry]] = {}

    def _index(self) -> IndexListing | None:
        """The index's listing, without entries ``git add -N`` only announced; None for a
        commit, or once every entry is made (:attr:`files`)."""
        if self._pending is not None:
            listing, self._pending = self._pending(), None
            empty = listing.with_blob(EMPTY_BLOB_SHA1)
            added = self.git.intent_to_add(set(empty)) if empty else set()
            self._listing = listing.without(added) if added else listing
        return self._listing if self._files is None else None

    @property
    def files(self) -> dict[str, Entry]:
        """Every file's entry (made on first use for the index: the fast checks need only
        ``paths``, ``entry`` and ``below``)."""
        if self._files is None:
            listing = self._index()
            assert listing is not None
            self._files = listing.entries()
        return self._files

    @property
    def paths(self) -> list[str]:
        """Every file's path (a shared list, never modify it)."""
        listing = self._index()
        return listing.paths if listing is not None else list(self.files)

    def entry(self, path: str) -> Entry | None:
        listing = self._index()
        return listing.entry(path) if listing is not None else self.files.get(path)

    def below(self, directory: str) -> dict[str, Entry]:
        """The files below ``directory``, found once: several checks ask for the same one
        (the dict is shared, never modify it)."""
        found = self._below.get(directory)
        if found is None:
            prefix = directory + "/"
            listing = self._index()
            if listing is not None:
                found = listing.below(prefix)
            else:
                found = {p: e for p, e in self.files.items() if p.startswith(prefix)}
            self._below[directory] = found
        return found

    def layout(self) -> str | None:
        """The index's paths, and its symbolic links' and submodules' modes and blobs (see
        :meth:`IndexListing.layout`). None for a commit's tree."""
        listing = self._index()
        return listing.layout() if listing is not None else None

    def read(self, path: str) -> bytes | None:
        return self.read_many([path]).get(path)

    def symbolic_links(self) -> dict[str, str]:
        """The snapshot's symbolic links and what each points to (the link's blob)."""
        listing = self._index()
        if listing is not None:
            links = {p: e.oid for p, e in listing.with_mode(SYMLINK_MODE).items()}
        else:
            links = {p: e.oid for p, e in self.files.items() if e.mode == SYMLINK_MODE}
        if not links:
            return {}
        blobs = self.git.read_blobs(links.values())
        return {p: blobs[oid].decode("utf-8", "surrogateescape") for p, oid in links.items()}

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        """Contents of the given regular files (symlinks and submodules are skipped)."""
        paths = list(paths)
        wanted: dict[str, str] = {}
        for path in paths:
            if path not in self._cache and (found := self.entry(path)) is not None \
                    and found.mode.startswith("100"):
                wanted[path] = found.oid
        if wanted:
            blobs = self.git.read_blobs(wanted.values())
            for path, oid in wanted.items():
                self._cache[path] = blobs[oid]
        return {p: self._cache[p] for p in paths if p in self._cache}


class Base(NamedTuple):
    commit: str | None  # None: the empty tree (first commit, or --all)
    label: str  # what a reviewer reads: which ref, which commit


# Starts git on the changes below some paths (all: ()); what it returns waits for them.
Differ = Callable[[Sequence[str]], Callable[[], Sequence[Change]]]


class ChangeSet:
    def __init__(
        self, git: Git, mode: str, candidate: Snapshot, base: Base,
        changes: Sequence[Change] | Differ, *, since: str | None = None,
    ) -> None:
        self.git = git
        # The commit ``changes`` are relative to (HEAD, or the range's start); None: the
        # empty tree, or every file counts as added (--all).
        self.since = since
        self.mode = mode
        self.candidate = candidate
        self.base = base
        # A differ runs when asked, over the paths asked for: immutable and linear compare
        # trees and never need it; required needs its schema sources and migrations only.
        self._differ = changes if callable(changes) else None
        self._changes = None if callable(changes) else list(changes)
        self._pending: Callable[[], Sequence[Change]] | None = None
        self._base_files: dict[tuple[str, ...], dict[str, Entry]] = {}
        self._base_blobs: dict[str, bytes] = {}

    def prefetch_base(self, directories: Sequence[str]) -> None:
        """List the base tree below all these directories with one ``ls-tree``."""
        if self.base.commit is not None and directories:
            self._base_files[("*",)] = self._list_base(list(directories))

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
                self._base_files[key] = self._list_base(list(directories))
        return self._base_files[key]

    def _list_base(self, directories: list[str]) -> dict[str, Entry]:
        """The base commit's files below ``directories``, kept in the cache folder under
        the commit's id and the directories: a commit id names its whole tree, so what is
        kept is never stale, and every commit of a branch has the same base. (Listing two
        directories of 1,000 files from their trees took ~2.5 ms; from the cache, ~0.8.)"""
        from migration_guard.cache import Pack, cache_dir, key_of

        assert self.base.commit is not None
        pack = Pack(os.path.join(cache_dir(), BASE_LISTINGS), keep=KEPT_LISTINGS)
        key = key_of((LISTING_FORMAT, _lister_stamp(), self.base.commit, *directories))
        kept = _listing_of(pack.get(key))
        if kept is not None:
            return kept
        listed = self.git.ls_tree(self.base.commit, directories)
        pack.put(key, {p: tuple(e) for p, e in listed.items()})
        pack.save()
        return listed

    def read_base(self, entries: dict[str, Entry]) -> dict[str, bytes]:
        """Contents of base entries (shares blobs with the candidate where ids agree)."""
        oids = [e.oid for e in entries.values() if e.oid not in self._base_blobs]
        self._base_blobs.update(self.git.read_blobs(oids))
        return {p: self._base_blobs[e.oid] for p, e in entries.items()}

    def start_changes(self) -> None:
        """Start git on :attr:`changes` now: it works while the caller does (a diff of a
        10,000-file index takes git ~5 ms; waiting for one already done, ~0.2 ms)."""
        if self._changes is None and self._pending is None:
            assert self._differ is not None
            self._pending = self._differ(())

    @property
    def changes(self) -> list[Change]:
        """The paths the change adds, modifies or deletes (git's status letter each)."""
        if self._changes is None:
            self.start_changes()
            assert self._pending is not None
            self._changes = list(self._pending())
            self._pending = None
        return self._changes

    def changes_in(self, paths: Sequence[str]) -> list[Change]:
        """The changes to these files and directories (and below them): git diffs only
        there unless every change is known, or asked for, already."""
        if not paths or not all(paths):  # "": the whole tree
            return list(self.changes)
        if self._changes is None and self._pending is None and self._differ is not None:
            return list(self._differ(paths)())
        exact, prefixes = set(paths), tuple(p + "/" for p in paths)
        return [c for c in self.changes if c.path in exact or c.path.startswith(prefixes)]

    @property
    def summary(self) -> str:
        return f"base: {self.base.label}; checked: {self.candidate.label}"


#: The cache folder of base listings (see ChangeSet._list_base), how many are kept (a few
#: bases of a few repositories), and the form they are kept in (bump when it changes).
BASE_LISTINGS = "base-listings"
KEPT_LISTINGS = 64
LISTING_FORMAT = "base-listing-1"


def _lister_stamp() -> str:
    """The listing code's size and time (git/repo.py): an edit or a reinstall lists anew."""
    from migration_guard.git import repo

    try:
        stat = os.stat(repo.__file__)
    except OSError:
        return "unknown"
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _listing_of(kept: object) -> dict[str, Entry] | None:
    """A kept listing as entries; None when there is none, or it does not read as one."""
    if not isinstance(kept, dict) or not all(
            type(v) is tuple and len(v) == 2 for v in kept.values()):
        return None
    new = tuple.__new__
    return {p: new(Entry, v) for p, v in kept.items()}


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
    name = _short(commit) if ref == commit else f"{ref} at {_short(commit)}"
    if merge_base == commit:
        label = f"{name} ({origin})"
    else:
        label = f"{name} ({origin}), merge base {_short(merge_base)}"
    return Base(merge_base, label)


def staged(git: Git, index: Snapshot, *, base_ref: str | None, base_origin: str) -> ChangeSet:
    """The index against HEAD; ``index`` is read first because the config lives in it."""
    head = git.head()
    base = find_base(git, head, explicit=base_ref, explicit_origin=base_origin)
    return ChangeSet(git, "staged", index, base,
                     lambda paths: git.start_diff_index(head if head else git.empty_tree(),
                                                        paths),
                     since=head)


def ranged(
    git: Git, from_ref: str, to_ref: str, *, base_ref: str | None, base_origin: str,
    to_origin: str | None = None,
) -> ChangeSet:
    to_commit = resolve_base_ref(git, to_ref, origin="--to-ref")
    from_commit = resolve_base_ref(git, from_ref, origin="--from-ref")
    label = f"{to_ref} at {_short(to_commit)}" + (f" ({to_origin})" if to_origin else "")
    candidate = Snapshot(git, to_commit, label)
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
    return ChangeSet(git, "range", candidate, base,
                     lambda paths: git.start_diff_tree(start, to_commit, paths), since=start)


def whole_tree(git: Git, to_ref: str | None) -> ChangeSet:
    if to_ref is None:
        candidate = Snapshot(git, None, "every migration in the index (--all)")
    else:
        commit = resolve_base_ref(git, to_ref, origin="--to-ref")
        candidate = Snapshot(git, commit, f"every migration in {to_ref} at {_short(commit)}")
    changes = [Change("A", path) for path in candidate.paths]
    return ChangeSet(git, "all", candidate, Base(None, "none (--all: every migration is new)"),
                     changes)
