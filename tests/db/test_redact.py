"""Credentials never reach a message: URLs, conninfo strings, malformed URLs."""

from __future__ import annotations

import pytest

from migration_guard.db.redact import redact_url, redact_with


@pytest.mark.parametrize(("text", "expected"), [
    ("postgresql://user:sec@ret@host:bad/db", "postgresql://user:***@host:bad/db"),
    ("see postgresql+psycopg://me:pw@h:5432/d now", "see postgresql+psycopg://me:***@h:5432/d now"),
    ("postgres://u:pa/ss@h/db", "postgres://u:***@h/db"),
    ("host=a password='x y' user=b", "host=a password=*** user=b"),
    ("host=a password=xy user=b", "host=a password=*** user=b"),
    ("postgres://u@h/db?password=zz&sslmode=require", "postgres://u@h/db?password=***&sslmode=require"),
    ("postgresql://host/db", "postgresql://host/db"),
    ("postgresql://u@host/db", "postgresql://u@host/db"),
])
def test_redact_url_masks_passwords(text: str, expected: str) -> None:
    assert redact_url(text) == expected


def test_fragments_of_a_malformed_password_are_masked_too() -> None:
    url = "postgresql://user:sec@ret@host:bad/db"
    message = f'could not translate host name "ret@host" to address; url {url}'
    assert redact_with(message, url) == (
        'could not translate host name "***@host" to address; url postgresql://user:***@host:bad/db')


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://postgres:postgres@localhost:5432/postgres",
     "postgresql://***:***@localhost:5432/***"),
    ("postgres://postgres:postgres@localhost:5432/postgres",
     "postgres://***:***@localhost:5432/***"),
    ("postgresql://app:sql@db.example:5432/app", "postgresql://app:***@db.example:5432/app"),
])
def test_masking_keeps_the_scheme_and_host_readable(url: str, expected: str) -> None:
    assert redact_with(f"could not connect to {url}", url) == f"could not connect to {expected}"


def test_a_password_inside_a_longer_word_is_not_a_leak() -> None:
    url = "postgresql://u:local@localhost/db"
    assert redact_with('connection to server at "localhost" failed: password local', url) == (
        'connection to server at "localhost" failed: password ***')
