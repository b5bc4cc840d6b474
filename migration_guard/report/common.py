"""What every output format shares: the outcomes flattened, paths made printable, rule lookup.

Each renderer works from the same list of outcomes; these helpers make sure they all see
the same findings in the same order, with each finding's check and project filled in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from migration_guard.codes import GIT_CODES, Code
from migration_guard.findings import Finding, Note, Outcome, fails, sort_key

PASS = "pass"
FAIL = "fail"


def _escaped(char: str) -> str:
    if "\udc80" <= char <= "\udcff":  # an undecodable byte kept by surrogateescape
        return f"\\x{ord(char) - 0xDC00:02x}"
    return char.encode("unicode_escape").decode("ascii")


def escape_chars(text: str, keep: Callable[[str], bool]) -> str:
    """``text`` with every character ``keep`` rejects written as a backslash escape."""
    return "".join(char if keep(char) else _escaped(char) for char in text)


def display_path(path: str) -> str:
    """A path as one printable line: control characters and undecodable bytes escaped."""
    if path.isprintable():
        return path
    return escape_chars(path, str.isprintable)


def _encodable(char: str) -> bool:
    return not "\ud800" <= char <= "\udfff"


def encodable(text: str) -> str:
    """``text`` that encodes as UTF-8: undecodable bytes of a file name become ``\\xNN``."""
    return escape_chars(text, _encodable)


def one_line(text: str) -> str:
    """``text`` with CR and LF escaped, for formats that give a record one line."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def findings_of(outcomes: Sequence[Outcome]) -> list[Finding]:
    """Every finding, sorted by location, with its check and project filled in."""
    return sorted((f._replace(check=f.check or o.check, project=f.project or o.project)
                   for o in outcomes for f in o.findings), key=sort_key)


def notes_of(outcomes: Sequence[Outcome]) -> list[Note]:
    """Every note (honoured exceptions, skipped steps) in run order, check and project filled."""
    return [n._replace(check=n.check or o.check, project=n.project or o.project)
            for o in outcomes for n in o.notes]


def projects_of(outcomes: Sequence[Outcome]) -> list[str]:
    """Project names in the order the checks ran them."""
    return list(dict.fromkeys(o.project for o in outcomes))


def checks_of(outcomes: Sequence[Outcome]) -> list[str]:
    """Check names in the order they ran."""
    return list(dict.fromkeys(o.check for o in outcomes))


def failing(outcome: Outcome, fail_on: str = "error") -> bool:
    """Whether the outcome fails: a finding of severity error (warnings are shown only,
    unless ``fail_on: warning``)."""
    return any(fails(f, fail_on) for f in outcome.findings)


def verdict(outcome: Outcome) -> str:
    """``fail`` when the outcome has an error; warnings alone do not fail a check."""
    return FAIL if failing(outcome) else PASS


def rule(code: str) -> Code | None:
    """The registry entry of a code; the lint and database tables load only when needed."""
    known = GIT_CODES.get(code)
    if known is None:
        from migration_guard.report.codebook import all_codes

        known = all_codes().get(code)
    return known


def title(code: str) -> str:
    """The code and its name (``MG102 merged-migration-edited``); the bare code if unknown."""
    known = rule(code)
    return f"{code} {known.name}" if known else code


def exit_code(outcomes: Sequence[Outcome], fail_on: str = "error", *,
              unchecked: bool = False) -> int:
    """1 when a finding fails the run: any error, or any warning under ``fail_on: warning``;
    2 when a check could not run (``unchecked``), whatever the others found."""
    if unchecked:
        return 2
    return 1 if any(failing(o, fail_on) for o in outcomes) else 0


#: What the summary line adds when a check could not run; the error itself follows on
#: stderr (the CLI writes it there, with its hint).
NOT_ALL_CHECKED = ", but a check could not run: see the error (exit 2)"


def warnings_of(findings: Sequence[Finding]) -> int:
    return sum(f.severity == "warning" for f in findings)
