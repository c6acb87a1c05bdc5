"""Errors and warnings collected while reading a config, each with its FILE:LINE."""

from __future__ import annotations

from hatui.errors import ConfigError


class Diagnostics:
    """A collector: `--config-test` wants every error, `load_config` only the first."""

    __slots__ = ("errors", "warnings")

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []
        self.warnings: list[str] = []

    def error(self, message: str, file: str | None, line: int | None = None) -> None:
        self.errors.append(ConfigError(message, file, line))

    def add(self, error: ConfigError) -> None:
        self.errors.append(error)

    def warn(self, message: str, file: str | None, line: int | None = None) -> None:
        self.warnings.append(str(ConfigError(message, file, line)))


class MissingValue(ConfigError):
    """A keyword without its value: keepalived 2.2.7 stops at such a line, so no message
    says what it would run instead."""


def shorten(text: str, limit: int = 40) -> str:
    """Quote a user's text in a message without pasting megabytes of it."""
    return text if len(text) <= limit else text[: limit - 3] + "..."
