"""Copy the lint rules' docs into the package, where the SARIF report finds them.

    python scripts/rule_docs.py

Run it after editing docs/rules.md (a test fails until the copy matches).
"""

from pathlib import Path

from migration_guard.report import ruledocs

ROOT = Path(__file__).resolve().parent.parent
docs = ruledocs.parse((ROOT / "docs" / "rules.md").read_text(encoding="utf-8"))
target = ROOT / "migration_guard" / "report" / ruledocs.DATA
target.write_text(ruledocs.dump(docs), encoding="utf-8")
print(f"wrote {len(docs)} rules to {target.relative_to(ROOT)}")
