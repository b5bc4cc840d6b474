"""All git access: plumbing commands, NUL-delimited, read-only.

GitPython's object model costs ~55 ms to import and ~3 ms per path lookup, more than a
whole commit-time hook may spend, so the fast hooks drive git's plumbing directly
(``ls-files -s -z``, ``ls-tree -r -z``, ``diff-index``/``diff-tree``). Every git process
costs 2-3 ms, a fifth of a hook's budget, so blobs and ref lookups go through one
long-lived ``cat-file --batch`` per repository instead of one process each. Paths are
decoded with ``os.fsdecode`` (surrogate escapes keep non-UTF-8 bytes intact). Nothing here
writes to the working tree, the index or refs.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import posixpath
import re
import select
from collections.abc import Callable, Iterable, Sequence
from functools import cache

from migration_guard.errors import GuardError
from migration_guard.typing_lite import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import subprocess
    from typing import IO

EMPTY_TREE_SHA1 = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
EMPTY_BLOB_SHA1 = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
SUBMODULE_MODE = "160000"
SYMLINK_MODE = "120000"
# Requests written to ``cat-file --batch`` before reading its answers. Git answers each
# line before reading the next, and a pipe holds at least one page, so a page of requests
# can never leave both sides waiting on each other, whatever the answers' size.
_BATCH_BYTES = 4000


class Entry(NamedTuple):
    """One file of a tree or of the index."""

    mode: str
    oid: str


class Change(NamedTuple):
    """One path whose entry differs between two trees (``status`` is git's letter)."""

    status: str
    path: str


class Addition(NamedTuple):
    """A commit that added ``path``, or renamed ``renamed_from`` to it (newest first)."""

    path: str
    renamed_from: str | None
    commit: str
    author: str
    email: str
    date: str  # the author date, strict ISO 8601


# \x01 marks a commit header; git never puts it in front of a status letter.
_ADDITIONS_FORMAT = "--format=%x01%H%x00%aN%x00%aE%x00%aI"


#: Lookups of single paths answered by binary search before a listing makes its dict.
_SEARCHES = 32


class IndexListing:
    """The index as ``ls-files -s -z`` lists it: every path at once, entries on demand.

    A hook needs the entries of its migrations directories and of a few files; making one
    for each of a large repository's 10,000 files cost more than reading the index.
    Records are ``<mode> <oid> <stage>\\t<path>``: fixed offsets once the oid length is known.
    """

    def __init__(self, text: str) -> None:
        self.text = text  # as git printed it: what a cache keyed by the index's content hashes
        self._ascii = text.isascii()
        self.records = text.split("\0")
        self.records.pop()  # after the last NUL
        oid_end = self.records[0].index(" ", 7) if self.records else 47
        self._oid_end, self.stage_at, self.path_at = oid_end, oid_end + 1, oid_end + 3
        self.paths = [r[self.path_at:] for r in self.records]
        self._by_path: dict[str, str] | None = None
        self._searches = 0

    def _entry(self, record: str) -> Entry:
        return tuple.__new__(Entry, (record[:6], record[7:self._oid_end]))

    def entry(self, path: str) -> Entry | None:
        # A hook looks up a handful of files (its config, alembic.ini, ...): a binary search
        # of the sorted paths finds each in microseconds, where a dict of 10,000 paths
        # costs ~0.7 ms to make. Past a few dozen lookups, the dict is made.
        if self._by_path is None and self._ascii and self._searches < _SEARCHES:
            self._searches += 1
            at = bisect.bisect_left(self.paths, path)
            found = at < len(self.paths) and self.paths[at] == path
            return self._entry(self.records[at]) if found else None
        if self._by_path is None:
            self._by_path = dict(zip(self.paths, self.records, strict=True))
        record = self._by_path.get(path)
        return self._entry(record) if record is not None else None

    def entries(self) -> dict[str, Entry]:
        """Every path's entry."""
        new, oid_end = tuple.__new__, self._oid_end
        return dict(zip(self.paths, [new(Entry, (r[:6], r[7:oid_end])) for r in self.records],
                        strict=True))

    def below(self, prefix: str) -> dict[str, Entry]:
        """The entries of the paths that start with ``prefix``."""
        paths, records = self.paths, self.records
        if not self._ascii:  # git sorts bytes; surrogate escapes of odd bytes sort otherwise
            return {p: self._entry(r) for p, r in zip(paths, records, strict=True)
                    if p.startswith(prefix)}
        found: dict[str, Entry] = {}
        at = bisect.bisect_left(paths, prefix)  # git keeps the index sorted: one run
        while at < len(paths) and paths[at].startswith(prefix):
            found[paths[at]] = self._entry(records[at])
            at += 1
        return found

    def with_blob(self, oid: str) -> list[str]:
        """The paths whose blob is ``oid``: a text search finds the few there are."""
        found: list[str] = []
        text = self.text
        at = text.find(f" {oid} ")
        while at != -1:
            start = text.rfind("\0", 0, at) + 1
            if at - start == 6:  # the oid field, not the inside of a path
                found.append(text[start + self.path_at:text.index("\0", at)])
            at = text.find(f" {oid} ", at + 1)
        return found

    def with_mode(self, mode: str) -> dict[str, Entry]:
        """The entries whose mode is ``mode`` (symbolic links, submodules): a text search
        finds the few there are, where making every entry to look cost ~5 ms in a
        10,000-file index."""
        found: dict[str, Entry] = {}
        text = self.text
        # A record starts the text or follows a NUL, which no path holds.
        at = 0 if text.startswith(f"{mode} ") else text.find(f"\0{mode} ")
        while at != -1:
            start = at + 1 if text[at] == "\0" else at
            end = text.index("\0", start)
            found[text[start + self.path_at:end]] = self._entry(text[start:end])
            at = text.find(f"\0{mode} ", end)
        return found

    def layout(self) -> str:
        """Every path, with the mode and blob of each symbolic link and submodule: what the
        index holds but for the contents of its regular files (joining the paths costs
        ~0.3 ms in a 10,000-file index, where making a record of each without its blob id
        cost ~4.6 ms)."""
        others = [f"{mode} {entry.oid}\t{path}" for mode in (SYMLINK_MODE, SUBMODULE_MODE)
                  for path, entry in self.with_mode(mode).items()]
        return "\0".join(self.paths) + "\0\0" + "\0".join(others)

    def without(self, paths: set[str]) -> IndexListing:
        kept = [r for p, r in zip(self.paths, self.records, strict=True) if p not in paths]
        return IndexListing("".join(f"{r}\0" for r in kept))


def _fmt_cmd(args: Sequence[str]) -> str:
    return " ".join(arg if arg and " " not in arg else repr(arg) for arg in args)


# posix_spawn and poll where there are (Linux, macOS, the BSDs), else subprocess: importing
# subprocess (with threading, signal and selectors) costs ~4 ms of every hook run.
_SPAWN = hasattr(os, "posix_spawn") and hasattr(select, "poll")


@cache
def _git_executable(search_path: str | None) -> str | None:
    """``git`` on this PATH, as subprocess would find it (posix_spawnp would search ours)."""
    for directory in (search_path if search_path is not None else os.defpath).split(os.pathsep):
        candidate = os.path.join(directory or ".", "git")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


class _Child:
    """A running git, with the parent's ends of its pipes like ``subprocess.Popen``.

    It runs with ``-C`` instead of a working directory (posix_spawn has none). Python opens
    every descriptor non-inheritable, so git gets its three pipes and nothing else.
    """

    def __init__(self, args: list[str], cwd: str, env: dict[str, str], *, stdin: bool,
                 room: int = 0) -> None:
        self.returncode: int | None = None
        self._popen: subprocess.Popen[bytes] | None = None
        argv = ["git", "-C", cwd, *args[1:]]
        executable = _git_executable(env.get("PATH")) if _SPAWN else None
        fds = os.pipe() + os.pipe() + (os.pipe() if stdin else ())
        if executable is None or min(fds) <= 2:  # no git (subprocess says so), or our own
            for fd in fds:                       # standard streams are closed: subprocess
                os.close(fd)                     # sorts that out
            self._popen_child(argv, env, stdin=stdin)
            return
        out_r, out_w, err_r, err_w = fds[:4]
        if room:
            _make_room(out_r, room)
        in_r, in_w = fds[4:] if stdin else (-1, -1)
        actions = [
            (os.POSIX_SPAWN_DUP2, in_r, 0) if stdin
            else (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, out_w, 1),
            (os.POSIX_SPAWN_DUP2, err_w, 2),
        ]
        try:
            self.pid = os.posix_spawn(executable, argv, env, file_actions=actions)
        finally:
            for fd in (out_w, err_w, in_r):
                if fd >= 0:
                    os.close(fd)
        self.stdout: IO[bytes] = open(out_r, "rb")  # noqa: SIM115 - closed after reading
        self.stderr: IO[bytes] = open(err_r, "rb")  # noqa: SIM115
        self.stdin: IO[bytes] | None = open(in_w, "wb") if stdin else None  # noqa: SIM115

    def _popen_child(self, argv: list[str], env: dict[str, str], *, stdin: bool) -> None:
        import subprocess

        pipe = subprocess.PIPE
        popen = subprocess.Popen(argv, env=env, stdout=pipe, stderr=pipe,
                                 stdin=pipe if stdin else subprocess.DEVNULL)
        assert popen.stdout is not None and popen.stderr is not None
        self._popen, self.pid = popen, popen.pid
        self.stdout, self.stderr, self.stdin = popen.stdout, popen.stderr, popen.stdin

    def wait(self) -> int:
        if self.returncode is None:
            if self._popen is not None:
                self.returncode = self._popen.wait()
            else:
                self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.returncode

    def communicate(self, data: bytes | None = None) -> tuple[bytes, bytes]:
        """Feed ``data`` to git, read all it writes on both outputs, wait for it to end."""
        if self._popen is not None:
            out, err = self._popen.communicate(data)
            self.returncode = self._popen.returncode
            return out, err
        out_fd, err_fd = self.stdout.fileno(), self.stderr.fileno()
        chunks: dict[int, list[bytes]] = {out_fd: [], err_fd: []}
        files = {out_fd: self.stdout, err_fd: self.stderr}
        poller = select.poll()
        for fd in chunks:
            poller.register(fd, select.POLLIN)
        pending = memoryview(data or b"")
        if self.stdin is not None:
            if pending:
                files[self.stdin.fileno()] = self.stdin
                poller.register(self.stdin.fileno(), select.POLLOUT)
            else:
                self.stdin.close()
        while files:
            for fd, _event in poller.poll():
                if fd in chunks:  # an output: take what is there, until its end
                    chunk = os.read(fd, 1 << 16)
                    if chunk:
                        chunks[fd].append(chunk)
                        continue
                else:  # the input: what a pipe takes without blocking, until all is in
                    try:
                        pending = pending[os.write(fd, pending[:select.PIPE_BUF]):]
                        if pending:
                            continue
                    except BrokenPipeError:  # git stopped reading: its exit code tells
                        pass
                poller.unregister(fd)
                files.pop(fd).close()
        self.wait()
        return b"".join(chunks[out_fd]), b"".join(chunks[err_fd])


#: What a listing's pipe is asked to hold: Linux's default limit for a user's pipe
#: (/proc/sys/fs/pipe-max-size), ~1,400 files' worth of ``ls-files -s`` per 100 kB.
_LISTING_ROOM = 1 << 20


def _make_room(fd: int, size: int) -> None:
    """Let the pipe ``fd`` hold ``size`` bytes where the platform says how (Linux): its
    writer then finishes without waiting for the reader. Elsewhere, or past the system's
    limit, the pipe stays as it is (git then waits for each read, as with any pipe)."""
    import fcntl

    setting = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setting is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, setting, size)


