"""PostgreSQL's own parser (pglast's C extension), loaded without pglast's Python AST.

``import pglast`` also imports ``pglast.enums`` and ``pglast.ast``: ~20 ms, a third of a
one-file lint, spent on classes only :func:`pglast.parser.parse_sql` uses. The lint uses
the JSON tree and the scanner, so while the parser loads, two placeholders stand in for
those modules and import the real ones on first use: code that later imports or uses
them (in the same process) sees no difference.
"""

from __future__ import annotations

import sys
from types import ModuleType

_DEFERRED = ("pglast.enums", "pglast.ast")


class _OnFirstUse(ModuleType):
    """Stands in for a module; imports the real one when an attribute is first read."""

    def __getattr__(self, attr: str) -> object:
        from importlib import import_module

        if sys.modules.get(self.__name__) is self:  # still loading: import the real one
            del sys.modules[self.__name__]
        real = import_module(self.__name__)
        # Later reads through the references bound while loading find the real names.
        self.__dict__.update(real.__dict__)
        return getattr(real, attr)


def _stand_in() -> dict[str, ModuleType]:
    """Placeholders for the deferred modules, unless pglast is already imported."""
    if "pglast" in sys.modules:
        return {}
    placeholders: dict[str, ModuleType] = {
        name: _OnFirstUse(name) for name in _DEFERRED if name not in sys.modules}
    sys.modules.update(placeholders)
    return placeholders


def _withdraw(placeholders: dict[str, ModuleType]) -> None:
    """From now on ``import pglast.ast`` imports the real module, as usual."""
    for name, module in placeholders.items():
        if sys.modules.get(name) is module:
            del sys.modules[name]


_placeholders = _stand_in()
try:
    from pglast import parser
finally:
    _withdraw(_placeholders)

__all__ = ["parser"]
