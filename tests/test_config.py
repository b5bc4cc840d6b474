"""Configuration: strict validation with file and line, exceptions, projects, monorepos."""

from __future__ import annotations

import time

import pytest
from conftest import Repo
from layouts import BY_NAME, setup

INIT = "supabase/migrations/20240101000000_init.sql"


def error_lines(repo: Repo, config: str, name: str = ".migration-guard.yaml") -> list[str]:
    repo.write(name, config)
    repo.add()
    result = repo.mg("check")
    assert result.code == 2, result.out
    return result.err.splitlines()


def test_invalid_yaml(repo: Repo) -> None:
    assert error_lines(repo, "projects:\n  - framework: sql\n   bad: [\n") == [
        "migration-guard: error: .migration-guard.yaml:3: invalid YAML: "
        "did not find expected '-' indicator",
        "  hint: fix the syntax of .migration-guard.yaml (a YAML linter points at the exact "
        "spot)",
    ]


def test_a_scalar_no_safe_constructor_makes_is_invalid_yaml(repo: Repo) -> None:
    # A plain "=" is YAML 1.1's value key: PyYAML composes it, then has no constructor.
    assert error_lines(repo, "base: main\nfail_on: =\n") == [
        "migration-guard: error: .migration-guard.yaml:2: invalid YAML: could not determine a "
        "constructor for the tag 'tag:yaml.org,2002:value'",
        "  hint: fix the syntax of .migration-guard.yaml (a YAML linter points at the exact "
        "spot)",
    ]


def test_unknown_key(repo: Repo) -> None:
    assert error_lines(repo, "base: main\nproject:\n  - framework: sql\n") == [
        "migration-guard: error: .migration-guard.yaml:2: project: unknown key",
        "  hint: allowed keys here: base, checks, projects, exceptions, database, postgres, lint, "
        "linear, fail_on",
    ]


def test_unknown_nested_key(repo: Repo) -> None:
    assert error_lines(repo, "projects:\n  - framework: sql\n    migration: db\n") == [
        "migration-guard: error: .migration-guard.yaml:3: projects[0].migration: unknown key",
        "  hint: allowed keys here: name, framework, migrations, alembic_ini, schema, exclude, "
        "allow_out_of_order, generate_command, generate_check, runner, prelude, seed, roundtrip, "
        "drift, database_url_env, "
        "declarative_schema, lint, linear, trace, trace_rows, timezone",
    ]


def test_wrong_value_type(repo: Repo) -> None:
    assert error_lines(repo, "projects:\n  - framework: sql\n    allow_out_of_order: 'no'\n") == [
        "migration-guard: error: .migration-guard.yaml:3: projects[0].allow_out_of_order: "
        "expected a boolean, got a string",
        "  hint: set projects[0].allow_out_of_order to a boolean",
    ]


def test_bad_enum_value_lists_allowed_values(repo: Repo) -> None:
    assert error_lines(repo, "projects:\n  - framework: django\n") == [
        "migration-guard: error: .migration-guard.yaml:2: projects[0].framework: 'django' is "
        "not allowed",
        "  hint: use one of: alembic, drizzle, prisma, supabase, flyway, golang-migrate, dbmate, "
        "sql",
    ]


def test_exception_needs_reason(repo: Repo) -> None:
    lines = error_lines(repo, f"exceptions:\n  - path: {INIT}\n    blob: {'a' * 40}\n")
    assert lines[0] == ("migration-guard: error: .migration-guard.yaml:2: exceptions[0]: "
                        "missing key 'reason'")


def test_pyproject_section_with_line_numbers(repo: Repo) -> None:
    lines = error_lines(repo, "[project]\nname = 'x'\n\n[tool.migration-guard]\nbase = 'main'\n"
                        "colour = 'red'\n", name="pyproject.toml")
    assert lines[0] == "migration-guard: error: pyproject.toml:6: colour: unknown key"


def test_both_config_files_is_an_error(repo: Repo) -> None:
    repo.write("pyproject.toml", "[tool.migration-guard]\nbase = 'main'\n")
    lines = error_lines(repo, "base: main\n")
    assert lines == [
        "migration-guard: error: configuration found in both .migration-guard.yaml and "
        "pyproject.toml [tool.migration-guard]",
        "  hint: keep exactly one of them",
    ]


