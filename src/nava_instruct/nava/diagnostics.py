"""Diagnostics (``FILE:LINE:COL: severity: message``), the error that carries them, and what reports them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    filename: str
    line: int
    col: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.col}: {self.severity}: {self.message}"


class Reporter(Protocol):
    """Where a builtin reports a wrong value (the checker is one)."""

    def report(self, node, message: str, severity: Severity = "error") -> None:
        """Record a diagnostic at ``node``; returns None so that ``return reporter.report(...)`` fails a value."""


def errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [diagnostic for diagnostic in diagnostics if diagnostic.severity == "error"]


class NavaError(Exception):
    """A program that cannot be formatted or read as a spec; ``str()`` is its first error."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        first = errors(diagnostics) or diagnostics
        super().__init__(str(first[0]) if first else "invalid NAVA program")
