"""Alembic, read statically: revision ids and parents parsed from the files, no imports.

Importing alembic costs ~230 ms and ``alembic heads`` ~350 ms on 1,000 revisions; reading
``revision``/``down_revision`` with a regular expression costs ~25 ms, which a commit
hook can afford. Files the change adds or edits are also compiled, so a syntax error is
reported at its line.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import cache

from migration_guard.frameworks import Found, Framework, Reader, Version
from migration_guard.typing_lite import NamedTuple

_CLOSERS = {"(": ")", "[": "]"}


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """``revision = ...``, ``down_revision = ...`` and a plain literal: compiled on first use,
    as only the linear check reads revisions."""
    return (
        re.compile(r"^revision\s*(?::[^=\n]*)?=\s*(?P<q>['\"])(?P<id>[^'\"\n]+)(?P=q)",
                   re.MULTILINE),
        re.compile(r"^down_revision\s*(?::[^=\n]*)?=\s*(?P<value>.*)$", re.MULTILINE),
        re.compile(r"""(?:None|(['"])([^'"\\\n]*)\1)\s*(?:#.*)?"""),
    )


class Revision(NamedTuple):
    path: str
    id: str
    down: tuple[str, ...]
    line: int


class Unreadable(NamedTuple):
    path: str
    line: int
    reason: str


#: The distribution that runs these migrations (its version keys cached renderings).
LIBRARY = "alembic"
#: Cache folders: alembic.ini settings (see alembic_ini.read_ini_kept), parsed revision
#: files (see ParsedRevisions).
INI_FOLDER = "alembic-ini"
REVISIONS_FOLDER = "alembic-revisions"


class AlembicFramework(Framework):
    name = "alembic"
    pattern_text = "<revision>_<slug>.py"
    ordered = False  # the revision graph orders Alembic migrations, not file names
    generate_command = 'alembic revision --autogenerate -m "<describe the change>"'
    python = True
    markers = reads = ("alembic.ini",)
    detected_by = "alembic.ini"
    tracking_tables = frozenset({"alembic_version"})
    applied_query = "SELECT version_num FROM alembic_version"

    def detect(self, paths: list[str], read: Reader, *,
               every: Sequence[str] = ()) -> list[Found]:
        inis = [p for p in paths if p == "alembic.ini" or p.endswith("/alembic.ini")]
        return [self._project(ini, read) for ini in inis]

    def detect_named(self, path: str, read: Reader) -> list[Found]:
        return [self._project(path, read)] if read(path) is not None else []

    def _project(self, ini: str, read: Reader) -> Found:
        from migration_guard.cache import cache_dir
        from migration_guard.frameworks.alembic_ini import read_ini_kept

        here = posixpath.dirname(ini)
        settings = read_ini_kept(ini, read, os.path.join(cache_dir(), INI_FOLDER))
        command = self.generate_command if here == "" \
            else f"{self.generate_command} (in {here}/)"
        return Found(settings.versions_dir, None, "", here, command, ini,
                     posixpath.join(settings.script_dir, "env.py").lstrip("/"),
                     tuple(dict.fromkeys([*settings.sys_path, here, "", "src"])),
                     problem=settings.problem)

    def applied(self, recorded: set[str], versions: list[str]) -> set[str]:
        return recorded  # the status command adds each applied head's ancestors

    def looks_like_migration(self, rel: str) -> bool:
        return self.is_migration(rel)

    def is_migration(self, rel: str) -> bool:
        return "/" not in rel and rel.endswith(".py") and rel != "__init__.py"

    def version(self, rel: str) -> Version | None:
        return Version((), rel) if self.is_migration(rel) else None


FRAMEWORK = AlembicFramework()


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _literal(value: str, text: str, start: int) -> object:
    """Evaluate the right-hand side of ``down_revision = ...`` (maybe spanning lines)."""
    stripped = value.strip()
    simple = _patterns()[2].fullmatch(stripped)
    if simple is not None:  # the common case, without ast.literal_eval's parser
        return None if simple.group(1) is None else simple.group(2)
    if stripped[:1] in _CLOSERS and _CLOSERS[stripped[0]] not in stripped:
        end = text.find(_CLOSERS[stripped[0]], start)
        if end != -1:
            stripped = text[start:end + 1]
    import ast  # the rare value that is not one literal string: a tuple, a list, ...

    for candidate in (stripped, stripped.split("#", 1)[0].strip()):
        try:
            return ast.literal_eval(candidate)
        except (ValueError, SyntaxError):
            continue
    raise ValueError(stripped)


def parse_revision(path: str, data: bytes, *, compile_check: bool) -> Revision | Unreadable:
    """Read one revision file; ``compile_check`` also compiles it to find syntax errors."""
    try:
        text = data.decode()  # the built-in codec: "utf-8-sig" is pure Python, 3x slower
    except UnicodeDecodeError as exc:
        return Unreadable(path, data[: exc.start].count(b"\n") + 1,
                          f"not valid UTF-8 at byte {exc.start}")
    text = text.removeprefix("\ufeff")
    if compile_check:
        try:
            compile(text, path, "exec", dont_inherit=True)
        except SyntaxError as exc:
            return Unreadable(path, exc.lineno or 1, f"syntax error: {exc.msg}")
        except ValueError as exc:  # null bytes
            return Unreadable(path, 1, str(exc))
    revision_pattern, down_pattern, _ = _patterns()
    rev = revision_pattern.search(text)
    if rev is None:
        return Unreadable(path, 1, "no `revision = '...'` assignment found")
    down = down_pattern.search(text)
    if down is None:
        return Unreadable(path, 1, "no `down_revision = ...` assignment found")
    try:
        value = _literal(down.group("value"), text, down.start("value"))
    except ValueError:
        return Unreadable(path, _line_of(text, down.start()),
                          "down_revision is not a literal string, tuple or None")
    parents: tuple[str, ...]
    if value is None:
        parents = ()
    elif isinstance(value, str):
        parents = (value,)
    elif isinstance(value, tuple | list) and all(isinstance(v, str) for v in value):
        parents = tuple(value)
    else:
        return Unreadable(path, _line_of(text, down.start()),
                          "down_revision must be None, a string or a tuple of strings")
    return Revision(path, rev.group("id"), parents, _line_of(text, rev.start()))


#: Revision files kept per cache folder: a few projects' histories.
KEPT_REVISIONS = 16_384
#: Whole histories kept (see ParsedRevisions.parse_history): a few bases of a few projects.
KEPT_HISTORIES = 64
#: Bump when what is stored changes.
REVISIONS_FORMAT = "alembic-revisions-2"

Parsed = Revision | Unreadable


class ParsedRevisions:
    """Revision files parsed in earlier runs, in a cache folder (``None``: keep nothing):
    each by its blob id, and whole histories (a base's revisions) as one entry.

    A blob id is already a hash of the file's bytes, so it is the key itself; each entry
    also holds a stamp of the parsing code (this module's size and time), and one made by
    other code is parsed again and replaced under the same key: an upgrade leaves no stale
    entries behind to be read. Parsing the 1,001 revisions of a long history cost the
    linear check ~15 ms a run (reading their blobs ~9, parsing ~6).
    """

    def __init__(self, directory: str | None) -> None:
        from migration_guard.cache import Pack, key_of

        self._pack = Pack(directory, keep=KEPT_REVISIONS)
        self._histories = Pack(os.path.join(directory, "histories") if directory else None,
                               keep=KEPT_HISTORIES)
        self._stamp = key_of([_parser_stamp()])[:12]
        self._key_of = key_of

    def parse_many(self, oids: Mapping[str, str],
                   read_many: Callable[[list[str]], Mapping[str, bytes]], *,
                   compiled: Collection[str] = (),
                   known: Mapping[str, Parsed] | None = None) -> dict[str, Parsed]:
        """Each path of ``oids`` (path -> blob id) parsed, in that order; only the files not
        parsed before are read (``read_many`` of their paths). Those in ``compiled`` are
        always read and compiled: a syntax error is not what the cache remembers.
        ``known``: parses at hand, by blob id (of files not compiled)."""
        found: dict[str, Parsed] = {}
        for path, oid in oids.items():
            if path in compiled:
                continue
            kept = known.get(oid) if known else None
            if kept is None:
                kept = self._known(path, oid)
            elif kept.path != path:
                kept = kept._replace(path=path)
            if kept is not None:
                found[path] = kept
        missing = [p for p in oids if p not in found]
        texts = read_many(missing) if missing else {}
        for path in missing:
            found[path] = self._parse(path, oids[path], texts[path],
                                      compile_check=path in compiled)
        return {p: found[p] for p in oids}

    def parse_history(self, oids: Mapping[str, str],
                      read_many: Callable[[list[str]], Mapping[str, bytes]]) -> dict[str, Parsed]:
        """:meth:`parse_many` of a whole history (path -> blob id, none compiled), kept as one
        entry keyed by every path and blob id: every commit of a branch is compared with
        the same base, and 1,000 revisions read as one entry in ~2 ms, one by one in
        ~3.5 ms (sixteen pack files to read)."""
        key = self._key_of((self._stamp, "".join(f"{p}\0{oid}\0" for p, oid in oids.items())))
        kept = _history_of(self._histories.get(key), list(oids))
        if kept is not None:
            return kept
        parsed = self.parse_many(oids, read_many)
        self._histories.put(key, tuple(_stored(r) for r in parsed.values()))
        return parsed

    def save(self) -> None:
        self._pack.save()
        self._histories.save()

    def _known(self, path: str, oid: str) -> Parsed | None:
        stored = self._pack.get(oid)
        if not isinstance(stored, tuple) or len(stored) != 5 or stored[0] != self._stamp:
            return None  # nothing kept, something else, or another parser's: parse it
        return _parsed_of(path, stored[1:])

    def _parse(self, path: str, oid: str, data: bytes, *, compile_check: bool) -> Parsed:
        result = parse_revision(path, data, compile_check=compile_check)
        # A revision reads the same with or without the compile check; a file that cannot be
        # read is kept only when the compile check could not be why. A new revision is
        # compiled every run: kept already, it is not written again (~0.7 ms a run).
        kept = (self._stamp, *_stored(result))
        if (isinstance(result, Revision) or not compile_check) and self._pack.get(oid) != kept:
            self._pack.put(oid, kept)
        return result


def _stored(result: Parsed) -> tuple[str, str, tuple[str, ...], int]:
    """What is kept of a parse: it holds no path (the same bytes under another name parse
    the same)."""
    if isinstance(result, Revision):
        return ("r", result.id, result.down, result.line)
    return ("u", result.reason, (), result.line)


def _parsed_of(path: str, stored: object) -> Parsed | None:
    """The parse :func:`_stored` kept, for ``path``; None when it does not read as one."""
    if not isinstance(stored, tuple) or len(stored) != 4:
        return None
    kind, text, down, line = stored
    if not isinstance(text, str) or not isinstance(line, int) or not isinstance(down, tuple):
        return None
    if kind == "u":
        return Unreadable(path, line, text)
    if kind == "r" and all(isinstance(p, str) for p in down):
        return Revision(path, text, down, line)
    return None


def _history_of(stored: object, paths: list[str]) -> dict[str, Parsed] | None:
    """A kept history for ``paths`` (in their order); None when it does not read as one."""
    if not isinstance(stored, tuple) or len(stored) != len(paths):
        return None
    found: dict[str, Parsed] = {}
    for path, item in zip(paths, stored, strict=True):
        parsed = _parsed_of(path, item)
        if parsed is None:
            return None
        found[path] = parsed
    return found


def _parser_stamp() -> str:
    """What the parsing code is: the format, the package's version, this file's size and
    time (an edit or a reinstall changes them)."""
    from migration_guard import __version__

    try:
        stat = os.stat(__file__)
        where = f"{stat.st_size}:{stat.st_mtime_ns}"
    except OSError:
        where = "unknown"
    return f"{REVISIONS_FORMAT}:{__version__}:{where}"


class Graph(NamedTuple):
    revisions: dict[str, Revision]
    duplicates: list[tuple[Revision, Revision]]
    missing: list[tuple[Revision, str]]

    @property
    def heads(self) -> list[str]:
        referenced = {p for r in self.revisions.values() for p in r.down}
        return sorted(rid for rid in self.revisions if rid not in referenced)

    def ancestors(self, rid: str) -> set[str]:
        seen: set[str] = set()
        stack = [rid]
        while stack:
            current = self.revisions.get(stack.pop())
            if current is None:
                continue
            for parent in current.down:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    def cycles(self) -> list[list[str]]:
        """Each cycle once, as the ids along it (iterative DFS, colour marking)."""
        if not self._has_cycle():
            return []
        colour: dict[str, int] = {}
        found: list[list[str]] = []
        for root in sorted(self.revisions):
            if colour.get(root):
                continue
            path: list[str] = []
            stack: list[tuple[str, int]] = [(root, 0)]
            while stack:
                rid, index = stack.pop()
                if index == 0:
                    colour[rid] = 1
                    path.append(rid)
                parents = [p for p in self.revisions[rid].down if p in self.revisions]
                if index < len(parents):
                    stack.append((rid, index + 1))
                    parent = parents[index]
                    if colour.get(parent) == 1:
                        found.append([*path[path.index(parent):], parent])
                    elif not colour.get(parent):
                        stack.append((parent, 0))
                else:
                    colour[rid] = 2
                    path.pop()
        return found

    def _has_cycle(self) -> bool:
        """Peel revisions off from the heads down (Kahn): only a cycle stops the peeling.
        A fraction of the full search's cost, and almost every graph has no cycle."""
        pending = dict.fromkeys(self.revisions, 0)  # id -> children not yet peeled
        for rev in self.revisions.values():
            for parent in rev.down:
                if parent in pending:
                    pending[parent] += 1
        ready = [rid for rid, count in pending.items() if count == 0]
        peeled = 0
        while ready:
            peeled += 1
            for parent in self.revisions[ready.pop()].down:
                if parent in pending:
                    pending[parent] -= 1
                    if pending[parent] == 0:
                        ready.append(parent)
        return peeled != len(pending)


def build_graph(revisions: Iterable[Revision]) -> Graph:
    by_id: dict[str, Revision] = {}
    duplicates: list[tuple[Revision, Revision]] = []
    for rev in sorted(revisions, key=lambda r: r.path):
        if rev.id in by_id:
            duplicates.append((by_id[rev.id], rev))
        else:
            by_id[rev.id] = rev
    missing = [(rev, parent) for rev in by_id.values() for parent in rev.down
               if parent not in by_id]
    return Graph(by_id, duplicates, missing)


def depths(revisions: Mapping[str, Revision]) -> dict[str, int]:
    """Longest distance from a root for each revision: sorting by it puts parents first.

    Parents outside ``revisions`` count as roots; a cycle (reported by ``linear``) ends
    the walk instead of looping. Linear time: each revision is computed once.
    """
    depth: dict[str, int] = {}
    for start in revisions:
        stack, walking = [start], {start}
        while stack:
            rid = stack[-1]
            if rid in depth:
                stack.pop()
                continue
            pending = [p for p in revisions[rid].down
                       if p in revisions and p not in depth and p not in walking]
            if pending:
                stack.extend(pending)
                walking.update(pending)
                continue
            depth[rid] = 1 + max((depth.get(p, 0) for p in revisions[rid].down), default=0)
            stack.pop()
    return depth


# Directories an Alembic project's modules never live in; skipping them keeps a repository
# with a committed virtualenv from being exported whole.
_SKIPPED_DIRS = frozenset({"node_modules", ".git", ".venv", "venv", "__pycache__", ".tox"})


def project_files(paths: Iterable[str], *, alembic_ini: str, env_py: str, migrations: str,
                  root: str) -> list[str]:
    """What running an Alembic project needs: ``alembic.ini``, the script directory, the
    migrations, and the Python files under the project's root."""
    script_dir = posixpath.dirname(env_py) + "/"
    migrations_dir = migrations + "/"
    prefix = root + "/" if root else ""
    wanted: list[str] = []
    for path in paths:
        if not path.startswith(prefix) or _SKIPPED_DIRS.intersection(path.split("/")[:-1]):
            continue
        if path == alembic_ini or path.endswith(".py") \
                or path.startswith((script_dir, migrations_dir)):
            wanted.append(path)
    return wanted
