"""migrations-lint: the SQL new or modified migrations run is safe to run in production."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from migration_guard.cli import main as cli_main


def main(argv: Sequence[str] | None = None) -> int:
    return cli_main(["lint", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
