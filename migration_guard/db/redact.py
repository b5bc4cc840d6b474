"""Masking of credentials in any text that may hold a PostgreSQL URL or conninfo string.

Every message that could echo a database URL goes through :func:`redact_url`, including
messages about URLs too malformed to parse (``postgresql://user:sec@ret@host:bad/db``).
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://userinfo@ : the userinfo runs to the LAST "@" of the token, so a password that
# itself holds "@" or "/" (a malformed URL) is masked whole.
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^\s'\"<>]*)@")
# conninfo key=value pairs, quoted or bare, plus PGPASSWORD=... in environment dumps.
_CONNINFO_PASSWORD = re.compile(
    r"(?P<key>(?<![?&])\b(?:password|PGPASSWORD)\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'?|\S+)",
    re.IGNORECASE,
)
# ?password=... or &password=... in URL query strings.
_QUERY_PASSWORD = re.compile(r"(?P<key>[?&]password=)(?P<value>[^&\s'\"]*)", re.IGNORECASE)


def _mask_userinfo(match: re.Match[str]) -> str:
    userinfo = match.group("userinfo")
    user, colon, _password = userinfo.partition(":")
    if not colon:
        return match.group(0)
    return f"{match.group('scheme')}{user}:{MASK}@"


def redact_url(text: str) -> str:
    """Return ``text`` with every password in a URL, query string or conninfo masked."""
    text = _URL_USERINFO.sub(_mask_userinfo, text)
    text = _QUERY_PASSWORD.sub(lambda m: m.group("key") + MASK, text)
    return _CONNINFO_PASSWORD.sub(lambda m: m.group("key") + MASK, text)


def _passwords_in(url: str) -> list[str]:
    """Every password-like fragment of ``url``, including fragments libpq might split out
    of a malformed URL (``user:sec@ret@host`` may be echoed back as host ``ret@host``)."""
    found: list[str] = []
    for match in _URL_USERINFO.finditer(url):
        password = match.group("userinfo").partition(":")[2]
        if password:
            found.append(password)
            found.extend(part for part in password.split("@") if len(part) >= 2)
    for match in _CONNINFO_PASSWORD.finditer(url):
        found.append(match.group("value").strip("'"))
    for match in _QUERY_PASSWORD.finditer(url):
        found.append(match.group("value"))
    return sorted({p for p in found if p}, key=len, reverse=True)


def _standalone(secret: str) -> re.Pattern[str]:
    """``secret`` where it stands as a value of its own: not inside a longer word (the
    password ``postgres`` is not in ``postgresql``), and never a URL's scheme
    (``postgres://``), so the scheme and host of a masked URL stay readable."""
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(secret)}(?![A-Za-z0-9_]|://)")


def redact_with(text: str, url: str) -> str:
    """:func:`redact_url`, plus removal of any fragment of ``url``'s password from ``text``.

    ``postgresql://postgres:postgres@localhost:5432/postgres`` is shown as
    ``postgresql://***:***@localhost:5432/***``: every standalone occurrence of the password
    is masked (here also the user and database names that happen to equal it).
    """
    text = redact_url(text)
    for secret in _passwords_in(url):
        text = _standalone(secret).sub(MASK, text)
    return text
