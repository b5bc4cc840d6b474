"""migrations-apply: the staged migrations apply cleanly on a throwaway PostgreSQL."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from migration_guard.cli import main as cli_main


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(["apply", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
