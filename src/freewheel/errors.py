"""Errors that reach the user.

Every failure a user can cause or fix (bad input, an unreachable index, an
unsatisfiable request) is raised as a :class:`FreewheelError`. The command
line prints its :attr:`~FreewheelError.message` as one paragraph and exits
with :attr:`~FreewheelError.exit_code`; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations


class FreewheelError(Exception):
    """A failure explained in words meant for the user."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nhint: {self.hint}"
        return self.message


class UsageError(FreewheelError):
    """The command line or a configuration value is wrong."""


class InputError(FreewheelError):
    """A requirements file, ``pyproject.toml`` or similar input is malformed."""


class IndexAccessError(FreewheelError):
    """An index page could not be fetched or understood."""


class MetadataError(FreewheelError):
    """A distribution's metadata could not be obtained or parsed.

    ``reason`` says what went wrong without naming the file, the same for
    every version that failed alike, so that a report can tell them as one;
    by default, the message.
    """

    def __init__(self, message: str, *, hint: str | None = None, reason: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = message if reason is None else reason

    @classmethod
    def download_failed(cls, what: str, reason: str) -> MetadataError:
        """The file *what* brought no response, for *reason* (an unreachable
        host, a timeout, a cache miss offline)."""
        return cls(f"Could not download {what}: {reason}.", reason=f"could not download its files: {reason}")


class ResolutionImpossible(FreewheelError):
    """No set of versions satisfies the requirements."""

    exit_code = 1
