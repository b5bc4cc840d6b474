"""migration_guard.yaml_lite reads what it reads as PyYAML's safe loader does, and leaves
everything else to PyYAML (``None``): compared with PyYAML on thousands of generated
documents, on the shipped config template, and on the YAML it must not read."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from conftest import ROOT

from migration_guard import config, yaml_lite
from migration_guard.errors import GuardError

#: Plain scalars and quoted ones as configurations hold them, then text YAML gives other
#: meanings to (or refuses).
SCALARS = [
    "a", "abc", "MG301", "auth.users", "migrations/**/*.sql", "foo bar", "foo  bar", "_x",
    "/usr/lib", "v1.2", "e5", "NaN", "Infinity", "y", "n", "yes", "No", "on", "OFF", "true",
    "False", "TRUE", "null", "~", "Null", "NULL", "0", "7", "300", "'q'", '"q"', "'it''s'",
    "'a b'", "\"a'b\"", "'a\"b'", '""', "''", "a(b)", "$HOME", "x@y", "a+b", "a-b",
    "0123456789abcdef0123456789abcdef01234567", "2fa", "4f2e", "1a", "9_z", "0xg", "0bz",
    "a,b", "a, b", "a ,b", "a:b", "host:5432", "x=1", "a[0]", "a{b}", "a?", "a!b", "50%",
    "a&b", "a~b", "postgres://u@h:5432/db", "a#b", "Done, reviewed by the DBA",
]
ODD_SCALARS = [
    "1234567890123456789012345678901234567890", "2024-01-01T10:00:00Z", "2024-1-1", "0b101",
    "0x1f", "1.5e+3", "1:30:00", "6.", "0_1", "012", "00", "0x1F",
    "0o7", "0b11", "1_000", "1.5", "1e3", ".inf", ".5", "2024-01-01", "1:30", "-1", "+2",
    "16abc", "a#b", "a #c", "a: b", "a:b", "*alias", "&anchor x", "!tag x", "!!str 1", "|",
    ">", "@x", "`x", "%x", "caf\u00e9", "a\tb", "-", "- x", "? x", "a,b", "[x", "x]", "{x",
    '"a\\nb"', "a'", 'a"b', "'open", '"open', "<<", "=", "a:", "a: b", "a :b", ",a",
    "a,#b", "a #b", "a\\b",
]
KEYS = ["a", "b", "lint", "select", "my key", "1", "yes", "'q k'", '"dq"', "x ", "k-1",
        "k.2", "'it''s'", "null"]
ODD_KEYS = ["<<", "a:b", "-x", "caf\u00e9", "? a", "&k a"]
COMMENTS = ["", "", "", " # note", "  #note"]
ODD_COMMENTS = ["#glued"]


class _Documents:
    """Random configuration-like YAML, valid and not, from one seed."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.odd = 0.0  # how often a choice takes from the odd lists

    def pick(self, usual: list[str], odd: list[str]) -> str:
        return self.random.choice(odd if self.random.random() < self.odd else usual)

    def document(self) -> str:
        self.odd = self.random.choice([0.0, 0.0, 0.01, 0.05, 0.2])
        lines: list[str] = []
        self.mapping(lines, self.random.choice([0, 0, 0, 2]), 0)
        text = "\n".join(lines) + self.random.choice(["\n", "\n", "", "\n\n"])
        if self.random.random() < self.odd:
            text = self.random.choice([text.replace("\n", "\r\n"), "---\n" + text,
                                       text.replace("  ", "\t", 1)])
        return text

    def mapping(self, lines: list[str], indent: int, depth: int, prefix: str = "") -> None:
        for number in range(self.random.randint(1, 4)):
            lead = prefix if number == 0 and prefix else " " * indent
            self.extra(lines, indent)
            self.entry(lines, lead, indent, depth)

    def entry(self, lines: list[str], lead: str, indent: int, depth: int) -> None:
        key = self.pick(KEYS, ODD_KEYS)
        colon = self.pick([": ", ": ", ": ", ":  ", " : "], [":"])
        kind = self.random.random() if depth < 3 else 0.0
        if kind < 0.45:
            lines.append(f"{lead}{key}{colon}{self.inline()}{self.pick(COMMENTS, ODD_COMMENTS)}")
        elif kind < 0.55:
            lines.append(f"{lead}{key}:{self.pick(COMMENTS, ODD_COMMENTS)}")
        elif kind < 0.75:
            lines.append(f"{lead}{key}:{self.pick(COMMENTS, ODD_COMMENTS)}")
            self.mapping(lines, indent + self.random.choice([2, 2, 4, 1]), depth + 1)
        else:
            lines.append(f"{lead}{key}:{self.pick(COMMENTS, ODD_COMMENTS)}")
            self.sequence(lines, indent + self.random.choice([2, 2, 0, 4]), depth + 1)

    def sequence(self, lines: list[str], indent: int, depth: int) -> None:
        for _ in range(self.random.randint(1, 4)):
            self.extra(lines, indent)
            kind = self.random.random()
            dash = " " * indent + self.random.choice(["- ", "- ", "-  ", "-"])
            if kind < 0.6 or depth > 3:
                lines.append(f"{dash}{self.inline()}{self.pick(COMMENTS, ODD_COMMENTS)}")
            elif kind < 0.9:
                self.mapping(lines, len(dash), depth + 1, prefix=dash)
            else:
                lines.append(dash.rstrip())
                if self.random.random() < 0.5:
                    lines.append(" " * (indent + 2) + self.inline())

    def inline(self) -> str:
        kind = self.random.random()
        if kind < 0.7:
            return self.pick(SCALARS, ODD_SCALARS)
        return self.flow(0)

    def flow(self, depth: int) -> str:
        items = [self.flow(depth + 1) if depth < 2 and self.random.random() < 0.2
                 else self.pick(SCALARS, ODD_SCALARS) for _ in range(self.random.randint(0, 3))]
        space = self.random.choice(["", " "])
        if self.random.random() < 0.6:
            body = f",{space}".join(items) + self.pick(["", " "], [","])
            return f"[{space}{body}]"
        keys = self.random.sample(KEYS, len(items)) if self.random.random() < 0.8 \
            else [self.random.choice(KEYS) for _ in items]
        sep = self.pick([": "], [":"])
        return "{" + ", ".join(f"{k}{sep}{v}" for k, v in zip(keys, items, strict=True)) + "}"

    def extra(self, lines: list[str], indent: int) -> None:
        """Now and then a blank line or a comment line."""
        roll = self.random.random()
        if roll < 0.05:
            lines.append("")
        elif roll < 0.1:
            lines.append(" " * self.random.choice([0, indent, indent + 3]) + "# comment")


