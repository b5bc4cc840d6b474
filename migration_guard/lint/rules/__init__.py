"""Lint rules, one module per family, dispatched on the statement's node type.

Each family module exports ``HANDLERS`` (node type -> functions called with the node and
the :class:`~migration_guard.lint.context.Context`), ``CODES`` (every code it reports) and
may export ``FINISHERS`` (functions called once after the last statement, for whole-file
conventions). A family keeps its own state in the context, so a family none of whose codes
is enabled can be skipped without changing what the others report.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from migration_guard.lint.context import Context, Node
from migration_guard.lint.rules import (
    conventions,
    correctness,
    destructive,
    locking,
    transactions,
    types,
)
from migration_guard.typing_lite import NamedTuple

Handler = Callable[[Node, Context], None]
Finisher = Callable[[Context], None]

_FAMILIES = (transactions, locking, destructive, types, correctness, conventions)


class Plan(NamedTuple):
    """What runs for one set of enabled codes: handlers per node type, then finishers."""

    dispatch: dict[str, tuple[Handler, ...]]
    finishers: tuple[Finisher, ...]


@lru_cache(maxsize=32)
def plan_for(enabled: frozenset[str]) -> Plan:
    """The handlers and finishers of the families that can report an enabled code."""
    table: dict[str, list[Handler]] = {}
    finishers: list[Finisher] = []
    for module in _FAMILIES:
        if module.CODES.isdisjoint(enabled):
            continue
        for node_type, handlers in module.HANDLERS.items():
            table.setdefault(node_type, []).extend(handlers)
        finishers.extend(getattr(module, "FINISHERS", ()))
    return Plan({node_type: tuple(h) for node_type, h in table.items()}, tuple(finishers))
