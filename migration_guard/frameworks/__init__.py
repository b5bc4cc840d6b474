"""Migration frameworks behind one interface: how a repository lays out a framework's
projects, which files are migrations, how they sort, how its runner records and runs them.

One module per framework, named as :data:`NAMES` spells it (``-`` as ``_``), each with a
``FRAMEWORK`` instance of a :class:`Framework` subclass; :func:`get` returns one by name,
importing only that module. Nothing outside this package spells a framework's name: what
differs between frameworks is asked of the framework. The SQL-directory flavours share
:class:`~migration_guard.frameworks.sqldir.SqlDirectory`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from functools import cache

from migration_guard.typing_lite import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # types only: the arrows at run time point down
    from typing import Any

    from migration_guard.findings import Finding, Outcome
    from migration_guard.frameworks.newfile import Plan, Write
    from migration_guard.git.changeset import ChangeSet
    from migration_guard.projects import Project

Reader = Callable[[str], bytes | None]

#: Every framework, in detection order: a directory claimed by an earlier framework's
#: marker files (``alembic.ini``, ``drizzle.config.*``, ...) is not looked at again by the
#: directory-shape frameworks after it.
NAMES = ("alembic", "drizzle", "prisma", "supabase", "flyway", "golang-migrate", "dbmate",
         "sql")

#: Frameworks whose server-side setup the apply check can provide (``postgres.preset``).
SERVER_PRESETS = ("supabase",)


class Version(NamedTuple):
    """Where a migration sorts (``key``) and how its version reads (``text``)."""

    key: tuple[int | str, ...]
    text: str


class Section(NamedTuple):
    """The part of a migration file a runner applies."""

    text: str
    start_line: int  # of ``text`` in the file
    transactional: bool | None  # False: the file says "no transaction"; None: decide


class Found(NamedTuple):
    """A project as detection finds it in a tree (repository-relative paths)."""

    migrations: str  # the directory holding the migration files
    schema: tuple[str, ...] | None  # globs of the schema sources; None: read env.py later
    schema_from: str  # where the schema globs came from, for messages
    root: str  # the directory the framework's commands run in
    generate_command: str = ""  # "" is the framework's own
    alembic_ini: str | None = None
    env_py: str | None = None
    module_roots: tuple[str, ...] = ()
    #: Why the project cannot be checked as found (a value only known at run time): the
    #: commands exit 2 with it unless the config declares the project itself.
    problem: str = ""
    framework_config: str | None = None  # the framework's own config file (drizzle.config.*)
    notes: tuple[str, ...] = ()  # what detection could not find, said in every check's output


class Framework:
    """Naming, ordering, detection and runner rules of one migration framework.

    Paths given to the naming methods are relative to the project's migrations directory.
    """

    name: str = ""
    pattern_text: str = ""  # the naming pattern, as the user reads it in a message
    ordered: bool = True  # new migrations must sort after the base's newest
    generate_command: str = ""
    #: Migrations are Python run by the framework itself (Alembic), not SQL files.
    python: bool = False
    #: Detected by marker files of its own; the directory-shape frameworks come after.
    claims_directories: bool = True
    #: Path suffixes detection needs to see (``.sql`` files are always seen), and those
    #: of the small files it reads.
    markers: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    #: What detection looks for, as a user reads it in "no migration projects found".
    detected_by: str = ""
    #: Migrations may sit in subdirectories of the migrations directory.
    recursive: bool = False
    #: The file (relative to the migrations directory) that lists the migrations in
    #: order; "" when file names alone order them.
    journal: str = ""
    #: Its schema sources are SQL files declaring the desired schema (compared by drift).
    declarative_schema: bool = False
    #: A line the framework writes between statements; its runner splits files on it.
    statement_breakpoint: str = ""
    #: The framework's runner applies every pending migration in one transaction.
    one_transaction_per_run: bool = False
    #: The runner's bookkeeping: tables and schemas that are never part of the schema.
    tracking_tables: frozenset[str] = frozenset()
    tracking_schemas: frozenset[str] = frozenset()
    #: Schemas the platform owns (not the migrations): left out of a live drift compare.
    platform_schemas: tuple[str, ...] = ()
    #: The query ``status`` reads applied versions with (one text column); "" for none.
    applied_query: str = ""

    def detect(self, paths: list[str], read: Reader, *,
               every: Sequence[str] = ()) -> list[Found]:
        """The framework's projects among ``paths`` (a tree's relevant file names; ``every``
        is all of them, for a framework whose config names paths of any kind)."""
        return []

    def detect_named(self, path: str, read: Reader) -> list[Found]:
        """The project a config file the user names (``alembic_ini: alembic2.ini``)
        declares, whatever the file is called."""
        return self.detect([path], read)

    def detect_directory(self, directory: str, names: list[str], read: Reader) -> bool:
        """For directory-shape frameworks: whether the ``.sql`` files ``names`` of an
        unclaimed ``directory`` are this framework's migrations."""
        return False

    def recorded_version(self, rel: str) -> str:
        """The version the runner records in its bookkeeping table for a migration."""
        version = self.version(rel)
        return version.text if version else rel

    def applied(self, recorded: set[str], versions: list[str]) -> set[str]:
        """Which of ``versions`` (the files', in apply order) the bookkeeping rows
        ``recorded`` say are applied."""
        return recorded

    def upgrade_sql(self, rel: str, data: bytes) -> bytes | None:
        """The part of a migration file that runs on upgrade; None: nothing does."""
        return data

    def applies(self, rel: str) -> bool:
        """A migration the runner applies going up (not a down or undo file)."""
        return True

    def new_migration(self, plan: Plan) -> list[Write]:
        """The files of a new migration, named and ordered as the framework wants."""
        raise NotImplementedError(f"{self.name} writes its own migrations")

    def journal_findings(self, project: Project, changeset: ChangeSet,
                         files: dict[str, str]) -> list[Finding]:
        """Where the journal, as checked and as merged, and the migration files (``files``:
        name relative to the migrations directory -> path) disagree."""
        return []

    def listed_order(self, migrations: str, paths: list[str],
                     read: Reader) -> list[str] | None:
        """``paths`` (repository-relative migrations) in the order the framework's own
        list of migrations gives them; None when it keeps none (or it is unreadable)."""
        return None

    def up_section(self, text: str) -> Section | None:
        """What the runner runs of a migration's text going up; None: nothing."""
        return Section(text, 1, None)

    def looks_like_migration(self, rel: str) -> bool:
        """A file that wants to be a migration (its name is then checked)."""
        return rel.endswith(".sql")

    def is_migration(self, rel: str) -> bool:
        """A file whose content is protected once merged."""
        return self.version(rel) is not None

    def migration_version(self, rel: str) -> Version | None:
        """``version(rel)`` when the file is a migration, else None (for loops over many)."""
        version = self.version(rel)
        return version if version is not None and self.is_migration(rel) else None

    def is_repeatable(self, rel: str) -> bool:
        """A migration meant to be edited in place (Flyway's ``R__``)."""
        return False

    def version(self, rel: str) -> Version | None:
        """The version in the file's name; None when the name does not match the pattern."""
        raise NotImplementedError

    def version_group(self, rel: str) -> str:
        """Files with the same version and the same group are duplicates."""
        return ""

    def chunks(self, text: str) -> list[tuple[str, int]]:
        """The pieces the runner executes one by one, with the line each starts on."""
        return [(text, 1)]

    def rehint(self, findings: list[Finding]) -> list[Finding]:
        """Lint findings with hints this framework's users can follow."""
        return findings

    def immutable_extras(self, project: Project, changeset: ChangeSet,
                         check: str) -> list[Finding]:
        """Findings for merged files besides the migrations (a journal, snapshots)."""
        return []

    def prove_required(self, project: Project, changeset: ChangeSet,
                       findings: list[Finding]) -> Outcome | None:
        """The framework's generator judging what the fast ``required`` rule found (None:
        no generator; the fast rule's findings stand)."""
        return None

    def declared_schema(self, project: Project,
                        changeset: ChangeSet) -> tuple[str, str] | None:
        """``(path, SQL)`` of the schema the project's own source declares, for drift
        (None: the framework has none; a GuardError when it has one but cannot print it)."""
        return None

    def applied_paths(self, conn: Any, project: Project,
                      changes: ChangeSet) -> set[str] | None:
        """The migration paths a live database records as applied (None: not known here)."""
        return None

    def write_status(self, conn: Any, project: Project, changes: ChangeSet,
                     out: Any) -> bool:
        """Write the project's applied/pending status when the framework reads its own
        bookkeeping; False leaves it to the generic version query."""
        return False


def runs_in_one_transaction(fw: Framework, runner: str) -> bool:
    """All pending migrations run in one transaction: the framework's own runner does so,
    and the config's ``runner`` does not say the SQL is applied per file instead."""
    return fw.one_transaction_per_run and runner == "framework"


@cache
def get(name: str) -> Framework:
    """The framework called ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise KeyError(name)
    module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
    framework: Framework = module.FRAMEWORK
    return framework


def bookkeeping() -> tuple[frozenset[str], frozenset[str]]:
    """The tables and schemas every framework's runner keeps its records in: never part
    of a schema the migrations are meant to produce."""
    every = [get(name) for name in NAMES]
    return (frozenset().union(*(fw.tracking_tables for fw in every)),
            frozenset().union(*(fw.tracking_schemas for fw in every)))