def _pyyaml(text: str) -> object:
    """What the configuration loader makes of ``text`` with PyYAML: a value tree, or the
    error it raises."""
    try:
        return config._compose_yaml(text, "c.yaml")
    except GuardError as error:
        return ("error", error.message)


def _lite(text: str) -> object | None:
    return yaml_lite.read(text, config.Value, max_nodes=config.MAX_YAML_NODES)


def test_generated_documents_read_as_pyyaml_reads_them() -> None:
    documents = _Documents(seed=20261203)
    read = left = 0
    for _ in range(6000):
        text = documents.document()
        lite = _lite(text)
        if lite is None:
            left += 1
            continue
        read += 1
        assert lite == _pyyaml(text), text
    # Both paths are exercised: most documents hold something left to PyYAML.
    assert read > 1200, (read, left)
    assert left > 2000, (read, left)


def test_the_shipped_config_template_is_read_as_pyyaml_reads_it() -> None:
    text = (ROOT / "templates" / "migration-guard.yaml").read_text(encoding="utf-8")
    lite = _lite(text)
    assert lite is not None
    assert lite == _pyyaml(text)


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",  # anchors and aliases
    "a: !!str 1\n",  # tags
    "a: |\n  text\n",  # block scalars
    "a: one\n  two\n",  # a plain scalar over two lines
    'a: "tab\\there"\n',  # escapes
    "a: 1\na: 2\n",  # a duplicate key: PyYAML's reading names it
    "a: 1.5\nb: 2024-01-01\nc: 012\nd: 0x1F\ne: 1_000\n",  # floats, dates, other integers
    "a: caf\u00e9\n",  # outside ASCII
    "a: 1\r\nb: 2\r\n",  # carriage returns
    "a:\n\t- 1\n",  # a tab
    "---\na: 1\n",  # a document marker
    "- a\n- b\n",  # not a mapping
    "a: [1,\n  2]\n",  # a flow collection over two lines
    "a: [1, 2,]\n",  # a trailing comma
    "<<: {a: 1}\n",  # a merge key
    "a: b: c\n",  # a mapping value where none may be
    "",  # no document
    "# only a comment\n",
])
def test_yaml_outside_the_subset_is_left_to_pyyaml(text: str) -> None:
    assert _lite(text) is None


def test_more_values_than_the_node_limit_are_left_to_pyyaml() -> None:
    text = "a:\n" + "".join(f"  - v{n}\n" for n in range(20))
    assert yaml_lite.read(text, config.Value, max_nodes=22) is not None  # 20 + list + root
    assert yaml_lite.read(text, config.Value, max_nodes=21) is None


def test_a_config_in_the_subset_loads_without_importing_pyyaml(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".migration-guard.yaml").write_text(
        "lint:\n  pg_version: 16\n  select: [all]\n  severity: {prefer-text: error}\n"
        "projects:\n  - name: api\n    migrations: api/migrations\n    framework: supabase\n",
        encoding="utf-8")
    code = ("import sys\nfrom migration_guard.config import load_config\n"
            "cfg = load_config(lambda p: open(p, 'rb').read() if p == '.migration-guard.yaml' "
            "else None)\n"
            "print(cfg.pg_version, [p.name for p in cfg.projects], 'yaml' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
                                          "XDG_CACHE_HOME": str(tmp_path / "cache"),
                                          "PYTHONPATH": str(ROOT)}, check=False)
    assert done.stderr == ""
    assert done.stdout == "16 ['api'] False\n"
