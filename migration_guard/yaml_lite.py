"""The YAML a configuration file is usually written in, read without importing PyYAML; any
other YAML is left to PyYAML.

Importing PyYAML costs a process ~124 M instructions (callgrind; ``python -c pass`` is
38 M), 57 M of it compiling one regular expression of ``yaml.reader``: more than a cold
``lint`` of 100 files spends linting them. This reader covers block mappings and
sequences, one-line flow collections, comments, plain words and integers, and quoted
strings without escapes. It reads what it covers as PyYAML's safe loader does (YAML 1.1:
``yes``/``off`` are booleans, ``~`` is null; ``tests/test_yaml_lite.py`` compares the two
on thousands of generated documents), and returns ``None`` for anything else (anchors,
tags, multi-line scalars, escapes, floats, dates, integers but plain decimals, duplicate
keys, tabs, characters outside printable ASCII, a malformed line), which the caller then
reads with PyYAML: its errors and its answers stay the only ones.
"""

from __future__ import annotations

from migration_guard.typing_lite import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    #: Builds one node of the caller's tree: ``(data, line)``, where data is a scalar, a
    #: list of nodes, or a dict of key -> (key's line, node).
    Make = Callable[[object, int], object]

#: PyYAML's implicit booleans and nulls (its resolver's word lists, YAML 1.1).
_BOOLEANS = {word: value for value, words in (
    (True, ("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")),
    (False, ("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"))) for word in words}
_NULLS = frozenset({"~", "null", "Null", "NULL"})
#: What a plain (unquoted) scalar read here may hold, and start with: nothing YAML gives a
#: meaning to (``:`` ``#`` ``,`` brackets, quotes, ``&`` ``*`` ``!`` ``|`` ``>`` ...).
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-+*@$() ")
_PLAIN_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_/$()")
#: Outside flow collections a plain scalar may also hold these after its first character
#: (``a, b``, ``host:5432``, ``a#b``; not ``: `` or `` #``, which end it).
_PLAIN_BLOCK = _PLAIN | frozenset(",:#=?!%&~[]{}")
#: Every character of YAML 1.1's decimal, octal, float and sexagesimal spellings: a scalar
#: made of these alone may be a number, one holding any other character is a string (but
#: for the ``0x``/``0b`` prefixes and dates, checked apart).
_NUMERIC = frozenset("0123456789_:.+-eE")
#: PyYAML reads a key written on one line of at most this many characters.
_MAX_KEY = 1024
#: Deeper documents are left to PyYAML (whose reader the caller bounds).
_MAX_DEPTH = 32


class _Other(Exception):
    """The text uses YAML this reader leaves to PyYAML."""


class _Line:
    __slots__ = ("indent", "number", "text")

    def __init__(self, number: int, indent: int, text: str) -> None:
        self.number = number  # 1-based
        self.indent = indent
        self.text = text  # from the first non-blank character, comment included


def read(text: str, make: Make, *, max_nodes: int) -> object | None:
    """The top-level mapping of ``text`` built with ``make``; ``None`` when ``text`` is
    anything but a mapping in the YAML read here, or makes more than ``max_nodes`` values
    (read it with PyYAML then)."""
    made = 0

    def counted(data: object, line: int) -> object:
        nonlocal made
        made += 1
        if made > max_nodes:
            raise _Other
        return make(data, line)

    try:
        lines = _content_lines(text)
        if not lines or _is_entry(lines[0].text):
            return None
        reader = _Reader(lines, counted)
        tree, end = reader.mapping(0, lines[0].indent, 0)
        if end != len(lines):
            return None
        return tree
    except _Other:
        return None


def _content_lines(text: str) -> list[_Line]:
    if not text.isascii():
        raise _Other
    found: list[_Line] = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.isprintable():  # tabs, carriage returns, control characters
            raise _Other
        body = line.lstrip(" ")
        if not body or body[0] == "#":
            continue
        if body[0] in "%&*!|>?{[@`" or body.startswith(("---", "...")):
            raise _Other  # directives, document markers, a top-level flow collection, ...
        found.append(_Line(number, len(line) - len(body), body))
    return found


def _is_entry(body: str) -> bool:
    """Whether the line is a block sequence's entry (``- x``, or ``-`` alone)."""
    return body == "-" or body.startswith("- ")


