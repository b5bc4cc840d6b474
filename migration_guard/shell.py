"""Quoting of file names inside the shell commands that hints print.

A hint's command must work when pasted into bash as printed, on one line. ``shlex.quote``
covers printable names; a name with a newline, a tab, another control character or bytes
that are not UTF-8 is written as bash's ``$'...'`` instead, with those bytes escaped.
"""

import os

_PLAIN_ASCII = range(0x20, 0x7F)
_NAMED = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r", 0x5C: "\\\\", 0x27: "\\'"}


def quote(name: str) -> str:
    """``name`` as one bash word that stays on one line."""
    if name.isprintable():  # False for control characters and for surrogate escapes
        import shlex  # only a hint quotes a name: a clean hook run skips it (~0.3 ms)

        return shlex.quote(name)
    return "$'" + "".join(_escape(byte) for byte in os.fsencode(name)) + "'"


def _escape(byte: int) -> str:
    if byte in _NAMED:
        return _NAMED[byte]
    if byte in _PLAIN_ASCII:
        return chr(byte)
    return f"\\x{byte:02x}"
