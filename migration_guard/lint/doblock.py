"""Statements inside a ``DO $$ BEGIN ... EXCEPTION ... END $$`` block, as the block runs them.

Some migration generators wrap every foreign key (and enum) in such a block so a re-run
ignores ``duplicate_object``; repositories keep those files. Linting the ``DO`` as
an opaque statement would miss the ``ALTER TABLE`` it runs, so a block of that shape,
``BEGIN <SQL statements> EXCEPTION ... END``, is linted as those statements, each at its
own place in the file. Other PL/pgSQL bodies (loops, variables, no handler) stay opaque.
"""

from __future__ import annotations

import json
import re
from typing import Any

from migration_guard.lint.pgparser import parser as pg_parser

_BLOCK = re.compile(
    r"\A\s*BEGIN\b(?P<inner>.*?)\bEXCEPTION\b.*\bEND\s*;?\s*\Z", re.DOTALL | re.IGNORECASE)


def statements_in_do(node: dict[str, Any], offset: int, data: bytes
                     ) -> list[tuple[int, int, str, dict[str, Any]]] | None:
    """``(byte offset, byte length, node type, node)`` of each statement a DO block runs;
    None when the body is not a plain statement block, or cannot be located in ``data``."""
    body = _body(node)
    if body is None:
        return None
    match = _BLOCK.match(body)
    if match is None or not match.group("inner").strip():
        return None
    start = data.find(body.encode(), offset)
    if start == -1:
        return None  # a quoted body whose escapes differ from its text: leave it opaque
    inner = match.group("inner")
    try:
        stmts = json.loads(pg_parser.parse_sql_json(inner)).get("stmts", [])
    except pg_parser.ParseError:
        return None
    base = start + len(body[: match.start("inner")].encode())
    inner_bytes = inner.encode()
    found: list[tuple[int, int, str, dict[str, Any]]] = []
    for raw in stmts:
        [(node_type, inner_node)] = raw["stmt"].items()
        location = raw.get("stmt_location", 0)
        # A length of 0 is the parser's "to the end of the text": here, of the block's
        # statements, not of the file.
        end = location + raw["stmt_len"] if raw.get("stmt_len") else len(inner_bytes)
        # Locations start at the statement's first token, after leading whitespace.
        text = inner_bytes[location:end]
        location += len(text) - len(text.lstrip())
        found.append((base + location, end - location, node_type, inner_node))
    return found


def _body(node: dict[str, Any]) -> str | None:
    for arg in node.get("args") or []:
        element = arg.get("DefElem", {})
        if element.get("defname") == "as":
            value = element.get("arg", {}).get("String", {})
            body = value.get("sval", value.get("str"))
            return body if isinstance(body, str) else None
    return None
