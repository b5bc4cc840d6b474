"""Lint rules, one module per family, dispatched on the statement's node type.

Each family module exports ``HANDLERS`` (node type -> functions called with the node and
the :class:`~migration_guard.lint.context.Context`) and may export ``FINISHERS``
(functions called once after the last statement, for whole-file conventions).
"""

from __future__ import annotations

from collections.abc import Callable

from migration_guard.lint.context import Context, Node
from migration_guard.lint.rules import (
    conventions,
    destructive,
    locking,
    transactions,
    types,
)

Handler = Callable[[Node, Context], None]
Finisher = Callable[[Context], None]

_FAMILIES = (transactions, locking, destructive, types, conventions)


def _dispatch() -> dict[str, list[Handler]]:
    table: dict[str, list[Handler]] = {}
    for module in _FAMILIES:
        for node_type, handlers in module.HANDLERS.items():
            table.setdefault(node_type, []).extend(handlers)
    return table


DISPATCH: dict[str, list[Handler]] = _dispatch()
FINISHERS: list[Finisher] = [f for module in _FAMILIES for f in getattr(module, "FINISHERS", [])]
