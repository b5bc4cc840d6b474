"""The manifest, the hook modules, the README and the code registry agree."""

from __future__ import annotations

import importlib
import subprocess
import sys

import yaml
from conftest import ROOT

from migration_guard.report.codebook import all_codes

MANIFEST = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
README = (ROOT / "README.md").read_text()


def test_every_hook_runs_a_command_module_and_has_a_readme_section() -> None:
    for hook in MANIFEST:
        assert hook["entry"].startswith("migration-guard "), hook["id"]
        assert hook["pass_filenames"] is False, hook["id"]
        command = hook["entry"].split()[1]
        module = importlib.import_module(f"migration_guard.commands.{command}")
        assert callable(module.add_parser) and callable(module.run), hook["id"]
        assert f"### {hook['id']}" in README, hook["id"]


def test_every_command_is_one_module_of_commands() -> None:
    from migration_guard.cli import COMMANDS

    package = ROOT / "migration_guard" / "commands"
    helpers = {"__init__", "helpformat", "options", "replay", "scope"}
    assert sorted(COMMANDS) == sorted(p.stem for p in package.glob("*.py")
                                      if p.stem not in helpers)


def test_every_hook_command_exists() -> None:
    for hook in MANIFEST:
        command = hook["entry"].split()[1:]
        proc = subprocess.run([sys.executable, "-m", "migration_guard", *command, "--help"],
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, (hook["id"], proc.stderr)


def test_readme_lists_every_code_exactly_as_registered() -> None:
    for code in all_codes().values():
        row = f"| {code.code} | `{code.name}` | {code.check} | {code.summary} |"
        assert row in README, f"README lacks: {row} (run scripts/codes_table.py)"
