"""Record classes made by ``migration_guard.typing_lite.NamedTuple`` are the classes
``typing.NamedTuple`` makes, and the fast hooks import no typing (the lint's SQL parser
included)."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest
from conftest import Repo, probe_imports

from migration_guard.typing_lite import NamedTuple

T = typing.TypeVar("T")


class Lite(NamedTuple):
    """A migration's place."""

    path: str
    line: int | None
    #: how sure
    severity: str = "error"
    notes: tuple[str, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def worse(self) -> Lite:
        return self._replace(severity="error")


class Typed(typing.NamedTuple):
    """A migration's place."""

    path: str
    line: int | None
    severity: str = "error"
    notes: tuple[str, ...] = ()


def test_a_record_is_the_tuple_typing_makes() -> None:
    lite, typed = Lite("a.sql", 3, "warning"), Typed("a.sql", 3, "warning")
    assert (lite == typed, hash(lite) == hash(typed)) == (True, True)
    assert repr(lite) == repr(typed).replace("Typed", "Lite")
    assert (Lite._fields, Lite._field_defaults) == (Typed._fields, Typed._field_defaults)
    assert (Lite.__doc__, Lite.__module__, Lite.__qualname__, Lite.__mro__[1:]) == (
        "A migration's place.", __name__, "Lite", (tuple, object))
    assert (lite.where, lite.worse(), Lite._make(typed)) == (
        "a.sql:3", Lite("a.sql", 3), lite)
    assert Lite("a.sql", None)._asdict() == {"path": "a.sql", "line": None,
                                             "severity": "error", "notes": ()}


def test_a_field_without_a_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="Bad: a field without a default follows one"):
        class Bad(NamedTuple):
            first: int = 0
            second: int


def test_the_tuple_machinery_is_not_overwritten() -> None:
    with pytest.raises(AttributeError, match="Cannot overwrite NamedTuple attribute _replace"):
        class Bad(NamedTuple):
            first: int

            def _replace(self) -> None: ...


def test_a_second_base_is_refused() -> None:
    with pytest.raises(TypeError, match="Bad: a record's only base is NamedTuple"):
        class Bad(NamedTuple, typing.Generic[T]):  # type: ignore[misc]
            first: int


@pytest.mark.parametrize("hook", ["required", "immutable", "linear", "lint"])
def test_a_hook_imports_no_typing(repo: Repo, tmp_path: Path, hook: str) -> None:
    repo.commit("init", "db/V1__init.sql", "CREATE TABLE orders (id bigint);\n")
    repo.write("db/V2__orders_note.sql", "ALTER TABLE orders ADD COLUMN note text;\n")
    repo.add()
    assert probe_imports(repo, [hook], cache=tmp_path, modules=("typing",))[-1] == \
        "exit 0 imported []"
