"""Writing a new migration the way a framework names it: the plan every framework's
``new_migration`` receives, the files it returns, and the version that sorts after every
existing one (in the style the newest one uses: a timestamp, a Unix time, a sequence)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from migration_guard.frameworks import Reader, Version
from migration_guard.typing_lite import NamedTuple

STAMP = "%Y%m%d%H%M%S"


class Write(NamedTuple):
    path: str  # repository-relative
    content: str
    verb: str = "wrote"


class Plan(NamedTuple):
    """What to write: after ``versions``, a migration called ``slug`` of ``up``/``down``
    SQL; ``read`` reads the work tree (a journal to extend)."""

    migrations: str
    versions: list[Version]
    slug: str
    up: str
    down: str
    now: datetime
    read: Reader

    def at(self, rel: str) -> str:
        return f"{self.migrations}/{rel}"


def leading_digits(version: Version) -> str:
    match = re.match(r"\d+", version.text)
    return match.group() if match else ""


def version_style(versions: Sequence[Version], default: str, *, unix: bool = False) -> str:
    """How the newest migration's version reads: "timestamp", "unix" or "sequence"."""
    if not versions:
        return default
    digits = leading_digits(max(versions, key=lambda v: v.key))
    if len(digits) == 14:
        return "timestamp"
    if unix and len(digits) == 10:
        return "unix"
    return "sequence"


def newest_number(versions: Sequence[Version]) -> int:
    """The leading number of the newest version (0 for none)."""
    return max((int(v.key[0]) for v in versions if v.key), default=0)


def next_version(versions: Sequence[Version], style: str, now: datetime, width: int) -> str:
    """A version after every one in ``versions``, written in ``style``."""
    newest = newest_number(versions)
    if style == "timestamp":
        stamp = now.strftime(STAMP)
        if int(stamp) > newest:
            return stamp
        try:
            return (datetime.strptime(str(newest), STAMP) + timedelta(seconds=1)).strftime(STAMP)
        except ValueError:
            return str(newest + 1)
    if style == "unix":
        return str(max(int(now.timestamp()), newest + 1))
    if versions:
        width = len(leading_digits(max(versions, key=lambda v: v.key)))
    return str(newest + 1).zfill(width)