class _Reader:
    def __init__(self, lines: list[_Line], make: Make) -> None:
        self.lines = lines
        self.make = make

    def _indent_at(self, at: int) -> int:
        return self.lines[at].indent if at < len(self.lines) else -1

    def mapping(self, at: int, indent: int, depth: int) -> tuple[object, int]:
        """The block mapping whose keys start at column ``indent``, from line ``at``."""
        if depth > _MAX_DEPTH:
            raise _Other
        entries: dict[str, tuple[int, object]] = {}
        first = self.lines[at].number
        while at < len(self.lines) and self.lines[at].indent == indent:
            line = self.lines[at]
            if _is_entry(line.text):
                raise _Other
            key, rest = _key(line.text)
            if key in entries:
                raise _Other  # PyYAML's reading names the duplicate
            at += 1
            if rest:
                value = _inline(rest, line.number, self.make)
                if self._indent_at(at) > indent:
                    raise _Other  # a scalar continued on the next line, or a mistake
            elif self._indent_at(at) > indent:
                value, at = self.block(at, depth + 1)
            elif self._indent_at(at) == indent and _is_entry(self.lines[at].text):
                value, at = self.sequence(at, indent, depth + 1)  # "key:" then "- x"
            else:
                value = self.make(None, line.number)
            entries[key] = (line.number, value)
        if self._indent_at(at) > indent:
            raise _Other
        return self.make(entries, first), at

    def block(self, at: int, depth: int) -> tuple[object, int]:
        line = self.lines[at]
        if _is_entry(line.text):
            return self.sequence(at, line.indent, depth)
        return self.mapping(at, line.indent, depth)

    def sequence(self, at: int, indent: int, depth: int) -> tuple[object, int]:
        """The block sequence whose ``-`` are at column ``indent``, from line ``at``."""
        if depth > _MAX_DEPTH:
            raise _Other
        items: list[object] = []
        first = self.lines[at].number
        while at < len(self.lines) and self.lines[at].indent == indent \
                and _is_entry(self.lines[at].text):
            line = self.lines[at]
            body = line.text[1:].lstrip(" ")
            if not body or body[0] == "#" or _is_entry(body):
                raise _Other  # an empty entry, or a sequence in a sequence
            if _starts_entry(body):  # "- key: value": a mapping at the key's column
                column = line.indent + len(line.text) - len(body)
                self.lines[at] = _Line(line.number, column, body)
                value, at = self.mapping(at, column, depth + 1)
            else:
                value = _inline(body, line.number, self.make)
                at += 1
                if self._indent_at(at) > indent:
                    raise _Other
            items.append(value)
        return self.make(items, first), at


def _starts_entry(body: str) -> bool:
    """Whether a sequence entry's text is a mapping's first ``key: value``."""
    try:
        _key(body)
    except _Other:
        return False
    return True


def _key(text: str) -> tuple[str, str]:
    """A ``key: rest`` line's key (as written: PyYAML keeps a key's text) and rest (the
    value's text, comment included; empty when the value is on the next lines)."""
    if text[0] in "'\"":
        key, end = _quoted(text, 0)
    else:
        end = text.find(":")
        if end == -1:
            raise _Other
        key = _plain_word(text[:end].rstrip(" "))
    if len(key) > _MAX_KEY or text[end:end + 1] != ":" or text[end + 1:end + 2] not in ("", " "):
        raise _Other
    return key, _no_comment(text[end + 1:])


def _no_comment(text: str) -> str:
    """``text`` without surrounding blanks or a trailing comment (``#`` after a blank)."""
    text = text.strip(" ")
    return "" if text.startswith("#") else text


def _inline(text: str, number: int, make: Make) -> object:
    """The value written on one line after ``key:`` or ``-``."""
    if text[0] in "[{":
        value, end = _Flow(text, number, make).value(0, 0)
    elif text[0] in "'\"":
        scalar, end = _quoted(text, 0)
        value = make(scalar, number)
    else:
        cut = text.find(" #")
        plain = (text if cut == -1 else text[:cut]).rstrip(" ")
        if ": " in plain or plain.endswith(":"):
            raise _Other  # a mapping where a value may not be one
        return make(_resolve(plain, _PLAIN_BLOCK), number)
    if _no_comment(text[end:]) or (text[end:end + 1] not in ("", " ")):
        raise _Other
    return value


