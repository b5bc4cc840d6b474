"""squawk's ignore comments, honoured so a team can switch linters without editing its
migrations: ``-- squawk-ignore rule[, rule]`` covers the next statement,
``-- squawk-ignore-file [rule, ...]`` the whole file (no rule: every rule).

squawk's rule names map to the codes that report the same problem; names of squawk rules
with no counterpart here (docs/rules.md says why for each) suppress nothing.
"""

from __future__ import annotations

import re

#: squawk rule name -> the codes of this linter that cover it (empty: no counterpart).
SQUAWK_RULES: dict[str, tuple[str, ...]] = {
    "adding-field-with-default": ("MG305",),
    "adding-foreign-key-constraint": ("MG302",),
    "adding-not-nullable-field": ("MG303",),
    "adding-required-field": ("MG331",),
    "adding-serial-primary-key-field": ("MG306", "MG307"),
    "ban-alter-domain-with-add-constraint": ("MG314",),
    "ban-char-field": ("MG354",),
    "ban-concurrent-index-creation-in-transaction": ("MG340",),
    "ban-create-domain-with-constraint": ("MG314",),
    "ban-drop-column": ("MG321",),
    "ban-drop-database": ("MG323",),
    "ban-drop-default": ("MG330",),
    "ban-drop-not-null": ("MG329",),
    "ban-drop-schema": ("MG322",),
    "ban-drop-table": ("MG320",),
    "ban-duplicate-column-assignments": ("MG362",),
    "ban-truncate-cascade": ("MG332",),
    "ban-uncommitted-transaction": ("MG342",),
    "changing-column-type": ("MG304",),
    "constraint-missing-not-valid": ("MG302",),
    "disallowed-unique-constraint": ("MG307",),
    "identifier-too-long": ("MG361",),
    "prefer-bigint-over-int": ("MG351", "MG355"),
    "prefer-bigint-over-smallint": ("MG351", "MG355"),
    "prefer-big-int": ("MG351", "MG355"),
    "prefer-identity": ("MG353",),
    "prefer-repack": ("MG308",),
    "prefer-robust-stmts": ("MG360",),
    "prefer-text-field": ("MG350",),
    "prefer-timestamp-tz": ("MG352",),
    "prefer-timestamptz": ("MG352",),
    "renaming-column": ("MG325",),
    "renaming-table": ("MG324",),
    "require-concurrent-index-creation": ("MG301",),
    "require-concurrent-index-deletion": ("MG310",),
    "require-concurrent-partition-detach": ("MG312",),
    "require-concurrent-reindex": ("MG311",),
    "require-enum-value-ordering": ("MG364",),
    "require-lock-timeout": ("MG309",),
    "require-statement-timeout": ("MG313",),
    "require-table-schema": ("MG378",),
    "require-timeout-settings": ("MG309", "MG313"),
    "transaction-nesting": ("MG341", "MG343"),
    # squawk rules with no counterpart: their ignores suppress nothing here.
    **{name: () for name in (
        "ban-add-column", "ban-add-composite-attribute", "ban-add-enum-value",
        "ban-alter-database-options", "ban-alter-extension", "ban-alter-function-options",
        "ban-alter-generated-expression", "ban-alter-identity", "ban-alter-policy-condition",
        "ban-alter-policy-roles", "ban-alter-role-options", "ban-alter-row-level-security",
        "ban-alter-sequence-values", "ban-alter-system-options", "ban-alter-view-options",
        "ban-create-policy", "ban-detach-inheritance", "ban-disable-trigger",
        "ban-drop-constraint", "ban-drop-domain", "ban-drop-extension", "ban-drop-function",
        "ban-drop-generated-expression", "ban-drop-index", "ban-drop-policy",
        "ban-drop-sequence", "ban-drop-trigger", "ban-drop-type", "ban-drop-view",
        "ban-new-write-restriction", "ban-replace-view-function", "ban-replica-identity",
        "ban-revoke", "ban-set-default", "ban-set-schema", "renaming-object",
        "syntax-error", "unused-ignore",
    )},
}

_COMMENT = re.compile(r"^--\s*squawk-ignore(?P<file>-file)?(?![\w-])(?P<rules>.*)$", re.DOTALL)


def parse_squawk_comment(text: str, every: tuple[str, ...]) -> tuple[tuple[str, ...], bool,
                                                                      list[str]] | None:
    """``(codes, whole_file, unknown names)`` of a squawk ignore comment, or ``None`` if
    ``text`` is not one. No rule named means every code (``every``)."""
    match = _COMMENT.match(text.strip())
    if match is None:
        return None
    names = [n for n in re.split(r"[\s,]+", match.group("rules").strip()) if n]
    if not names:
        return every, bool(match.group("file")), []
    codes: list[str] = []
    unknown: list[str] = []
    for name in names:
        mapped = SQUAWK_RULES.get(name.lower())
        if mapped is None:
            unknown.append(name)
        else:
            codes.extend(c for c in mapped if c not in codes)
    return tuple(codes), bool(match.group("file")), unknown
