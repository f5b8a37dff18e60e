"""User-facing error types shared by every layer; the CLI and server turn them into messages."""


class SflowError(Exception):
    """An error with a message meant for the user (no traceback is shown)."""

    exit_code = 1


class UsageError(SflowError):
    """Bad command-line usage or configuration (CLI exit code 2)."""

    exit_code = 2


class NotAvailableError(SflowError):
    """A feature whose optional part (qlib, a database driver, data) is not installed or set up."""