def _quoted(text: str, start: int) -> tuple[str, int]:
    """The quoted scalar at ``start`` (one line, no escapes but ``''``) and where it ends."""
    quote = text[start]
    end = text.find(quote, start + 1)
    if quote == "'":
        while end != -1 and text[end + 1:end + 2] == "'":
            end = text.find("'", end + 2)
    if end == -1:
        raise _Other  # continued on the next line
    scalar = text[start + 1:end]
    if quote == '"' and "\\" in scalar:
        raise _Other
    return (scalar.replace("''", "'") if quote == "'" else scalar), end + 1


def _plain_word(text: str, allowed: frozenset[str] = _PLAIN) -> str:
    """``text``, when it is a plain scalar made of the characters read here (``allowed``,
    after a first character YAML gives no meaning to); else the text is left to PyYAML."""
    if not text or text[0] not in _PLAIN_START or not allowed.issuperset(text):
        raise _Other
    return text


def _resolve(plain: str, allowed: frozenset[str] = _PLAIN) -> object:
    """A plain scalar's value, as PyYAML's implicit resolvers and safe constructor make it:
    a word is a string unless it is a YAML 1.1 boolean or null; a decimal is an int.
    ``allowed``: the characters it may hold (flow collections allow fewer)."""
    if not plain or plain in _NULLS:
        return None
    _plain_word(plain, allowed)
    if plain in _BOOLEANS:
        return _BOOLEANS[plain]
    if plain[0].isdigit():
        if plain.isdigit() and (plain == "0" or plain[0] != "0"):
            return int(plain)
        if _NUMERIC.issuperset(plain) or plain.startswith(("0x", "0b")) or (
                plain[:4].isdigit() and plain[4:5] == "-" and plain[5:6].isdigit()):
            raise _Other  # YAML 1.1's other numbers (012, 1_000, 1:30, 1.5e3, 0x1F) or dates
        return plain  # a word that starts with a digit: a blob id, 2fa, ...
    return plain


class _Flow:
    """A flow collection written on one line: ``[a, b]``, ``{key: value}``, nested."""

    def __init__(self, text: str, number: int, make: Make) -> None:
        self.text = text
        self.number = number
        self.make = make

    def _skip(self, at: int) -> int:
        while self.text[at:at + 1] == " ":
            at += 1
        return at

    def value(self, at: int, depth: int) -> tuple[object, int]:
        if depth > _MAX_DEPTH:
            raise _Other
        opener = self.text[at:at + 1]
        if opener == "[":
            return self._sequence(at + 1, depth)
        if opener == "{":
            return self._mapping(at + 1, depth)
        if opener in ("'", '"'):
            scalar, end = _quoted(self.text, at)
            return self.make(scalar, self.number), end
        end = at
        while end < len(self.text) and self.text[end] not in ",]}":
            end += 1
        plain = self.text[at:end].rstrip(" ")
        if not plain:
            raise _Other  # an empty entry: "[, a]"
        return self.make(_resolve(plain), self.number), end

    def _sequence(self, at: int, depth: int) -> tuple[object, int]:
        items: list[object] = []
        at = self._skip(at)
        while self.text[at:at + 1] != "]":
            item, at = self.value(at, depth + 1)
            items.append(item)
            at = self._next(self._skip(at), "]")
        return self.make(items, self.number), at + 1

    def _mapping(self, at: int, depth: int) -> tuple[object, int]:
        entries: dict[str, tuple[int, object]] = {}
        at = self._skip(at)
        while self.text[at:at + 1] != "}":
            if self.text[at:at + 1] in ("'", '"'):
                key, at = _quoted(self.text, at)
            else:
                colon = self.text.find(":", at)
                key = _plain_word(self.text[at:colon].rstrip(" ") if colon != -1 else "")
                at = colon
            if key in entries or self.text[at:at + 2] != ": ":
                raise _Other
            value, at = self.value(self._skip(at + 2), depth + 1)
            entries[key] = (self.number, value)
            at = self._next(self._skip(at), "}")
        return self.make(entries, self.number), at + 1

    def _next(self, at: int, closer: str) -> int:
        """Past the ``,`` after an item; at the closer when there is none."""
        found = self.text[at:at + 1]
        if found == closer:
            return at
        if found != ",":
            raise _Other
        at = self._skip(at + 1)
        if self.text[at:at + 1] in (closer, ",", ""):
            raise _Other  # a trailing or doubled comma
        return at
