"""Hand-written config reading and validation and glob matching against well-kept
libraries.

Prints figures (not a test). Each case is one whole process doing what a fast hook does
with that code: import it, then read a monorepo's configuration (three projects, lint,
database and exception sections) as YAML (migration_guard.yaml_lite, PyYAML), validate
it, or match 10,000 repository paths against a project's schema and exclude globs. Cases
alternate (``--runs``, at least 9), each median is printed with its cost over the floor
(the same process doing nothing) and the ratio to ours. The libraries are pinned and
installed by the benchmark into a cached venv; a case that fails, or a library that
disagrees with ours on what the config holds or which paths match, stops the benchmark.

    python bench/bench_libraries.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path
from typing import Any

from peers import ROOT, pinned_venv, run_checked  # bench/ is on sys.path: run as a script

PINS = ("jsonschema==4.26.0", "fastjsonschema==2.22.3", "wcmatch==12.0.3", "pathspec==1.1.1",
        "PyYAML==6.0.4")

CONFIG = """\
base: origin/main
checks: [required, immutable, linear, lint]
lint:
  pg_version: 15
  ignore: [MG330]
database:
  statement_timeout: 60
  sample_rows: 5
projects:
  - name: api
    framework: alembic
    alembic_ini: services/api/alembic.ini
    schema: ['services/api/app/**/*.py']
    exclude: ['services/api/migrations/versions/legacy_*.py']
    roundtrip: new
  - name: billing
    framework: supabase
    migrations: services/billing/supabase/migrations
    lint:
      require_plural_table_names: false
  - name: reports
    framework: flyway
    migrations: services/reports/sql
    schema: ['services/reports/src/entities/**/*.java']
exceptions:
  - path: services/reports/sql/V1__init.sql
    blob: 0123456789abcdef0123456789abcdef01234567
    reason: comment-only change, reviewed by the DBA
"""

GLOBS = ("services/api/app/**/*.py", "services/reports/src/entities/**/*.java",
         "services/api/migrations/versions/legacy_*.py", "services/*/supabase/schemas/*.sql",
         "**/env.py")


def paths() -> list[str]:
    """10,000 repository paths, about 6,300 of which the globs match."""
    out = []
    for n in range(10_000):
        kind = n % 5
        if kind == 0:
            out.append(f"services/api/app/pkg{n % 37}/mod{n}.py")
        elif kind == 1:
            out.append(f"services/reports/src/entities/sub{n % 11}/E{n}.java")
        elif kind == 2:
            out.append(f"services/api/migrations/versions/{'legacy' if n % 3 else 'r'}_{n}.py")
        elif kind == 3:
            out.append(f"services/billing/supabase/{'schemas' if n % 2 else 'x'}/t{n}.sql")
        else:
            out.append(f"docs/section{n % 13}/page{n}.md")
    return out


# -- the cases, run one per process -----------------------------------------------------


def config_ours(text: bytes) -> int:
    from migration_guard.config import load_config

    config = load_config(lambda name: text if name == ".migration-guard.yaml" else None)
    return len(config.projects or ())


def _schema() -> dict[str, Any]:
    """The config schema of migration_guard.config, as JSON Schema."""
    from migration_guard.config import TOP_KEYS, Key

    def one(spec: Key) -> dict[str, Any]:
        if spec.kind in ("section", "list"):
            assert spec.children is not None
            mapping = {"type": "object", "additionalProperties": False,
                       "properties": {k: one(v) for k, v in spec.children.items()}}
            return mapping if spec.kind == "section" else {"type": "array", "items": mapping}
        if spec.kind == "map":
            assert spec.children is not None
            return {"type": "object", "additionalProperties": one(spec.children["*"])}
        if spec.kind in ("strlist", "enumlist", "names"):
            item = {"enum": list(spec.allowed)} if spec.allowed else {"type": "string"}
            listed = {"type": "array", "items": item}
            return {"anyOf": [listed, {"type": "string"}]} if spec.kind == "names" else listed
        if spec.kind == "enum":
            return {"enum": list(spec.allowed)}
        return {"type": {"str": "string", "bool": "boolean", "int": "integer"}[spec.kind]}

    return one(Key("section", children=TOP_KEYS))


def _plain(text: bytes) -> Any:
    """The YAML as plain data, read the way the hand-written reader reads it."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def config_jsonschema(text: bytes) -> int:
    import jsonschema

    data = _plain(text)
    jsonschema.Draft202012Validator(_schema()).validate(data)
    return len(data["projects"])


