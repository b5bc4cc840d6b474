"""The one user-facing error type: anything that stops a check from running (exit code 2)."""

from __future__ import annotations


class GuardError(Exception):
    """A check could not run. Rendered as ``error: message`` plus ``hint: hint``, exit code 2."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def with_hint(self) -> str:
        """The message, and the hint (if any) on a line of its own: ``hint: ...``."""
        return self.message + (f"\nhint: {self.hint}" if self.hint else "")
