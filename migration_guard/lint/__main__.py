"""``python -m migration_guard.lint FILE...``: lint SQL files with default options and
print ``path:line:col: CODE message`` lines (exit 1 on findings, 2 on unreadable files).

A stand-in until the real CLI wires lint into its config; also what the benchmark runs.
"""

from __future__ import annotations

import sys

from migration_guard.lint.engine import lint_bytes
from migration_guard.lint.options import LintOptions


def main(argv: list[str]) -> int:
    options = LintOptions()
    created: set[str] = set()
    lines: list[str] = []
    status = 0
    for path in argv:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as error:
            print(f"error: cannot read {path}: {error.strerror}", file=sys.stderr)
            return 2
        result = lint_bytes(data, path, options=options, created_tables=created)
        created |= result.created_tables
        for finding in result.findings:
            status = 1
            lines.append(f"{finding.path}:{finding.line or 1}:{finding.column or 1}: "
                         f"{finding.code} {finding.message}\n    hint: {finding.hint}")
    if lines:
        print("\n".join(lines))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
