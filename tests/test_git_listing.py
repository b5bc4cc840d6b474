"""The index as the hooks list it: git starts listing it at once and the listing is read
when first used, whatever its size; symbolic links are found in it without making every
file's entry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import Repo

from migration_guard.errors import GuardError
from migration_guard.git.repo import SYMLINK_MODE, Git


def test_symbolic_links_are_the_entries_with_their_mode(repo: Repo) -> None:
    repo.write("b/regular.sql", "select 1;\n")
    repo.write("x 120000 y", "a name that looks like a mode\n")
    os.symlink("b", repo.path / "a-link")  # the index's first entry
    os.symlink("../b/regular.sql", repo.path / "b/nested-link")
    repo.add()
    listing = Git.discover(str(repo.path), repo.env).list_index()
    links = listing.with_mode(SYMLINK_MODE)
    assert sorted(links) == ["a-link", "b/nested-link"]
    assert links == {p: e for p, e in listing.entries().items() if e.mode == SYMLINK_MODE}


def test_no_symbolic_link_is_none_found(repo: Repo) -> None:
    repo.write("b/regular.sql", "select 1;\n")
    repo.add()
    assert Git.discover(str(repo.path), repo.env).list_index().with_mode(SYMLINK_MODE) == {}


def test_a_started_listing_larger_than_a_pipe_is_read_whole(repo: Repo) -> None:
    """3,000 files list as ~200 kB, more than a pipe holds by default."""
    for n in range(3000):
        repo.write(f"src/pkg{n // 100:02d}/file{n % 100:02d}.txt", f"{n}\n")
    repo.add()
    git = Git.discover(str(repo.path), repo.env)
    started = git.start_list_index()
    expected = git.list_index()
    listing = started()
    assert len(listing.paths) == 3000
    assert listing.entries() == expected.entries()


def test_entries_looked_up_one_by_one_are_the_listed_ones(repo: Repo) -> None:
    """The first lookups search the sorted paths, the later ones a dict: both agree."""
    for n in range(60):
        repo.write(f"d{n % 3}/f{n:02d}.txt", f"{n}\n")
    repo.add()
    listing = Git.discover(str(repo.path), repo.env).list_index()
    every = listing.entries()
    asked = [q for p in sorted(every) for q in (p, f"{p}x")]  # present, then absent
    assert [listing.entry(p) for p in asked] == [every.get(p) for p in asked]


def test_a_listing_started_with_the_search_is_the_top_levels(repo: Repo) -> None:
    """A hook lists the index while git still looks for the repository: from the top
    level that listing is used, from a subdirectory it is not (it would hold only the
    subdirectory's files); either way the whole index, and blobs read through the batch
    name paths from the top level."""
    repo.write("a.sql", "select 1;\n")
    repo.write("sub/dir/b.sql", "select 2;\n")
    repo.add()
    expected = Git.discover(str(repo.path), repo.env).list_index().entries()
    for cwd in (repo.path, repo.path / "sub", repo.path / "sub" / "dir"):
        git = Git.start_discover(str(cwd), repo.env, listing=True)()
        assert git.toplevel == str(repo.path)
        assert git.list_index().entries() == expected
        assert git.read_blobs([expected["sub/dir/b.sql"].oid]) == {
            expected["sub/dir/b.sql"].oid: b"select 2;\n"}
        git.close()


def test_a_listing_started_outside_a_repository_ends_with_the_search(tmp_path: Path,
                                                                     repo: Repo) -> None:
    """No repository: the search's error, and nothing left running."""
    outside = tmp_path / "outside"
    outside.mkdir()
    found = Git.start_discover(str(outside), repo.env, listing=True)
    with pytest.raises(GuardError, match="not a git repository"):
        found()
