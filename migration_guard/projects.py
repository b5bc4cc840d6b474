"""Projects: which migration directories a repository has, by detection or by config.

Detection reads only the snapshot's file list plus a few small files (``alembic.ini``,
``drizzle.config.*``, ``flyway.conf``): it works from the index or a commit, never the
working tree, and costs a few milliseconds on a 10,000-file repository.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence

from migration_guard import frameworks
from migration_guard.config import YAML_NAME, Config, ProjectConfig
from migration_guard.errors import GuardError
from migration_guard.git.repo import Entry
from migration_guard.typing_lite import NamedTuple

Reader = Callable[[str], bytes | None]


class Project(NamedTuple):
    name: str
    framework: str
    migrations: str  # repository-relative directory holding the migration files
    schema: tuple[str, ...] | None  # globs; None: resolve from env.py when needed
    schema_from: str  # where the schema globs came from, for messages
    exclude: tuple[str, ...]
    allow_out_of_order: bool
    generate_command: str
    root: str  # the directory the framework's commands run in
    alembic_ini: str | None = None
    env_py: str | None = None
    module_roots: tuple[str, ...] = ()
    config: ProjectConfig | None = None  # the config entry it came from; None if detected
    problem: str = ""  # why it cannot be checked as detected (see frameworks.Found)
    #: Found only in the base tree: its whole migrations directory was deleted or moved.
    deleted: bool = False
    framework_config: str | None = None  # the framework's own config file (drizzle.config.*)
    notes: tuple[str, ...] = ()  # what detection could not find, said in every check's output

    def rel(self, path: str) -> str | None:
        """``path`` relative to the migrations directory, or None when outside it."""
        prefix = self.migrations + "/"
        return path[len(prefix):] if path.startswith(prefix) else None

    def inside(self, files: dict[str, Entry]) -> dict[str, Entry]:
        """The entries of ``files`` below the migrations directory."""
        prefix = self.migrations + "/"
        return {p: e for p, e in files.items() if p.startswith(prefix)}

    @property
    def fw(self) -> frameworks.Framework:
        return frameworks.get(self.framework)


def _dirname(path: str) -> str:
    return posixpath.dirname(path)


def _from_found(fw: frameworks.Framework, found: frameworks.Found) -> Project:
    return Project(
        name=found.migrations, framework=fw.name, migrations=found.migrations,
        schema=found.schema, schema_from=found.schema_from, exclude=(),
        allow_out_of_order=False, generate_command=found.generate_command or fw.generate_command,
        root=found.root, alembic_ini=found.alembic_ini, env_py=found.env_py,
        module_roots=found.module_roots, problem=found.problem,
        framework_config=found.framework_config, notes=found.notes)


def _all_frameworks() -> list[frameworks.Framework]:
    return [frameworks.get(name) for name in frameworks.NAMES]


def _directory_projects(paths: list[str], claimed: list[str], read: Reader,
                        shapes: list[frameworks.Framework]) -> list[Project]:
    """Directories of ``.sql`` files no marker file claimed, recognised by their shape."""
    by_dir: dict[str, list[str]] = {}
    for path in paths:
        if path.endswith(".sql"):
            directory, _, name = path.rpartition("/")
            by_dir.setdefault(directory, []).append(name)
    prefixes = tuple(c + "/" for c in claimed)
    found: list[Project] = []
    recursive: list[str] = []  # a recursive framework's subdirectories are its own
    for directory in sorted(by_dir):
        if directory in claimed or (directory + "/").startswith(prefixes) \
                or any(directory.startswith(d + "/") for d in recursive):
            continue
        fw = next((f for f in shapes if f.detect_directory(directory, by_dir[directory], read)),
                  None)
        if fw is None:
            continue
        if fw.recursive:
            recursive.append(directory)
        found.append(_from_found(fw, frameworks.Found(directory, (), "no schema source",
                                                      _dirname(directory))))
    return found


def detect(
    all_paths: list[str], read: Reader, prefetch: Callable[[list[str]], object] | None = None
) -> list[Project]:
    """Every migrations project found in the snapshot's file list."""
    every = _all_frameworks()
    # One C-speed pass drops the bulk of a large repository before any regex runs.
    markers = tuple(m for fw in every for m in fw.markers)
    paths = [p for p in all_paths if p.endswith((".sql", *markers))]
    if prefetch is not None:  # the few small files detection reads, in one batch
        reads = tuple(r for fw in every for r in fw.reads)
        prefetch([p for p in paths if p.endswith(reads)])
    found = [_from_found(fw, f) for fw in every if fw.claims_directories
             for f in fw.detect(paths, read, every=all_paths)]
    claimed = [p.migrations for p in found]
    found += _directory_projects(paths, claimed, read,
                                 [fw for fw in every if not fw.claims_directories])
    return sorted(found, key=lambda p: p.migrations)


