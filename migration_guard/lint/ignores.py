"""Inline ignore comments: ``-- migration-guard: ignore[MG301] reason`` and friends.

``ignore[...]`` applies to the next statement (in SQL) or the next line of code (in
Python, or its own line when it trails code); ``ignore-file[...]`` to the whole file.
Codes may be given as codes or names, comma-separated. A missing code, an unknown code
or a missing reason is itself a finding, so an ignore is always explicit and explained.
"""

from __future__ import annotations

import re

from migration_guard.findings import Finding
from migration_guard.lint.registry import CODES, RULES, code_for
from migration_guard.typing_lite import NamedTuple

_DIRECTIVE = re.compile(r"^(?:--|#)\s*migration-guard\s*:\s*(?P<rest>.*?)\s*$", re.DOTALL)
_IGNORE = re.compile(
    r"^(?P<kind>ignore-file|ignore)(?![\w-])\s*(?:\[(?P<codes>[^\]]*)\])?\s*(?P<reason>.*)$",
    re.DOTALL,
)
_HINT_SYNTAX = "write it as: -- migration-guard: ignore[MG301] why this is safe here"


class Ignore(NamedTuple):
    """One valid ignore comment. ``target`` is the (line, column) of the statement it
    covers (column ``None``: the whole line); ``None`` for ``ignore-file`` or when no
    statement follows."""

    codes: tuple[str, ...]
    line: int
    column: int
    whole_file: bool
    target: tuple[int, int | None] | None
    #: False for squawk's comments (they may name rules with no counterpart here, or none).
    report_unused: bool = True


class Directive(NamedTuple):
    """A comment that starts with ``migration-guard:``, before validation."""

    text: str
    line: int
    column: int


def parse_directive(
    directive: Directive, path: str
) -> tuple[tuple[str, ...] | None, bool, list[Finding]]:
    """Validate one comment: (valid codes or None, whole-file?, problems found)."""
    match = _DIRECTIVE.match(directive.text)
    rest = match.group("rest") if match else ""
    ignore = _IGNORE.match(rest)

    def problem(code: str, message: str, hint: str) -> Finding:
        return Finding(code, path, directive.line, message, hint, directive.column, "lint")

    if ignore is None or not (ignore.group("codes") or "").strip():
        what = "names no code" if ignore else f"is not a known directive ({rest[:40]!r})"
        return None, False, [problem(
            "MG392", f"migration-guard comment {what}, so it suppresses nothing",
            _HINT_SYNTAX)]
    problems: list[Finding] = []
    codes: list[str] = []
    for entry in ignore.group("codes").split(","):
        code = code_for(entry) if entry.strip() else None
        if code is None:
            problems.append(problem(
                "MG393", f"ignore names unknown code {entry.strip()!r}, "
                "so the finding it was meant for is still reported",
                "use a code or rule name listed in docs/rules.md"))
        else:
            codes.append(code)
    if not ignore.group("reason").strip():
        problems.append(problem(
            "MG394", "ignore gives no reason, so reviewers cannot tell why the "
            "finding is safe to skip", _HINT_SYNTAX))
    return tuple(codes), ignore.group("kind") == "ignore-file", problems


def python_directives(source: str) -> list[tuple[Directive, int | None]]:
    """``# migration-guard:`` comments in Python source, each with the line it covers.

    A comment alone on its line covers the next line holding code; a comment after code
    covers its own line. Uses :mod:`tokenize`, so ``#`` inside strings is not a comment.
    """
    import io
    import tokenize

    found: list[tuple[Directive, int | None]] = []
    pending: list[Directive] = []
    code_lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
            tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER}
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return []
    for token in tokens:
        if token.type == tokenize.COMMENT and "migration-guard" in token.string:
            directive = Directive(token.string, token.start[0], token.start[1] + 1)
            if token.start[0] in code_lines:
                found.append((directive, token.start[0]))
            else:
                pending.append(directive)
        elif token.type not in skip:
            code_lines.add(token.start[0])
            for directive in pending:
                found.append((directive, token.start[0]))
            pending = []
    found.extend((directive, None) for directive in pending)
    return found


def python_ignores(source: str, path: str) -> tuple[list[Ignore], list[Finding]]:
    """Ignores declared in a Python (Alembic revision) file, by line, plus problems."""
    ignores: list[Ignore] = []
    problems: list[Finding] = []
    for directive, target_line in python_directives(source):
        codes, whole_file, found = parse_directive(directive, path)
        problems.extend(found)
        if codes:
            target = None if whole_file or target_line is None else (target_line, None)
            ignores.append(Ignore(codes, directive.line, directive.column, whole_file, target))
    return ignores, problems


def apply_ignores(
    findings: list[Finding],
    ignores: list[Ignore],
    *,
    path: str,
    enabled: frozenset[str],
    report_unused: bool,
) -> list[Finding]:
    """Drop the findings ignores cover; report unused ignores when asked."""
    if not ignores:
        return findings
    used: set[tuple[int, str]] = set()
    kept: list[Finding] = []
    for finding in findings:
        rule = RULES.get(finding.code)
        suppressed = False
        if rule is not None and not rule.mandatory and rule.family != "ignores":
            for index, ignore in enumerate(ignores):
                if finding.code in ignore.codes and _covers(ignore, finding):
                    used.add((index, finding.code))
                    suppressed = True
        if not suppressed:
            kept.append(finding)
    if report_unused and "MG395" in enabled:
        for index, ignore in enumerate(ignores):
            for code in ignore.codes if ignore.report_unused else ():
                if (index, code) not in used and code in enabled:
                    kept.append(Finding(
                        "MG395", path, ignore.line,
                        f"ignore[{code}] suppressed nothing; a stale ignore would silently "
                        f"hide a future {CODES[code].name} finding",
                        "delete the ignore comment, or move it directly above the "
                        "statement it is meant for", ignore.column, "lint"))
    return kept


def _covers(ignore: Ignore, finding: Finding) -> bool:
    if ignore.whole_file:
        return True
    if ignore.target is None:
        return False
    line, column = ignore.target
    return finding.line == line and (column is None or finding.column == column)
