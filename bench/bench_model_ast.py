"""Benchmark ``required``'s file rule on a model edit: comparing the two versions' syntax
trees (docstrings aside), against parsing one version, in the same run. Prints figures.

The model module is generated: N declarative classes of five lines each, a docstring and
a trailing comment; the edit rewords one comment, so the comparison parses both versions
to the end.

    python bench/bench_model_ast.py [--classes 400] [--runs 21]
"""

from __future__ import annotations

import argparse
import ast
import statistics
import time
from collections.abc import Callable

from migration_guard.checks.python_code import same_code


def model_module(classes: int) -> bytes:
    head = ("from sqlalchemy import Integer, String\n"
            "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\n"
            "class Base(DeclarativeBase):\n    pass\n\n\n")
    body = "".join(
        f'class Model{i}(Base):\n    """Table {i}."""\n    __tablename__ = "t{i}"\n'
        f"    id: Mapped[int] = mapped_column(Integer, primary_key=True)\n"
        f"    name: Mapped[str] = mapped_column(String(100))  # shown in lists\n\n\n"
        for i in range(classes))
    return (head + body).encode()


def median_ms(action: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--classes", type=int, default=400)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    old = model_module(args.classes)
    new = old.replace(b"# shown in lists", b"# shown in the lists", 1)
    assert same_code(old, new)
    parse = median_ms(lambda: ast.parse(old), args.runs)
    compare = median_ms(lambda: same_code(old, new), args.runs)
    lines = old.count(b"\n")
    print(f"model module: {lines} lines, {len(old) // 1024} KiB; {args.runs} runs, medians")
    print(f"{'ast.parse of one version':36} {parse:8.1f} ms")
    print(f"{'same_code(old, new), comment edit':36} {compare:8.1f} ms  ({compare / parse:.1f}x "
          "one parse)")


if __name__ == "__main__":
    main()
