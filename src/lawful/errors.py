"""The few errors a user can cause. Each one says what went wrong and what to do about it."""


KINDS = ("invalid", "not_found", "conflict", "denied", "unauthenticated", "unavailable")


class LawfulError(Exception):
    """An error caused by input or state the user controls; the CLI prints it on one line and exits 2, the API
    answers an RFC 9457 problem+json whose status comes from `kind` (see lawful.web.problems)."""

    kind = "invalid"

    def __init__(self, message: str, fix: str | None = None, *, kind: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix
        if kind is not None:
            if kind not in KINDS:
                raise ValueError(f"unknown error kind {kind!r}")
            self.kind = kind

    def __str__(self) -> str:
        return f"{self.message} Fix: {self.fix}" if self.fix else self.message


class ConfigError(LawfulError):
    """A setting or a mapping file is wrong."""


class StoreError(LawfulError):
    """The store is missing, behind its migrations, or unreachable."""

    kind = "unavailable"


class NotFound(LawfulError):
    """The thing named does not exist (or the caller may not know that it does)."""

    kind = "not_found"


class Conflict(LawfulError):
    """The request clashes with the current state (exists already, wrong lifecycle step, changed meanwhile)."""

    kind = "conflict"


class Unauthenticated(LawfulError):
    """No valid credentials: no token, an expired or revoked one, a failed sign-in."""

    kind = "unauthenticated"


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