def _classify(directory: str, paths: list[str], read: Reader) -> str | None:
    inside = [p for p in paths if p.startswith(directory + "/")]
    for project in detect(inside, read):
        if project.migrations == directory:
            return project.framework
    return None


def looked_for() -> str:
    """What detection looks for, every framework's markers in one phrase."""
    return "; ".join(fw.detected_by for fw in _all_frameworks())


def _link_target(link: str, text: str) -> str | None:
    """Where a symbolic link in the tree points, repository-relative; None: outside it."""
    if text.startswith("/"):
        return None
    target = posixpath.normpath(posixpath.join(_dirname(link), text))
    return None if target == ".." or target.startswith("../") else target


def _through_links(paths: list[str], read: Reader,
                   links: Mapping[str, str]) -> tuple[list[str], Reader]:
    """``paths`` plus, for each link to a directory of the tree, the paths below the link
    (so detection sees a linked migrations directory), and a reader of both."""
    aliases: dict[str, str] = {}
    for link, text in links.items():
        target = _link_target(link, text)
        if target is None:
            continue
        prefix = target + "/"
        aliases.update({link + p[len(target):]: p for p in paths if p.startswith(prefix)})
    if not aliases:
        return paths, read
    return [*paths, *aliases], lambda path: read(aliases.get(path, path))


def _follow_links(project: Project, links: Mapping[str, str], present: set[str]) -> Project:
    """The project with its migrations directory resolved through a symbolic link: edits
    through the link are edits of the files it points to. A link out of the repository,
    or to nothing in it, cannot be checked: exit 2."""
    for link, text in links.items():
        if project.migrations != link and not project.migrations.startswith(link + "/"):
            continue
        target = _link_target(link, text)
        hint = ("replace the link with the directory itself, or declare the real directory "
                "under `projects:` in the config")
        if target is None:
            raise GuardError(f"{project.migrations}: the migrations directory is a symbolic "
                             f"link to {text}, outside the repository: it cannot be checked",
                             hint)
        real = target + project.migrations[len(link):]
        if not any(p.startswith(real + "/") for p in present):
            raise GuardError(f"{project.migrations}: the migrations directory is a symbolic "
                             f"link to {real}, which holds no file in the checked tree", hint)
        return project._replace(migrations=real)
    return project


#: Lists the base tree for detection: its paths and a reader of its files; None when the
#: change deleted nothing (a project can vanish from the candidate only by deletions).
BaseTree = Callable[[], tuple[list[str], Reader] | None]


def from_config(
    config: Config, paths: list[str], read: Reader,
    prefetch: Callable[[list[str]], object] | None = None, *,
    base: BaseTree | None = None,
    links: Mapping[str, str] | None = None,
) -> list[Project]:
    """The projects of :func:`declared_or_detected`, with migrations directories behind
    symbolic links (``links``: link path -> its text) followed inside the repository, or
    refused."""
    if links:
        paths, read = _through_links(paths, read, links)
    projects = declared_or_detected(config, paths, read, prefetch, base=base)
    if not links:
        return projects
    present = set(paths)
    return [_follow_links(p, links, present) for p in projects]


