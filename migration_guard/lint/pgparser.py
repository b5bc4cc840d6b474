"""PostgreSQL's own parser (pglast's C extension), loaded without the rest of pglast.

``import pglast`` runs the package's ``__init__``, which imports typing and
``pglast.enums``, and the extension imports ``pglast.ast``: ~20 ms, a third of a one-file
lint, spent on names only pglast's Python AST uses. The lint uses the JSON tree and the
scanner, so the extension is loaded with the package's ``__init__`` held back (the
package module is made as an import makes it, holding ``Error``, ``error`` and
``parser``) and with two placeholders standing in for ``pglast.ast`` and
``pglast.enums``. Each runs or imports the real code in place when a name it lacks is
first read: code that later imports or uses pglast (in the same process) gets what it
would have got; only ``dir(pglast)`` lists fewer names until then. A pglast whose
extension asks its package for more than ``Error`` is imported whole, as usual.

Measured with callgrind (re, json and enum already imported): importing this module cost
~31 M instructions with the package's ``__init__`` run (~13 M of them importing typing),
~17 M with it held back; ``python -c pass`` is 38 M.
"""

from __future__ import annotations

import sys
from types import ModuleType

from migration_guard.cache import find_spec

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


class _HeldPackage(ModuleType):
    """A package whose ``__init__`` has not run: it runs, in this very module, when a name
    the module lacks is first read (as the import would have run it)."""

    def __getattr__(self, attr: str) -> object:
        # An import of a submodule asks for it first ("from . import ast"): it is that.
        submodule = sys.modules.get(f"{self.__name__}.{attr}")
        if submodule is not None:
            return submodule
        spec = self.__dict__.get("__spec__")
        if self.__dict__.pop("_held", False) and spec is not None and spec.loader is not None:
            spec.loader.exec_module(self)
            if attr in self.__dict__:
                return self.__dict__[attr]
        raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")


def _hold_package() -> ModuleType | None:
    """The ``pglast`` package module, registered with its ``__init__`` held back; None
    when pglast is imported already (or cannot be found: the import then says why)."""
    if "pglast" in sys.modules:
        return None
    spec = find_spec("pglast")
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return None
    package = _HeldPackage("pglast")
    package.__dict__.update(__spec__=spec, __loader__=spec.loader, __package__="pglast",
                            __path__=list(spec.submodule_search_locations),
                            __file__=spec.origin, _held=True)
    sys.modules["pglast"] = package
    return package


def _stand_in() -> dict[str, ModuleType]:
    """Placeholders for the deferred modules."""
    placeholders: dict[str, ModuleType] = {
        name: _OnFirstUse(name) for name in _DEFERRED if name not in sys.modules}
    sys.modules.update(placeholders)
    return placeholders


def _withdraw(placeholders: dict[str, ModuleType]) -> None:
    """From now on ``import pglast.ast`` imports the real module, as usual."""
    for name, module in placeholders.items():
        if sys.modules.get(name) is module:
            del sys.modules[name]


def _load_held() -> ModuleType | None:
    """The parser extension, loaded with the package held back; None when pglast is
    imported already, or when this pglast loads otherwise (its extension asks its package
    for more than ``Error``): everything registered here is withdrawn, and the caller
    imports the whole package as usual."""
    package = _hold_package()
    if package is None:
        return None
    placeholders = _stand_in()
    try:
        # "import a.b", not "from a import b", which would first ask the package for b.
        import pglast.error

        package.__dict__["Error"] = pglast.error.Error  # the extension takes it from there
        import pglast.parser
    except Exception:
        for name in ("pglast.parser", "pglast.error"):
            sys.modules.pop(name, None)
        if sys.modules.get("pglast") is package:
            del sys.modules["pglast"]
        return None
    finally:
        _withdraw(placeholders)
    return pglast.parser


_held = _load_held()
if _held is None:
    import pglast.parser as parser
else:
    parser = _held

__all__ = ["parser"]
