"""Diagnostics (``FILE:LINE:COL: severity: message``) and the error that carries them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Diagnostic:
    filename: str
    line: int
    col: int
    severity: Literal["error", "warning"]
    message: str

    def __str__(self) -> str:
        return f"{self.filename}:{self.line}:{self.col}: {self.severity}: {self.message}"


def errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "error"]


class NavaError(Exception):
    """A program that cannot be formatted or read as a spec; ``str()`` is its first error."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        first = errors(diagnostics) or diagnostics
        super().__init__(str(first[0]) if first else "invalid NAVA program")
