"""Allow ``python -m migration_guard``."""

import sys

from migration_guard.cli import main

sys.exit(main())
