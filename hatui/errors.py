"""Errors that reach the user as one line and an exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2


class HatuiError(Exception):
    """An error the CLI prints as one line; `exit_code` follows docs/cli.md."""

    exit_code = EXIT_RUNTIME


class UsageError(HatuiError):
    """Bad flags or arguments."""

    exit_code = EXIT_USAGE


class ConfigError(HatuiError):
    """A config file error with its position, printed as FILE:LINE: message."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.file is not None and self.line is not None:
            return f"{self.file}:{self.line}: {self.message}"
        if self.file is not None:
            return f"{self.file}: {self.message}"
        return self.message


class RuntimeFault(HatuiError):
    """Failure at run time: missing interface, no permission, socket or netlink failure."""

    exit_code = EXIT_RUNTIME
