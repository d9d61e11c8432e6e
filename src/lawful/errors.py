"""The few errors a user can cause. Each one says what went wrong and what to do about it."""


class LawfulError(Exception):
    """An error caused by input or state the user controls; the CLI prints it on one line and exits 2."""

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} Fix: {self.fix}" if self.fix else self.message


class ConfigError(LawfulError):
    """A setting or a mapping file is wrong."""


class StoreError(LawfulError):
    """The store is missing, behind its migrations, or unreachable."""


class InputError(LawfulError):
    """An input file cannot be read as a whole (encoding, emptiness, missing columns, not the declared format)."""


class RowError(InputError):
    """One row of an input file is bad; raised only under --strict, otherwise the row is quarantined."""

    def __init__(self, file: str, row: int, field: str, value: str, reason: str):
        self.file, self.row, self.field, self.value, self.reason = file, row, field, value, reason
        super().__init__(
            f"{file} row {row}, field {field} ({value!r}): {reason}. Nothing was written.",
            "correct that row, or load without --strict to quarantine bad rows and keep the good ones.",
        )