def test_non_utf8_config(repo: Repo) -> None:
    repo.write(".migration-guard.yaml", b"base: main\n# caf\xe9\n")
    repo.add()
    result = repo.mg("check")
    assert result.code == 2
    assert result.err.splitlines() == [
        "migration-guard: error: .migration-guard.yaml:2: not valid UTF-8 (byte offset 16)",
        "  hint: save .migration-guard.yaml as UTF-8",
    ]


def test_config_is_read_from_the_index_not_the_working_tree(repo: Repo) -> None:
    setup(repo, BY_NAME["supabase"])
    repo.write(".migration-guard.yaml", "bogus: 1\n")  # unstaged: not what gets committed
    assert repo.mg("check").code == 0


def test_exception_for_the_exact_blob_is_honoured_and_listed(repo: Repo) -> None:
    setup(repo, BY_NAME["supabase"])
    repo.branch("feature")
    repo.append(INIT, "-- comment typo fixed\n")
    repo.add()
    blob = repo.git("rev-parse", f":{INIT}").strip()
    repo.write(".migration-guard.yaml",
               f"exceptions:\n  - path: {INIT}\n    blob: {blob}\n"
               "    reason: comment-only change, reviewed by the DBA\n")
    repo.add()
    result = repo.mg("immutable")
    assert result.code == 0, result.out
    assert result.lines[1] == (f"{INIT}: note: exception honoured for blob {blob[:12]}: "
                               "comment-only change, reviewed by the DBA "
                               "(.migration-guard.yaml:2)")


def test_exception_for_another_blob_does_not_apply(repo: Repo) -> None:
    setup(repo, BY_NAME["supabase"])
    repo.branch("feature")
    repo.append(INIT, "-- something else entirely\n")
    repo.write(".migration-guard.yaml",
               f"exceptions:\n  - path: {INIT}\n    blob: {'b' * 40}\n    reason: old review\n")
    repo.add()
    result = repo.mg("immutable")
    assert result.code == 1
    assert result.lines[2].endswith(
        f"; the exception at .migration-guard.yaml:2 is for blob {'b' * 12}, not "
        f"{repo.git('rev-parse', f':{INIT}').strip()[:12]}")


def test_monorepo_with_several_projects(repo: Repo) -> None:
    for name in ("supabase", "flyway"):
        for rel, content in BY_NAME[name].files.items():
            repo.write(f"services/{name}/{rel}", content)
    repo.commit("two services")
    repo.branch("feature")
    repo.append(f"services/flyway/{BY_NAME['flyway'].merged}", "-- edit\n")
    repo.add()
    result = repo.mg("check")
    assert result.code == 1
    assert result.lines[-1] == "1 finding (required, immutable, linear, lint over 2 projects)"


def test_configured_schema_globs_override_detection(repo: Repo) -> None:
    setup(repo, BY_NAME["flyway"])
    repo.commit("config", ".migration-guard.yaml",
                "projects:\n  - framework: flyway\n    migrations: sql\n"
                "    schema: ['src/entities/**/*.java']\n",
                "src/entities/User.java", "class User {}\n")
    repo.branch("feature")
    repo.append("src/entities/User.java", "// new field\n")
    repo.add()
    result = repo.mg("required")
    assert result.code == 1
    assert result.lines[1] == ("src/entities/User.java: MG101 schema source changed but no "
                               "migration was added to sql/ (schema in .migration-guard.yaml)")
    assert result.lines[2] == ("  hint: generate one and stage it: create V<next version>__"
                               "<description>.sql in the migrations directory")


@pytest.mark.parametrize("env_line,expected", [
    ("target_metadata = None", 0),
    ("target_metadata = Base.metadata", 1),
])
def test_alembic_schema_sources_follow_env_py(repo: Repo, env_line: str, expected: int) -> None:
    layout = BY_NAME["alembic"]
    setup(repo, layout)
    env = layout.files["migrations/env.py"].replace("target_metadata = Base.metadata", env_line)
    repo.commit("env", "migrations/env.py", env)
    repo.branch("feature")
    repo.append("app/models.py", "\nAUDITED = True\n")
    repo.append("app/views.py", "\nUNRELATED = True\n")
    repo.add()
    result = repo.mg("required")
    assert result.code == expected, result.out
    if expected:
        assert result.lines[1:-1] == [
            "app/models.py: MG101 schema source changed but no migration was added to "
            "migrations/versions/ (modules behind target_metadata in migrations/env.py; judged "
            "by file)",
            '  hint: generate one and stage it: alembic revision --autogenerate -m "<describe '
            'the change>"; if the change has no schema effect, prove it: migration-guard '
            'required --prove',
        ]


