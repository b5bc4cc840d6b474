"""Lint results kept between runs: a file linted before with the same name, bytes and
options, by the same lint code and parser, is not parsed again.

What is kept is the file's analysis as if no earlier file of the change set had created a
table: the result :mod:`migration_guard.lint.batch` reconciles with the tables earlier files
really create, as it does for a slice linted in a forked child. A cache hit imports neither
pglast nor a rule (~10 ms of a one-file lint) and parses nothing.
"""

from __future__ import annotations

import os
from functools import lru_cache

from migration_guard.cache import Pack, code_stamp, key_of, package_folders
from migration_guard.findings import Finding
from migration_guard.lint.analysis import Analysis
from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    from migration_guard.lint.options import LintOptions

#: Files kept per cache folder: a few projects' worth of migrations.
KEEP = 16_384
#: Bump when what is stored changes.
FORMAT = "lint-results-1"


class ResultCache:
    """Analyses by (file name, bytes), for one set of options; ``directory`` ``None``
    keeps nothing."""

    def __init__(self, directory: str | None, options: LintOptions) -> None:
        folder = os.path.join(directory, "lint-results") if directory is not None else None
        self.pack = Pack(folder, keep=KEEP)
        self.salt = (FORMAT, code_fingerprint(), repr(options))

    def key(self, name: str, data: bytes) -> str:
        return key_of((*self.salt, name, data))

    def load(self, key: str) -> Analysis | None:
        """The analysis stored under ``key``, or ``None`` (also for an entry that does not
        read as one: it is linted again)."""
        stored = self.pack.get(key)
        if stored is None:
            return None
        try:
            findings, created, asked = stored
            return Analysis([Finding(*f) for f in findings], frozenset(created), [],
                            frozenset(asked))
        except (TypeError, ValueError):
            return None

    def store(self, key: str, analysis: Analysis) -> None:
        """Keep ``analysis``, which must be the file's result with no table created before."""
        self.pack.put(key, (tuple(tuple(f) for f in analysis.findings),
                            tuple(sorted(analysis.created_tables)),
                            tuple(sorted(analysis.asked))))

    def save(self) -> None:
        self.pack.save()


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """What the lint code is, besides the options: this package's version and the size and
    time of every file of the lint and of pglast (an edit or a reinstall changes them)."""
    from migration_guard import __version__

    lint = os.path.dirname(os.path.abspath(__file__))
    files = [os.path.join(os.path.dirname(lint), name) for name in ("findings.py", "codes.py")]
    folders = [lint, os.path.join(lint, "rules"), *package_folders("pglast")]
    return key_of([__version__, *code_stamp(folders, files)])
