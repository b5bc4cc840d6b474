"""``python -m migration_guard.lint FILE...``: lint SQL files with default options and
print ``path:line:col: CODE message`` lines (exit 1 on findings, 2 on unreadable files).

A stand-in with default options; the benchmark times it as the engine without the CLI layer.
"""

from __future__ import annotations

import sys

from migration_guard.lint.batch import UnreadableFile, lint_in_order
from migration_guard.lint.options import LintOptions
from migration_guard.lint.source import read_file


def main(argv: list[str]) -> int:
    try:
        results = lint_in_order(argv, read_file, LintOptions())
    except UnreadableFile as error:
        print(f"error: cannot read {error.name}: {error.strerror}", file=sys.stderr)
        return 2
    lines = [f"{finding.path}:{finding.line or 1}:{finding.column or 1}: "
             f"{finding.code} {finding.message}\n    hint: {finding.hint}"
             for result in results for finding in result.findings]
    if lines:
        print("\n".join(lines))
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
