"""The lint rules' documentation, packaged for SARIF: sections of docs/rules.md by code.

docs/rules.md is the source and is not part of an installed package, so
``scripts/rule_docs.py`` copies its sections into ``rule_docs.json`` here; a test keeps the
copy in sync.
"""

from __future__ import annotations

import json
import re
from importlib import resources

from migration_guard.typing_lite import NamedTuple

DATA = "rule_docs.json"
_HEADING = re.compile(r"^## (MG\d{3}) (\S+)\n", flags=re.MULTILINE)
_SUBHEADING = re.compile(r"^### (\w+)\n", flags=re.MULTILINE)


class RuleDoc(NamedTuple):
    code: str
    name: str
    #: The section below its heading: a one-paragraph description, then ``### Problem`` etc.
    markdown: str

    @property
    def description(self) -> str:
        return self.markdown.split("\n\n", 1)[0].strip()

    def part(self, heading: str) -> str:
        """The text under ``### heading``, or ``""``."""
        pieces = _SUBHEADING.split(self.markdown)
        for name, text in zip(pieces[1::2], pieces[2::2], strict=True):
            if name == heading:
                return text.strip()
        return ""


def parse(text: str) -> dict[str, RuleDoc]:
    """Every ``## MGnnn name`` section of docs/rules.md."""
    pieces = _HEADING.split(text)
    return {code: RuleDoc(code, name, body.strip())
            for code, name, body in zip(pieces[1::3], pieces[2::3], pieces[3::3], strict=True)}


def dump(docs: dict[str, RuleDoc]) -> str:
    """The packaged form: stable key order, one JSON document."""
    data = {code: {"name": doc.name, "markdown": doc.markdown}
            for code, doc in sorted(docs.items())}
    return json.dumps({"source": "docs/rules.md", "rules": data}, indent=1,
                      ensure_ascii=False) + "\n"


def load() -> dict[str, RuleDoc]:
    packaged = resources.files("migration_guard.report").joinpath(DATA)
    raw = json.loads(packaged.read_text(encoding="utf-8"))
    return {code: RuleDoc(code, entry["name"], entry["markdown"])
            for code, entry in raw["rules"].items()}
