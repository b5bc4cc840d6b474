"""What one run keeps for the next, outside the work tree: where the cache lives, and packs
of small results keyed by a hash of everything each result depends on.

A key covers all of a result's inputs (a file's bytes, the options, the code that computed
it), so an entry is never stale, only unused. A pack is a folder of 16 files (by the key's
first hex digit), each one marshal document mapping keys to their entries, each entry
marshalled on its own: a run that looks up one key reads one sixteenth of the pack and
decodes only the entries it uses (a pack of 2,500 lint results read whole, entries and
all, took 12 ms; as bytes, under 1 ms), and a run that adds entries rewrites only the
files it touched.
Packs are best effort: a file that cannot be read, or holds something else, is an empty
one; one that cannot be written is skipped. Neither is ever an error.

marshal rather than pickle or json: it is built in (nothing to import) and reads a pack of
1,000 lint results in ~2 ms, where json takes ~3x as long.
"""

from __future__ import annotations

import marshal
import os
import sys

from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from importlib.machinery import ModuleSpec
    from typing import Any

try:
    # hashlib's own blake2b, without hashlib: importing hashlib loads OpenSSL's bindings
    # first, 2.4-3.1 ms of a one-file lint that must stay within 30 ms of the interpreter's
    # start; this module takes 0.2 ms.
    from _blake2 import blake2b
except ImportError:  # an interpreter that lays out its hash modules differently
    from hashlib import blake2b

#: Bump when the layout of a pack file changes.
PACK_FORMAT = 2


def cache_dir() -> str:
    """``$XDG_CACHE_HOME/migration-guard``, else ``~/.cache/migration-guard``.

    (The one place this package reads the environment: the cache location is the
    platform's convention, not configuration.)
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "migration-guard")


def read_bytes(path: str) -> bytes:
    """A file's bytes, read whole. ``open()`` builds a buffered file object per file; plain
    reads of a descriptor take half the time, which a change set of 1,000 files notices."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks: list[bytes] = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def key_of(parts: Iterable[str | bytes]) -> str:
    """A 40-hex-digit key for ``parts`` (each separated, so ("ab", "c") != ("a", "bc"))."""
    digest = blake2b(digest_size=20)
    for part in parts:
        data = part if isinstance(part, bytes) else part.encode("utf-8", "surrogateescape")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


class Pack:
    """Entries by key, in ``directory`` (``None``: keep nothing), at most ``keep`` of them;
    the ones used longest ago go first."""

    def __init__(self, directory: str | None, *, keep: int) -> None:
        self.directory = directory
        self.keep_per_file = max(1, keep // 16)
        self._files: dict[str, dict[str, bytes]] = {}
        self._used: dict[str, list[str]] = {}  # per file: keys read or written this run
        self._dirty: set[str] = set()

    def get(self, key: str) -> Any:
        """The value stored under ``key``, or ``None`` (also for an entry that does not
        decode)."""
        if self.directory is None:
            return None
        entry = self._file(key[0]).get(key)
        if not isinstance(entry, bytes):
            return None
        try:
            value = marshal.loads(entry)
        except (EOFError, ValueError, TypeError):
            return None
        self._used[key[0]].append(key)
        return value

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` until :meth:`save`; a value marshal cannot write (not plain data)
        is not stored."""
        if self.directory is None:
            return
        try:
            entry = marshal.dumps(value)
        except ValueError:
            return
        self._file(key[0])[key] = entry
        self._used[key[0]].append(key)
        self._dirty.add(key[0])

    def save(self) -> None:
        """Write the files that gained entries, each replaced whole (a reader sees the old
        file or the new one), keeping the entries used most recently."""
        for name in sorted(self._dirty):
            self._write(name)
        self._dirty.clear()

    def _file(self, name: str) -> dict[str, bytes]:
        entries = self._files.get(name)
        if entries is None:
            entries = self._files[name] = self._read(name)
            self._used[name] = []
        return entries

    def _path(self, name: str) -> str:
        assert self.directory is not None
        return os.path.join(self.directory, f"{name}.marshal")

    def _read(self, name: str) -> dict[str, bytes]:
        try:
            # Read whole, then decoded: marshal.load on the file object reads in small
            # pieces, ~6x slower for a pack of many small entries (2.2 ms vs 0.4 ms).
            document = marshal.loads(read_bytes(self._path(name)))
        except (OSError, EOFError, ValueError, TypeError):
            return {}
        if (isinstance(document, tuple) and len(document) == 2
                and document[0] == PACK_FORMAT and isinstance(document[1], dict)):
            entries: dict[str, bytes] = document[1]
            return entries
        return {}

    def _write(self, name: str) -> None:
        entries = self._files[name]
        used = set(self._used[name])
        ordered = {k: v for k, v in entries.items() if k not in used}
        ordered.update((k, entries[k]) for k in self._used[name] if k in entries)
        kept = dict(list(ordered.items())[-self.keep_per_file:])
        assert self.directory is not None
        partial = os.path.join(self.directory, f".{name}.{os.getpid()}.tmp")
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            with open(partial, "wb") as handle:
                marshal.dump((PACK_FORMAT, kept), handle)
            os.replace(partial, self._path(name))
        except OSError:
            import contextlib  # here: a run that only reads a pack never needs it

            with contextlib.suppress(OSError):
                os.unlink(partial)


def find_spec(name: str) -> ModuleSpec | None:
    """The spec of the top-level module ``name`` as an import would find it (asking the
    interpreter's own finders, editable installs' included), without importing it or
    importlib.util; ``None`` when it is not installed."""
    for finder in sys.meta_path:
        finder_find_spec = getattr(finder, "find_spec", None)
        try:
            spec = finder_find_spec(name, None) if finder_find_spec is not None else None
        except (ImportError, ValueError):
            spec = None
        if spec is not None:
            found: ModuleSpec = spec
            return found
    return None


def module_stamp(name: str) -> str:
    """Where the top-level module ``name`` is (its ``__init__.py`` for a package), with its
    size and time as :func:`code_stamp` gives them: a reinstall changes it. "absent" when
    it is not installed."""
    spec = find_spec(name)
    return "absent" if spec is None or spec.origin is None else code_stamp((), [spec.origin])[0]


def package_folders(name: str) -> list[str]:
    """The folders of the package ``name`` (see :func:`find_spec`); none when it is not
    installed."""
    spec = find_spec(name)
    return list(spec.submodule_search_locations or ()) if spec is not None else []


def code_stamp(folders: Iterable[str], files: Iterable[str] = (), *,
               recursive: bool = False) -> list[str]:
    """``path:size:mtime`` of ``files`` and of every file in ``folders`` (and, with
    ``recursive``, their subfolders but ``__pycache__``), sorted: an edit, an install or a
    reinstall of the code there changes it. What cannot be read is named as such (see
    :func:`readable`)."""
    found = list(files)
    stamp: list[str] = []
    pending = list(folders)
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if recursive and entry.name != "__pycache__":
                            pending.append(entry.path)
                    else:
                        found.append(entry.path)
        except OSError:
            stamp.append(f"{folder}: unreadable")
    for path in sorted(found):
        try:
            stat = os.stat(path)
        except OSError:
            stamp.append(f"{path}: missing")
            continue
        stamp.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    return stamp


def readable(stamp: list[str]) -> bool:
    """Whether every folder and file of a :func:`code_stamp` could be read: a cache that
    keeps nothing it cannot stamp asks this."""
    return not any(line.endswith((": unreadable", ": missing")) for line in stamp)
