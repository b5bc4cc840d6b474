"""Meta-test: registry, docs/rules.md and the per-rule test cases stay in sync."""

from __future__ import annotations

import re
from pathlib import Path

from lint_cases import CASES

from migration_guard.lint.registry import CODES, RULES
from migration_guard.report.codebook import all_codes

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
HEADINGS = ["Problem", "Fix", "Bad", "Good", "Config", "Ignoring"]
#: Rules exercised by dedicated tests instead of the bad/good table.
TESTED_ELSEWHERE = {"MG300", "MG391", "MG392", "MG393", "MG394", "MG395"}


def _sections() -> dict[str, tuple[str, str]]:
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^## (MG\d{3}) (\S+)\n", text, flags=re.MULTILINE)
    return {parts[i]: (parts[i + 1], parts[i + 2]) for i in range(1, len(parts), 3)}


def test_every_code_documented_with_its_name_and_all_headings() -> None:
    sections = _sections()
    for code, entry in CODES.items():
        assert code in sections, f"{code} missing from docs/rules.md"
        name, body = sections[code]
        assert name == entry.name
        found = re.findall(r"^### (\w+)$", body, flags=re.MULTILINE)
        assert found == HEADINGS, f"{code}: headings {found}"


def test_no_doc_for_a_code_that_does_not_exist() -> None:
    assert set(_sections()) - set(all_codes()) == set()


def test_every_trace_code_documented_with_its_name_and_all_headings() -> None:
    sections = _sections()
    for code, entry in all_codes().items():
        if entry.check != "apply" or not code.startswith("MG24"):
            continue
        name, body = sections[code]
        assert name == entry.name
        assert re.findall(r"^### (\w+)$", body, flags=re.MULTILINE) == HEADINGS


def test_codes_are_lint_mg3xx_kebab_case_and_joined_into_all_codes() -> None:
    for code, entry in CODES.items():
        assert re.fullmatch(r"MG3\d\d", code) and entry.check == "lint"
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.name)
        assert all_codes()[code] == entry
    assert len({entry.name for entry in CODES.values()}) == len(CODES)


def test_every_rule_has_a_bad_and_good_case() -> None:
    assert {case.code for case in CASES} | TESTED_ELSEWHERE == set(RULES)


def _example(body: str, heading: str) -> str:
    match = re.search(rf"^### {heading}\n\n```sql\n(.*?)\n```", body,
                      flags=re.MULTILINE | re.DOTALL)
    assert match, heading
    return match.group(1)


def test_every_documented_bad_example_is_flagged_and_good_example_clean() -> None:
    from migration_guard.lint import LintOptions, lint_sql

    for code, (_name, body) in _sections().items():
        if code in TESTED_ELSEWHERE or code not in RULES:  # the trace's codes run on apply
            continue
        options = LintOptions(select=(code,))
        bad = lint_sql(_example(body, "Bad"), "bad.sql", options=options).findings
        good = lint_sql(_example(body, "Good"), "good.sql", options=options).findings
        assert code in {f.code for f in bad}, f"{code}: its Bad example is not flagged"
        assert [f.code for f in good] == [], f"{code}: its Good example is flagged"


def test_every_rule_states_its_default_severity() -> None:
    for code, (_name, body) in _sections().items():
        if code not in RULES:
            continue
        assert f"default severity: {RULES[code].severity}." in body.strip().split("\n\n")[0], code


def test_every_squawk_rule_is_mapped_in_the_docs() -> None:
    from migration_guard.lint.squawk import SQUAWK_RULES

    text = DOCS.read_text(encoding="utf-8")
    for name, codes in SQUAWK_RULES.items():
        shown = ", ".join(codes) if codes else "none: "
        assert f"| `{name}` | {shown}" in text, name
