"""typing's two run-time names that the modules a hook imports use, ``TYPE_CHECKING`` and
``NamedTuple``, without importing typing: what ``from typing import ...`` costs is most of
what a hook does beyond starting Python and running git.

Measured with callgrind (instructions, whole process; ``python -c pass`` is 38 M): importing
typing costs a hook ~12 M, and each ``class X(typing.NamedTuple)`` of five string-annotated
fields ~1.45 M, where :func:`collections.namedtuple` of the same fields costs ~0.43 M; a
hook defines 20-30 such classes. typing's class checks every annotation, compiling each
string into a ``ForwardRef``: this one leaves the annotations to the type checker, which
reads ``typing.NamedTuple`` itself (see ``TYPE_CHECKING`` below), and builds the same class.
"""

from __future__ import annotations

import collections

#: typing's own flag, spelled here: False at run time, and mypy reads any name
#: ``TYPE_CHECKING`` as true, so the imports under it name types for annotations only.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    #: What a record class may not define itself: the tuple's own machinery (typing's list).
    _PROHIBITED = frozenset({"__new__", "__init__", "__slots__", "__getnewargs__", "_fields",
                             "_field_defaults", "_make", "_replace", "_asdict", "_source"})
    _SPECIAL = frozenset({"__module__", "__name__", "__annotations__"})

    class _RecordMeta(type):
        """Turns ``class X(NamedTuple)`` into a :func:`collections.namedtuple` class with
        X's docstring, methods and properties, as typing does."""

        def __new__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, object],
                    ) -> type:
            if namespace.get("__module__") == __name__:
                return super().__new__(cls, name, bases, namespace)  # NamedTuple itself
            if bases != (NamedTuple,):
                raise TypeError(f"{name}: a record's only base is NamedTuple "
                                "(use typing.NamedTuple for a generic one)")
            fields = namespace.get("__annotations__", {})
            if "__annotate__" in namespace and not fields:
                raise TypeError(f"{name}: its module needs `from __future__ import "
                                "annotations`, which keeps the fields in __annotations__")
            assert isinstance(fields, dict)
            return _record(name, list(fields), namespace)

    class NamedTuple(metaclass=_RecordMeta):
        """Base of a record class; the class made is a :func:`collections.namedtuple`."""

    def _record(name: str, fields: list[str], namespace: dict[str, object]) -> type:
        defaults = [field for field in fields if field in namespace]
        if defaults != fields[len(fields) - len(defaults):]:
            raise TypeError(f"{name}: a field without a default follows one with a default")
        record = collections.namedtuple(name, fields, module=str(namespace["__module__"]),
                                        defaults=[namespace[field] for field in defaults])
        for key, value in namespace.items():
            if key in _PROHIBITED:
                raise AttributeError(f"Cannot overwrite NamedTuple attribute {key}")
            if key not in _SPECIAL and key not in fields:
                setattr(record, key, value)
        return record
