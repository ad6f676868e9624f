"""Failures of the registry parsers that a user can act on.

A file that is not the registry export it claims to be stops the parse at once: nothing useful can
be read from it, and the message names the file and the headers that were expected, which is what
the user needs to pick the right file or the right `kind`. A bad row, on the contrary, does not
stop anything: it is reported as an `accountree.errors.Problem` (file, row, column, value) and
skipped, because registry files have millions of rows and one odd record must not cost the rest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from accountree.errors import AccountreeError


class RegistryFormatError(AccountreeError, ValueError):
    """The file's header matches none of the formats accepted for this registry."""

    exit_code = 2  # like a bundle with bad rows: the input is wrong, nothing was written
    http_status = 422

    def __init__(
        self,
        path: str | Path,
        kind: str,
        expected: Mapping[str, Sequence[str]],
        found: Sequence[str] | None = None,
        *,
        reason: str | None = None,
    ) -> None:
        self.path = str(path)
        self.kind = kind
        self.expected = {name: list(cols) for name, cols in expected.items()}
        self.found = list(found or [])
        formats = "; ".join(f"{name}: {', '.join(cols)}" for name, cols in self.expected.items())
        shown = ", ".join(self.found[:12]) + (", …" if len(self.found) > 12 else "")
        what = reason or "its header matches no known format"
        message = f"{self.path}: not a {kind} registry file ({what}). Expected columns — {formats}."
        if self.found:
            message += f" Found: {shown}."
        super().__init__(message, hint=f"Check that the file is a {kind} export, or pass the right kind.")


class RegistryReadError(AccountreeError, ValueError):
    """The file stops being readable part-way (bytes that are not in the file's encoding, a quote
    never closed): the rows before were streamed, the rest cannot be trusted."""

    exit_code = 2
    http_status = 422

    def __init__(self, path: str | Path, row: int | None, detail: str) -> None:
        self.path, self.row, self.detail = str(path), row, detail
        where = f" in the rows from {row} on" if row is not None else ""
        super().__init__(
            f"{self.path}: cannot read the file{where}: {detail}",
            hint="Re-export the file as UTF-8 CSV (or XLSX) and import it again.",
        )