def declared_or_detected(
    config: Config, paths: list[str], read: Reader,
    prefetch: Callable[[list[str]], object] | None = None, *,
    base: BaseTree | None = None,
) -> list[Project]:
    """The projects the config names, completed by detection; detection alone without one.

    ``base`` lists the base tree when asked (after the candidate's detection): projects
    detected there and gone from the candidate (a deleted or moved migrations directory)
    are added with ``deleted`` set, so their merged migrations are still compared. Nothing
    found is exit 2 unless the config says ``projects: []``; so is a detected project that
    cannot be resolved.
    """
    if config.projects is not None:
        detected = detect(paths, read, prefetch)
        return _declared(config, detected, paths, read)
    found = detect(paths, read, prefetch)
    listed = base() if base is not None else None
    if listed is not None:
        known = {p.migrations for p in found}
        base_paths, base_read = listed
        found += [p._replace(deleted=True) for p in detect(base_paths, base_read)
                  if p.migrations not in known]
    if not found:
        raise GuardError(f"no migration projects found (looked for {looked_for()})",
                         f"declare yours under `projects:` in {config.source or YAML_NAME} "
                         "(framework and migrations), or `projects: []` if the repository "
                         "has none on purpose")
    for project in found:
        if project.problem and not project.deleted:
            raise GuardError(project.problem, "declare the project under `projects:` in "
                             f"{config.source or YAML_NAME} with its `alembic_ini`, "
                             "`migrations` and `framework`")
    return sorted(found, key=lambda p: p.migrations)


def _declared(config: Config, detected: list[Project], paths: list[str],
              read: Reader) -> list[Project]:
    projects = [_configured(pc, detected, paths, read, config.source or "")
                for pc in config.projects or ()]
    names = [p.name for p in projects]
    for name in names:
        if names.count(name) > 1:
            raise GuardError(f"{config.source}: two projects are named '{name}'",
                             "give each project a distinct name")
    return projects


def _named(path: str, read: Reader) -> Project | None:
    """The project a file the config names declares, whichever framework reads it."""
    for fw in _all_frameworks():
        found = fw.detect_named(path, read)
        if found:
            return _from_found(fw, found[0])
    return None


def _configured(
    pc: ProjectConfig, detected: Iterable[Project], paths: list[str], read: Reader, source: str
) -> Project:
    where = f"{source}:{pc.line}"
    match: Project | None = None
    for candidate in detected:
        if pc.alembic_ini and candidate.alembic_ini != pc.alembic_ini:
            continue
        if pc.migrations and candidate.migrations != pc.migrations:
            continue
        if pc.framework and candidate.framework != pc.framework:
            continue
        match = candidate
        break
    if pc.alembic_ini and match is None:
        match = _named(pc.alembic_ini, read)
        if match is None:
            raise GuardError(f"{where}: {pc.alembic_ini} is not in the checked tree",
                             "check the alembic_ini path")
    if match is not None and match.problem:
        if not pc.migrations:
            raise GuardError(f"{where}: {match.problem}",
                             "set `migrations:` (the revisions directory) for this project")
        # The config says where the revisions are: env.py sits in the script directory
        # above them, as alembic's own layout has it.
        match = match._replace(problem="", env_py=posixpath.join(
            _dirname(pc.migrations), "env.py").lstrip("/"))
    framework = pc.framework or (match.framework if match else None)
    if framework is None and pc.migrations:
        framework = _classify(pc.migrations, paths, read)
    if framework is None or (match is None and not pc.migrations):
        raise GuardError(
            f"{where}: cannot tell the framework or the migrations directory of this project",
            "set both `framework` and `migrations` for it",
        )
    if match is None or match.framework != framework:
        migrations = pc.migrations or ""
        fw = frameworks.get(framework)
        match = Project(migrations, framework, migrations, (), "no schema source", (), False,
                        fw.generate_command, _dirname(migrations))
    schema = match.schema
    schema_from = match.schema_from
    if pc.schema is not None:
        schema, schema_from = pc.schema, f"schema in {source}"
    return match._replace(
        name=pc.name or match.name,
        migrations=pc.migrations or match.migrations,
        schema=schema, schema_from=schema_from,
        exclude=pc.exclude, allow_out_of_order=pc.allow_out_of_order,
        generate_command=pc.generate_command or match.generate_command,
        config=pc,
    )


