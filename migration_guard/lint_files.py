"""``migration-guard lint FILE...``: lint SQL files as they are on disk, outside any change set.

For editors and ad-hoc checks. Files are read as bytes (non-UTF-8 content is a finding,
not a crash); a file that cannot be read is a GuardError (exit 2).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from migration_guard.errors import GuardError
from migration_guard.findings import Finding, Outcome
from migration_guard.lint import LintOptions, lint_bytes


def lint_files(files: Sequence[str], cwd: str) -> list[Outcome]:
    findings: list[Finding] = []
    created: set[str] = set()
    for name in files:
        path = os.path.join(cwd, name)
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            raise GuardError(f"cannot read {name}: {error.strerror}",
                             "check the file name") from None
        result = lint_bytes(data, name, options=LintOptions(), created_tables=created)
        created |= result.created_tables
        findings.extend(f._replace(check="lint", project="files") for f in result.findings)
    return [Outcome("lint", "files", findings, [])]