def config_fastjsonschema(text: bytes) -> int:
    import fastjsonschema

    data = _plain(text)
    fastjsonschema.compile(_schema())(data)
    return len(data["projects"])


def _plain_node(data: Any, line: int) -> Any:
    """A node of yaml_lite's tree as plain data (a mapping's entries hold (line, node))."""
    return {key: node for key, (_line, node) in data.items()} if isinstance(data, dict) \
        else data


def yaml_ours(text: bytes) -> str:
    from migration_guard.yaml_lite import read

    data = read(text.decode(), _plain_node, max_nodes=50_000)
    if data is None:
        raise SystemExit("yaml_lite left the config to PyYAML: the case measures nothing")
    return json.dumps(data, sort_keys=True)


def yaml_pyyaml(text: bytes) -> str:
    return json.dumps(_plain(text), sort_keys=True)


def globs_ours(files: list[str]) -> int:
    from migration_guard.globs import matches_any

    return sum(matches_any(path, GLOBS) for path in files)


def globs_wcmatch(files: list[str]) -> int:
    from wcmatch import glob

    matcher = glob.compile(GLOBS, flags=glob.GLOBSTAR | glob.DOTGLOB)
    return sum(bool(matcher.match(path)) for path in files)


def globs_pathspec(files: list[str]) -> int:
    import pathspec

    spec = pathspec.PathSpec.from_lines("gitwildmatch", GLOBS)
    return sum(spec.match_file(path) for path in files)


CASES = {
    "floor": None,
    "yaml: ours": yaml_ours,
    "yaml: PyYAML": yaml_pyyaml,
    "config: ours": config_ours,
    "config: jsonschema": config_jsonschema,
    "config: fastjsonschema": config_fastjsonschema,
    "globs: ours": globs_ours,
    "globs: wcmatch": globs_wcmatch,
    "globs: pathspec": globs_pathspec,
}


def run_case(name: str, data_dir: Path) -> None:
    """One process, one case; prints what it found so the parent can compare."""
    case = CASES[name]
    if case is None:
        return
    if name.startswith(("config", "yaml")):
        print(case((data_dir / "config.yaml").read_bytes()))  # type: ignore[operator]
    else:
        print(case((data_dir / "paths.txt").read_text().splitlines()))  # type: ignore[operator]


def agreement(python: Path, data_dir: Path, env: dict[str, str]) -> None:
    """Every library gives our answer on the same input, or the benchmark stops."""
    import subprocess

    answers: dict[str, str] = {}
    for name in CASES:
        if name == "floor":
            continue
        out = subprocess.run([str(python), __file__, "--case", name, str(data_dir)], env=env,
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise SystemExit(f"benchmark stopped: case {name!r} failed:\n{out.stderr[-3000:]}")
        answers[name] = out.stdout.strip()
    for group in ("yaml", "config", "globs"):
        values = {k: v for k, v in answers.items() if k.startswith(group)}
        if len(set(values.values())) != 1:
            raise SystemExit(f"benchmark stopped: the {group} cases disagree: {values}")
        print(f"{group}: every case finds {next(iter(values.values()))}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--case")
    parser.add_argument("data", nargs="?")
    args = parser.parse_args()
    if args.case:
        run_case(args.case, Path(args.data))
        return
    if args.runs < 9:
        parser.error("--runs: at least 9")
    python = pinned_venv(PINS)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    run_checked([str(python), "-m", "compileall", "-q", str(ROOT / "migration_guard")])
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        (data_dir / "config.yaml").write_text(CONFIG)
        (data_dir / "paths.txt").write_text("\n".join(paths()) + "\n")
        agreement(python, data_dir, env)
        commands = {name: [str(python), __file__, "--case", name, str(data_dir)]
                    for name in CASES}
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                samples[name].append(run_checked(cmd, env=env))
    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    floor = medians["floor"]
    print(f"median of {args.runs} alternating runs; each case minus the floor is its import "
          "and run cost")
    print(f"{'case':24} {'median ms':>10} {'over floor':>11} {'x ours':>7}")
    for name, value in medians.items():
        ours = medians[f"{name.split(':')[0]}: ours"] - floor if name != "floor" else 0.0
        ratio = f"{(value - floor) / ours:7.1f}" if ours > 0 else ""
        print(f"{name:24} {value:10.1f} {value - floor:11.1f} {ratio}")


if __name__ == "__main__":
    main()
