"""``migration-guard lint FILE...``: lint SQL files as they are on disk, outside any change set.

For editors and ad-hoc checks. Files are read as bytes (non-UTF-8 content is a finding,
not a crash); a file that cannot be read is a GuardError (exit 2).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from migration_guard.errors import GuardError
from migration_guard.findings import Outcome
from migration_guard.lint import LintOptions
from migration_guard.lint.batch import UnreadableFile, lint_in_order
from migration_guard.lint.source import read_file


def lint_files(files: Sequence[str], cwd: str) -> list[Outcome]:
    try:
        results = lint_in_order(files, lambda name: read_file(os.path.join(cwd, name)),
                                LintOptions())
    except UnreadableFile as error:
        raise GuardError(f"cannot read {error.name}: {error.strerror}",
                         "check the file name") from None
    findings = [f._replace(check="lint", project="files")
                for result in results for f in result.findings]
    return [Outcome("lint", "files", findings, [])]