#: The cache folder of projects detected in an index, how many are kept (a few staged
#: states of a few repositories), and the form they are kept in (bump when it changes).
DETECTED_FOLDER = "detected-projects"
KEPT_DETECTIONS = 64
DETECTION_FORMAT = "detected-2"


class ReadLog:
    """A snapshot's reader that notes the blob id each path it read held (None: no regular
    file there), for :class:`KeptDetection` to check them again."""

    def __init__(self, read_many: Callable[[list[str]], Mapping[str, bytes]],
                 blob_of: Callable[[str], str | None]) -> None:
        self._read_many = read_many
        self._blob_of = blob_of
        self.blobs: dict[str, str | None] = {}

    def read_many(self, paths: list[str]) -> Mapping[str, bytes]:
        for path in paths:
            if path not in self.blobs:
                self.blobs[path] = self._blob_of(path)
        return self._read_many(paths)


class KeptDetection:
    """The projects detection found in an index before, kept in ``directory`` (None: keep
    nothing) under what they follow from: the index's layout (every path, and each
    symbolic link's and submodule's blob), HEAD and the base commit (what a deleted
    migrations directory is looked for in) and the detection code; with the blob id of
    every file detection read, each checked again before the projects are used.

    Each hook under ``git commit`` is its own process and detects in the same index: the
    first one keeps what it found, the others read it and import no framework they do not
    use (detecting in a 10,000-file index took ~3 ms, importing every framework ~3 ms).
    Keyed by the layout rather than every blob, what was found also stands when the same
    commit is tried again with other edits staged but no file added, moved or removed (a
    migration fixed after a finding, a model), as long as no file detection read changed.
    """

    def __init__(self, directory: str | None, layout: str, head: str | None,
                 base: str | None) -> None:
        from migration_guard.cache import Pack, key_of

        stamp = detection_stamp()
        self._pack = Pack(directory if stamp is not None else None, keep=KEPT_DETECTIONS)
        self._key = key_of((DETECTION_FORMAT, stamp or "", head or "", base or "", layout))

    def get(self, blob_of: Callable[[str], str | None]) -> list[Project] | None:
        """The kept projects, if every file detection read still holds the blob it held
        (``blob_of``: a path's blob id in the index, None when no regular file is there);
        None when there are none, they do not read as projects, or a file changed."""
        kept = self._pack.get(self._key)
        if not isinstance(kept, tuple) or len(kept) != 2:
            return None
        blobs, projects = kept
        width = len(Project._fields)
        if not isinstance(blobs, dict) or not all(type(p) is str for p in blobs) \
                or not isinstance(projects, tuple) \
                or not all(type(p) is tuple and len(p) == width for p in projects):
            return None
        if any(blob_of(path) != blob for path, blob in blobs.items()):
            return None
        return [Project(*p) for p in projects]

    def put(self, projects: Sequence[Project], blobs: Mapping[str, str | None]) -> None:
        """Keep ``projects`` (detected ones only: a project from the config is not kept)
        with the blob ids of the files read to find them."""
        if all(p.config is None for p in projects):
            self._pack.put(self._key, (dict(blobs), tuple(tuple(p) for p in projects)))
            self._pack.save()


def detection_stamp() -> str | None:
    """Size and time of the detection code's files (this module and every framework's
    module): an edit or a reinstall detects anew. None when they cannot be read: then
    nothing is kept."""
    from migration_guard.cache import code_stamp, readable

    here = os.path.dirname(os.path.abspath(__file__))
    stamp = code_stamp([os.path.join(here, "frameworks")], [__file__])
    return ";".join(stamp) if readable(stamp) else None


def select(projects: Sequence[Project], name: str | None) -> list[Project]:
    """The project called ``name`` (its name or migrations directory); all when None."""
    if name is None:
        return list(projects)
    chosen = [p for p in projects if name in (p.name, p.migrations, p.migrations + "/")]
    if not chosen:
        known = ", ".join(p.name for p in projects) or "none found"
        raise GuardError(f"no project named {name!r}", f"choose one of: {known}")
    return chosen
