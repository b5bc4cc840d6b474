"""Print the README's table of finding codes from the registry (keeps docs and code in sync).

    python scripts/codes_table.py
"""

from migration_guard.report.codebook import all_codes

print("| code | name | check | what it means |")
print("|---|---|---|---|")
for code in sorted(all_codes().values()):
    print(f"| {code.code} | `{code.name}` | {code.check} | {code.summary} |")