def test_linear_strict_must_be_a_boolean(repo: Repo) -> None:
    assert error_lines(repo, "linear:\n  strict: yes please\n") == [
        "migration-guard: error: .migration-guard.yaml:2: linear.strict: expected a boolean, "
        "got a string",
        "  hint: set linear.strict to a boolean",
    ]


def test_postgres_version_and_lint_pg_version_must_agree(repo: Repo) -> None:
    assert error_lines(repo, "postgres:\n  version: 15\nlint:\n  pg_version: 16\n") == [
        "migration-guard: error: .migration-guard.yaml:4: lint.pg_version: 16 contradicts "
        "postgres.version 15 (line 2)",
        "  hint: remove lint.pg_version: postgres.version names production's major for the "
        "lint and the apply check alike",
    ]


def test_unknown_stand_in_is_refused(repo: Repo) -> None:
    assert error_lines(repo, "postgres:\n  stand_ins: [pg_foo]\n") == [
        "migration-guard: error: .migration-guard.yaml:2: postgres.stand_ins: 'pg_foo' has no "
        "stand-in; stand-ins exist for: pg_cron, pg_net, http, wrappers, pg_graphql, pgsodium, "
        "supabase_vault, pgjwt",
        "  hint: correct postgres.stand_ins",
    ]


def test_nested_aliases_are_refused_fast(repo: Repo) -> None:
    """Nine levels of anchors, nine aliases each: ~400 bytes standing for 9**9 nodes."""
    levels = ["a: &a [" + ",".join(["lol"] * 9) + "]"]
    names = "abcdefghi"
    levels += [f"{names[n]}: &{names[n]} [" + ",".join([f"*{names[n - 1]}"] * 9) + "]"
               for n in range(1, 9)]
    config = "\n".join(levels) + "\n"
    assert len(config) < 400
    started = time.monotonic()
    lines = error_lines(repo, config)
    assert time.monotonic() - started < 10  # it ran for minutes when every alias was expanded
    assert lines == [
        "migration-guard: error: .migration-guard.yaml: more than 50,000 YAML nodes once "
        "aliases are expanded",
        "  hint: write .migration-guard.yaml without aliases of anchors that hold aliases",
    ]


def test_merge_keys_share_a_project_entry(repo: Repo) -> None:
    for service in ("a", "b"):
        for rel, content in BY_NAME["supabase"].files.items():
            repo.write(f"services/{service}/{rel}", content)
    repo.commit("two services", ".migration-guard.yaml",
                "projects:\n"
                "  - &service\n"
                "    name: a\n"
                "    framework: supabase\n"
                "    migrations: services/a/supabase/migrations\n"
                "  - <<: *service\n"
                "    name: b\n"
                "    migrations: services/b/supabase/migrations\n")
    repo.branch("feature")
    repo.append(f"services/b/{INIT}", "-- edit\n")
    repo.add()
    result = repo.mg("immutable")
    assert result.code == 1, result.err
    assert result.lines[1].startswith(f"services/b/{INIT}: MG102 ")
    assert result.lines[-1] == "1 finding (immutable over 2 projects)"


def test_merge_key_of_a_scalar_is_an_error(repo: Repo) -> None:
    assert error_lines(repo, "base: &b main\nprojects:\n  - <<: *b\n") == [
        "migration-guard: error: .migration-guard.yaml:1: '<<' merges a mapping or a list of "
        "mappings",
        "  hint: point '<<' at an anchored mapping, e.g. <<: *defaults",
    ]


@pytest.mark.parametrize("name,filler", [
    (".migration-guard.yaml", "# padding\n"),
    ("pyproject.toml", "# padding\n"),
])
def test_config_over_one_megabyte_is_refused(repo: Repo, name: str, filler: str) -> None:
    text = "[tool.migration-guard]\n" if name.endswith(".toml") else "base: main\n"
    text += filler * 110_000
    started = time.monotonic()
    assert error_lines(repo, text, name=name) == [
        f"migration-guard: error: {name}: {len(text):,} bytes, over the 1 MB limit of a "
        "configuration file",
        f"  hint: keep {name} under 1 MB: a configuration is a few kilobytes",
    ]
    assert time.monotonic() - started < 10