def _toplevel(cwd: str, code: int, out: bytes, err: bytes) -> str:
    """The work tree's top level ``rev-parse --show-toplevel`` printed; exit 2 when git
    found no repository, or one without a work tree."""
    if code != 0:
        stderr = err.decode(errors="replace").strip()
        if "dubious ownership" in stderr:
            raise GuardError(
                f"git refuses to read this repository: {stderr.splitlines()[0]}",
                "mark it safe: git config --global --add safe.directory <path>",
            )
        raise GuardError(
            f"not a git repository: {cwd}",
            "run migration-guard inside a git checkout (git init, or cd into one)",
        )
    toplevel = os.fsdecode(out.rstrip(b"\n"))
    if not toplevel:
        raise GuardError(
            "this is a bare repository or the inside of .git: there is no work tree",
            "run migration-guard inside a checkout",
        )
    return toplevel


def _run(args: list[str], cwd: str, env: dict[str, str],
         stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run ``args`` (a git command) in ``cwd``: exit code, output, error output."""
    child = _Child(args, cwd, env, stdin=stdin is not None)
    out, err = child.communicate(stdin)
    return child.wait(), out, err


def _checked(cmd: list[str], code: int, out: bytes, err: bytes, ok: Iterable[int]) -> bytes:
    """``out`` of a git command that ended with an expected exit code; else a GuardError
    showing the command, the exit code and stderr."""
    if code not in tuple(ok):
        stderr = err.decode(errors="replace").strip()
        raise GuardError(
            f"`{_fmt_cmd(cmd)}` failed with exit code {code}: {stderr}",
            "check the repository state; run the command above yourself to see more",
        )
    return out


class Started:
    """A git command that runs while this process works on (see :meth:`Git.start`)."""

    def __init__(self, cmd: list[str], child: _Child) -> None:
        self._cmd = cmd
        self._child = child
        self._answer: tuple[int, bytes, bytes] | None = None

    def output(self) -> bytes:
        """Wait for the command; what it wrote, or the GuardError of a failure."""
        if self._answer is None:
            out, err = self._child.communicate()
            self._answer = (self._child.wait(), out, err)
        code, out, err = self._answer
        return _checked(self._cmd, code, out, err, (0,))

    def end(self) -> None:
        """Stop waiting for the command: its pipes closed unread, the process reaped."""
        if self._answer is None:
            for stream in (self._child.stdout, self._child.stderr):
                with contextlib.suppress(OSError):
                    stream.close()
            self._child.wait()


class Git:
    """A repository, addressed through the ``git`` command from its top-level directory."""

    def __init__(self, toplevel: str, *, env: dict[str, str]) -> None:
        self.toplevel = toplevel
        self._env = env
        self._batch: _Child | None = None
        self._early_listing: Started | None = None  # see start_discover(listing=True)

    def close(self) -> None:
        """End the ``cat-file --batch`` process, if one runs (also done when collected)."""
        proc, self._batch = self._batch, None
        if proc is not None:
            _end_batch(proc)
        early, self._early_listing = self._early_listing, None
        if early is not None:
            early.end()

    def __del__(self) -> None:
        # Not weakref.finalize: importing weakref costs more than the rest of this module.
        # At exit git ends the batch itself, when its input closes with this process.
        if getattr(self, "_batch", None) is not None and _end_batch is not None:
            self.close()

    @classmethod
    def discover(cls, cwd: str, environ: dict[str, str]) -> Git:
        """Find the repository around ``cwd``; exit 2 when there is none."""
        return cls.start_discover(cwd, environ)()

    @classmethod
    def start_discover(cls, cwd: str, environ: dict[str, str], *,
                       listing: bool = False) -> Callable[[], Git]:
        """:meth:`discover`, started now: git looks for the repository while the caller
        works on; the function returned waits for the answer (and raises as discover).

        ``listing``: the caller goes on to list the index. Git starts on the listing and
        the ``cat-file --batch`` in ``cwd`` right away, alongside the search, instead of
        after it (a hook then waited ~4 ms less for them); they are used when ``cwd`` turns
        out to be the top level (under pre-commit, always), else ended unread and started
        again from the top level when asked for.
        """
        env = dict(environ)
        # Pathspecs we pass are literal file names, never globs; fsmonitor can lie, so it is off.
        env["GIT_LITERAL_PATHSPECS"] = "1"
        env.pop("GIT_OPTIONAL_LOCKS", None)
        env["GIT_OPTIONAL_LOCKS"] = "0"
        index_file = env.get("GIT_INDEX_FILE")
        if index_file and not os.path.isabs(index_file):
            # git runs hooks from the top level, but we may be started elsewhere.
            env["GIT_INDEX_FILE"] = os.path.abspath(os.path.join(cwd, index_file))
        child = _Child(["git", "rev-parse", "--show-toplevel"], cwd, env, stdin=False)
        early = _early_listing(cwd, env) if listing else None

        def found() -> Git:
            out, err = child.communicate()
            try:
                git = cls(_toplevel(cwd, child.wait(), out, err), env=env)
            except BaseException:
                if early is not None:
                    _end_early(*early)
                raise
            if early is not None:
                if git.toplevel == cwd:  # the very commands git would run from there
                    git._early_listing, git._batch = early
                else:
                    _end_early(*early)
            return git

        return found

    # -- running git ------------------------------------------------------------------

    def run(self, *args: str, stdin: bytes | None = None, ok: Iterable[int] = (0,)) -> bytes:
        """Run ``git args``; a failure is a GuardError showing command, exit code and stderr."""
        cmd = ["git", "-c", "core.fsmonitor=false", *args]
        code, out, err = _run(cmd, self.toplevel, self._env, stdin)
        return _checked(cmd, code, out, err, ok)

    def start(self, *args: str, room: int = 0) -> Started:
        """Start ``git args`` and return at once: it runs while the caller works on, and
        :meth:`Started.output` waits for what it says (a failure is then the GuardError
        :meth:`run` raises). ``room``: bytes its output pipe should hold (see
        :func:`_make_room`)."""
        cmd = ["git", "-c", "core.fsmonitor=false", *args]
        return Started(cmd, _Child(cmd, self.toplevel, self._env, stdin=False, room=room))

    def try_run(self, *args: str) -> bytes | None:
        """Run ``git args``; None when it fails (for questions whose answer may be "no")."""
        code, out, _ = _run(["git", *args], self.toplevel, self._env)
        return out if code == 0 else None

    # -- refs and history -------------------------------------------------------------

    def resolve_commit(self, ref: str) -> str | None:
        """The commit id ``ref`` names, or None when it does not exist here."""
        return self.resolve_commits([ref])[0]

    def resolve_commits(self, refs: Sequence[str]) -> list[str | None]:
        """The commit id each of ``refs`` names (None where none), in one round trip."""
        found = self._objects([f"{ref}^{{commit}}" for ref in refs])
        return [obj[0] if obj is not None else None for obj in found]

    def first_existing(self, refs: Sequence[str]) -> tuple[str, str] | None:
        """The first of ``refs`` (short names under refs/remotes or refs/heads) that exists,
        with its commit id, all looked up in one round trip."""
        full = [f"refs/remotes/{r}" if "/" in r else f"refs/heads/{r}" for r in refs]
        for short, commit in zip(refs, self.resolve_commits(full), strict=True):
            if commit is not None:
                return short, commit
        return None

    def head(self) -> str | None:
        """HEAD's commit id; None on an unborn branch (before the first commit)."""
        return self.resolve_commit("HEAD")

    def merge_base(self, a: str, b: str) -> str | None:
        if a == b and len(a) in (40, 64):  # a branch with no commits yet: no process needed
            return a
        out = self.try_run("merge-base", a, b)
        return out.decode().strip() if out else None

    def is_shallow(self) -> bool:
        return self.run("rev-parse", "--is-shallow-repository").strip() == b"true"

    def parents(self, commit: str) -> list[str]:
        out = self.run("rev-list", "--parents", "-n", "1", commit).decode().split()
        return out[1:]

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self.try_run("merge-base", "--is-ancestor", ancestor, descendant) is not None

    def shallow_commits(self) -> set[str]:
        """The shallow boundary: commits whose parents this clone does not have."""
        path = os.fsdecode(self.run("rev-parse", "--git-path", "shallow").rstrip(b"\n"))
        try:
            with open(os.path.join(self.toplevel, path), encoding="ascii") as handle:
                return set(handle.read().split())
        except FileNotFoundError:
            return set()

    def remote_url(self, name: str) -> str | None:
        out = self.try_run("remote", "get-url", name)
        return out.decode(errors="replace").strip() if out else None

    def fetch(self, remote: str, options: Sequence[str], refs: Sequence[str],
              *, timeout: float = 600) -> str | None:
        """Fetch objects from ``remote``: None on success, else git's error.

        The one command here that writes to the repository, and only objects and the shallow
        boundary: no tags, no refs, no FETCH_HEAD, no maintenance; never a prompt for a
        password (a CI runner has nobody to type one).
        """
        cmd = ["git", "-c", "core.fsmonitor=false", "fetch", "--quiet", "--no-tags",
               "--no-write-fetch-head", "--no-recurse-submodules", "--no-auto-maintenance",
               *options, remote, *refs]
        import subprocess  # for its timeout: only CI fetches

        env = dict(self._env, GIT_TERMINAL_PROMPT="0")
        self.close()  # the next lookup starts a cat-file that sees the new shallow boundary
        try:
            proc = subprocess.run(cmd, cwd=self.toplevel, env=env, stdin=subprocess.DEVNULL,
                                  capture_output=True, check=False, timeout=timeout)
        except subprocess.TimeoutExpired:
            return f"`git fetch` from {remote} took longer than {timeout:g} s"
        if proc.returncode == 0:
            return None
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
        return (fatal or lines or [f"`git fetch` exited with code {proc.returncode}"])[0]

    def empty_tree(self) -> str:
        if self.run("rev-parse", "--show-object-format").strip() == b"sha1":
            return EMPTY_TREE_SHA1
        return self.run("hash-object", "-t", "tree", "--stdin", stdin=b"").decode().strip()

    # -- listings ---------------------------------------------------------------------

    def ls_index(self, paths: Sequence[str] = ()) -> dict[str, Entry]:
        """The index (``GIT_INDEX_FILE`` honoured), stage 0 only; unmerged paths are an error."""
        return self.list_index(paths).entries()

    def list_index(self, paths: Sequence[str] = ()) -> IndexListing:
        """``ls_index`` whose entries are made when asked for (see :class:`IndexListing`)."""
        return self.start_list_index(paths)()

    def start_list_index(self, paths: Sequence[str] = ()) -> Callable[[], IndexListing]:
        """:meth:`list_index`, started now; the function returned waits for the listing.
        Its pipe is made to hold a large index's whole listing (~740 kB for 10,000 files),
        so git finishes while the caller works on instead of waiting for it to read."""
        early, self._early_listing = self._early_listing, None
        if early is not None and not paths:
            started = early
        else:
            if early is not None:
                early.end()
            started = self.start(*_LIST_INDEX, "--", *paths, room=_LISTING_ROOM)
        return lambda: _index_listing(started.output())

    def worktree_paths(self) -> list[str]:
        """Tracked paths and untracked ones not ignored (what a user sees), each once."""
        out = self.run("ls-files", "-z", "--cached", "--others", "--exclude-standard")
        return list(dict.fromkeys(os.fsdecode(p) for p in out.split(b"\0") if p))

    def ls_tree(self, treeish: str, paths: Sequence[str] = ()) -> dict[str, Entry]:
        """Every file below ``paths`` in a commit or tree (recursive, submodules included)."""
        if paths:
            walked = self._walk_trees(treeish, paths)
            if walked is not None:
                return walked
        out = self.run("ls-tree", "-r", "-z", "--full-tree", treeish, "--", *paths)
        entries: dict[str, Entry] = {}
        for record in out.decode("utf-8", "surrogateescape").split("\0"):
            if record:
                meta, _, path = record.partition("\t")
                entries[path] = Entry(meta[:6], meta.rpartition(" ")[2])
        return entries

    def _walk_trees(self, treeish: str, directories: Sequence[str]) -> dict[str, Entry] | None:
        """``ls_tree`` of directories, read as tree objects through the batch: one round trip
        per level instead of a process. None when a path is not a plain directory there (a
        file, a submodule, an odd name): ``ls-tree`` itself answers those."""
        if any(not d or "\n" in d or d != posixpath.normpath(d) or d.startswith(("/", "../"))
               for d in directories):
            return None
        # Tree order (a directory sorts as if its name ended in "/"), nested ones dropped.
        roots = sorted(dict.fromkeys(directories),
                       key=lambda d: (d + "/").encode("utf-8", "surrogateescape"))
        roots = [d for i, d in enumerate(roots)
                 if not any(d.startswith(r + "/") for r in roots[:i])]
        tops = self._objects([f"{treeish}:{d}" for d in roots])
        trees: dict[str, list[tuple[bytes, bytes, str]]] = {}
        walk: list[tuple[str, str]] = []
        for directory, obj in zip(roots, tops, strict=True):
            if obj is None or obj[1] != "tree":  # absent, or a submodule whose commit is not
                return None                      # here: only ls-tree tells them apart
            trees[obj[0]] = _tree_entries(obj[2], len(obj[0]) // 2)
            walk.append((directory, obj[0]))
        pending = list(trees)
        while pending:  # one batch per level of subdirectories
            pending = list(dict.fromkeys(sub for oid in pending for mode, _, sub in trees[oid]
                                         if mode == b"40000" and sub not in trees))
            for oid, obj in zip(pending, self._objects(pending), strict=True):
                if obj is None or obj[1] != "tree":
                    return None
                trees[oid] = _tree_entries(obj[2], len(oid) // 2)
        entries: dict[str, Entry] = {}
        new = tuple.__new__
        stack = [(d, iter(trees[oid])) for d, oid in reversed(walk)]
        while stack:  # depth first, in tree order: the order ls-tree -r prints
            directory, pending_entries = stack[-1]
            for mode, name, oid in pending_entries:
                path = f"{directory}/{name.decode('utf-8', 'surrogateescape')}"
                if mode == b"40000":
                    stack.append((path, iter(trees[oid])))
                    break
                entries[path] = new(Entry, (mode.decode(), oid))
            else:
                stack.pop()
        return entries

    def intent_to_add(self, candidates: set[str]) -> set[str]:
        """Which of ``candidates`` (empty-blob index entries) were only ``git add -N``-ed."""
        head = self.head()
        if head is not None:
            # Most are empty files committed as they are (``__init__.py``): HEAD has the same
            # empty blob. Only the others need the diff, which tells an added file ("A") from
            # an intent-to-add entry (absent, or "D" when HEAD had the path).
            listed = sorted(p for p in candidates if "\n" not in p)
            in_head = self._objects([f"{head}:{p}" for p in listed])
            committed = {p for p, obj in zip(listed, in_head, strict=True)
                         if obj is not None and obj[1] == "blob" and not obj[2]}
            candidates = candidates - committed
            if not candidates:
                return set()
        base = head if head else self.empty_tree()
        # A pathspec keeps the diff small; past a few thousand paths, diff everything.
        paths = sorted(candidates) if len(candidates) <= 2000 else []
        staged = self.diff_index(base, paths)
        present = {c.path for c in staged if c.status != "D"}
        return {p for p in candidates if p not in present}

    def diff_index(self, base: str, paths: Sequence[str] = ()) -> list[Change]:
        """What the index changes relative to a commit or tree (no rename detection)."""
        return self.start_diff_index(base, paths)()

    def start_diff_index(self, base: str,
                         paths: Sequence[str] = ()) -> Callable[[], list[Change]]:
        """:meth:`diff_index`, started now; the function returned waits for its answer."""
        started = self.start("diff-index", "--cached", "--name-status", "-z", "--no-renames",
                             "--ita-invisible-in-index", base, "--", *paths)
        return lambda: _parse_name_status(started.output())

    def diff_tree(self, old: str, new: str, paths: Sequence[str] = ()) -> list[Change]:
        return self.start_diff_tree(old, new, paths)()

    def start_diff_tree(self, old: str, new: str,
                        paths: Sequence[str] = ()) -> Callable[[], list[Change]]:
        """:meth:`diff_tree`, started now; the function returned waits for its answer."""
        started = self.start("diff-tree", "-r", "--name-status", "-z", "--no-renames", old,
                             new, "--", *paths)
        return lambda: _parse_name_status(started.output())

    def additions(self, paths: Sequence[str]) -> list[Addition]:
        """Every addition or rename of a file below ``paths`` in HEAD's history, newest
        first, from one ``git log`` (merges show no diff, so the branch commit is named)."""
        if not paths or self.head() is None:
            return []
        # The user's log.* settings must not change what is parsed.
        out = self.run("-c", "log.showSignature=false", "-c", "log.follow=false", "log", "-M",
                       "--diff-filter=AR", "--name-status", "-z", _ADDITIONS_FORMAT, "HEAD",
                       "--", *paths)
        return _parse_additions(out)

    # -- content ----------------------------------------------------------------------

    def read_blobs(self, oids: Iterable[str]) -> dict[str, bytes]:
        """Read many blobs through the repository's ``git cat-file --batch``."""
        wanted = list(dict.fromkeys(oids))
        blobs: dict[str, bytes] = {}
        for oid, obj in zip(wanted, self._objects(wanted), strict=True):
            if obj is None:
                raise GuardError(
                    f"git object {oid} is missing from this repository",
                    "fetch the full history: git fetch --unshallow (in CI: fetch-depth: 0)",
                )
            blobs[oid] = obj[2]
        return blobs

    def _objects(self, names: Sequence[str]) -> list[tuple[str, str, bytes] | None]:
        """``(id, type, content)`` of each object name (``oid``, ``rev:path``, ``ref^{commit}``),
        None where git finds none, through one ``cat-file --batch`` kept for later calls."""
        found: list[tuple[str, str, bytes] | None] = []
        if not names:
            return found
        proc = self._batch or self._start_batch()
        assert proc.stdin is not None and proc.stdout is not None
        readline, read = proc.stdout.readline, proc.stdout.read
        i = 0
        while i < len(names):
            lines: list[bytes] = []
            size = 0
            while i < len(names) and (not lines or size + len(names[i]) < _BATCH_BYTES):
                # One request per line: a name holding a newline (never a valid one) is
                # sent as an empty line, which git answers as missing.
                name = names[i].encode("utf-8", "surrogateescape")
                lines.append(name if b"\n" not in name else b"")
                size += len(lines[-1]) + 1
                i += 1
            try:
                proc.stdin.write(b"\n".join(lines) + b"\n")
                proc.stdin.flush()
            except BrokenPipeError:
                raise self._batch_failed() from None
            for _ in lines:
                header = readline()
                parts = header.split()
                # "<id> <type> <size>", or "<name> missing" / "<name> ambiguous".
                if len(parts) != 3 or not parts[2].isdigit():
                    if not header.endswith(b"\n"):
                        raise self._batch_failed()
                    found.append(None)
                    continue
                size = int(parts[2])
                content = read(size + 1)  # and the newline after it
                if len(content) != size + 1 or content[-1:] != b"\n":
                    raise self._batch_failed()
                found.append((parts[0].decode(), parts[1].decode(), content[:-1]))
        return found

    def start_batch(self) -> None:
        """Start the ``cat-file --batch`` now: its start-up then overlaps whatever git
        command the caller runs next, instead of delaying the first read."""
        if self._batch is None:
            self._start_batch()

    def _start_batch(self) -> _Child:
        proc = _Child(_BATCH, self.toplevel, self._env, stdin=True)
        self._batch = proc
        return proc

    def _batch_failed(self) -> GuardError:
        proc, self._batch = self._batch, None
        assert proc is not None
        stderr = _end_batch(proc)
        return GuardError(
            f"`git cat-file --batch` stopped with exit code {proc.returncode}: "
            f"{stderr.decode(errors='replace').strip()}",
            "check the repository state; run `git fsck` to see more",
        )


_LIST_INDEX = ("ls-files", "-s", "-z")
_BATCH = ["git", "-c", "core.fsmonitor=false", "cat-file", "--batch"]


def _early_listing(cwd: str, env: dict[str, str]) -> tuple[Started, _Child]:
    """The index's listing and a ``cat-file --batch``, started in ``cwd`` as
    :meth:`Git.start_list_index` and :meth:`Git.start_batch` start them in the top level."""
    cmd = ["git", "-c", "core.fsmonitor=false", *_LIST_INDEX, "--"]
    started = Started(cmd, _Child(cmd, cwd, env, stdin=False, room=_LISTING_ROOM))
    return started, _Child(_BATCH, cwd, env, stdin=True)


def _end_early(listing: Started, batch: _Child) -> None:
    """End what :func:`_early_listing` started, unread (git stops at its closed pipes)."""
    listing.end()
    _end_batch(batch)


def _end_batch(proc: _Child) -> bytes:
    """End a batch (git exits at the end of its input) and return what it said on stderr."""
    for stream in (proc.stdin, proc.stdout):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    proc.wait()
    stderr = b""
    if proc.stderr is not None:
        stderr = proc.stderr.read()
        proc.stderr.close()
    return stderr


def _tree_entries(data: bytes, oid_bytes: int) -> list[tuple[bytes, bytes, str]]:
    """``(mode, name, id)`` of each entry of a raw tree object."""
    pattern = re.compile(rb"([0-7]+) ([^\0]*)\0(.{%d})" % oid_bytes, re.DOTALL)
    entries = [(mode, name, oid.hex()) for mode, name, oid in pattern.findall(data)]
    if sum(len(m) + len(n) + 2 + oid_bytes for m, n, _ in entries) != len(data):
        raise GuardError("git returned a tree object that cannot be read",
                         "check the repository: git fsck")
    return entries


def _index_listing(out: bytes) -> IndexListing:
    """The listing ``ls-files -s -z`` printed; unmerged paths are an error."""
    listing = IndexListing(out.decode("utf-8", "surrogateescape"))
    records = listing.records
    if records and any(r[listing.stage_at] != "0" for r in records):
        unmerged = sorted({r[listing.path_at:] for r in records if r[listing.stage_at] != "0"})
        raise GuardError(
            f"the index has unmerged paths: {', '.join(unmerged[:5])}",
            "resolve the merge conflict and stage the result, then commit again",
        )
    return listing


def _parse_name_status(out: bytes) -> list[Change]:
    parts = out.split(b"\0")
    changes: list[Change] = []
    i = 0
    while i + 1 < len(parts):
        status = parts[i].decode()
        if not status:
            break
        changes.append(Change(status[0], os.fsdecode(parts[i + 1])))
        i += 2
    return changes


def _parse_additions(out: bytes) -> list[Addition]:
    tokens = out.decode("utf-8", "surrogateescape").split("\0")
    found: list[Addition] = []
    header = ("", "", "", "")
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.startswith("\x01"):
            header = (token[1:], tokens[i + 1], tokens[i + 2], tokens[i + 3])
            i += 4
            continue
        status = token.lstrip("\n")
        if status.startswith("R"):
            found.append(Addition(tokens[i + 2], tokens[i + 1], *header))
            i += 3
        elif status.startswith("A"):
            found.append(Addition(tokens[i + 1], None, *header))
            i += 2
        else:  # the empty string after the last NUL
            i += 1
    return found
