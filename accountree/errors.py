"""The user-facing failures of accountree.

One class per failure a user can act on; the CLI and the API turn them into a message and an
exit code (or an HTTP status) without a traceback. Anything else is a bug.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


class AccountreeError(Exception):
    """Base of every error a user can fix; `hint` says how."""

    exit_code = 1
    http_status = 400

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": type(self).__name__, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        return out


class WorkspaceError(AccountreeError):
    """The workspace cannot be opened, created or migrated."""


class MissingDependencyError(AccountreeError):
    """An optional engine or feature needs a package that is not installed."""


# Optional parts and the extra that installs them (pyproject.toml): what a missing module means.
OPTIONAL_MODULES = {"hubspot": ("hubspot-api-client", "crm"), "simple_salesforce": ("simple-salesforce", "crm"),
                    "pyspark": ("pyspark", "spark"), "matplotlib": ("matplotlib", "bench")}
# In the base dependencies; a broken install may still lack them.
BASE_MODULES = {"numpy": "numpy", "sklearn": "scikit-learn", "splink": "splink", "fastapi": "fastapi",
                "uvicorn": "uvicorn", "jinja2": "jinja2", "argon2": "argon2-cffi", "multipart": "python-multipart"}


def missing_dependency(err: ModuleNotFoundError) -> MissingDependencyError | None:
    """The user-facing error for a module that is not installed, or None for a module that is not ours to name."""
    top = (err.name or "").split(".")[0]
    if top in OPTIONAL_MODULES:
        package, extra = OPTIONAL_MODULES[top]
        return MissingDependencyError(f"this needs {package}, which is not installed",
                                      hint=f"pip install 'accountree[{extra}]'")
    if top in BASE_MODULES:
        return MissingDependencyError(f"{BASE_MODULES[top]} is not installed (a dependency of accountree)",
                                      hint="pip install --upgrade accountree  (or: pip install -e . in a clone)")
    return None


class ConfigError(AccountreeError):
    """A user file (mapping, grid, rules) is invalid; `problems` lists every problem at once."""

    def __init__(self, message: str, problems: list[str] | None = None, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems or []

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "problems": self.problems}


class NotFoundError(AccountreeError):
    """The account, table or record asked for does not exist."""

    http_status = 404


class PermissionDeniedError(AccountreeError):
    """The caller's role or business unit does not allow this."""

    http_status = 403


@dataclass(frozen=True)
class Problem:
    """One bad value in an imported file: where it is and what was expected."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        where = self.file + (f", row {self.row}" if self.row is not None else "")
        col = f", column {self.column!r}" if self.column else ""
        val = f": got {self.value!r}" if self.value is not None else ""
        return f"{where}{col}{val} — expected {self.expected}"


class ImportValidationError(AccountreeError):
    """A bundle has bad rows; nothing was written. Carries every problem found."""

    exit_code = 2
    http_status = 422

    def __init__(self, problems: list[Problem], total: int | None = None) -> None:
        self.problems = problems
        self.total = total if total is not None else len(problems)
        files = sorted({p.file for p in problems})
        super().__init__(
            f"{self.total} problem(s) in {len(files)} file(s) ({', '.join(files)}); nothing was imported",
            hint="Fix the rows listed and run the import again.",
        )

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "total": self.total, "problems": [asdict(p) for p in self.problems]}
