"""The repair request: a broken program's checker errors, and what it should do, in the fix family's words.

One wording, shared by the generator's repair examples (synth/fixes.py) and the checker loop's
repair prompt (lm/checked.py), so the model is asked at inference exactly as it was trained. It
gives no hint of the right value: only the request and what the checker says.
"""

from __future__ import annotations

from collections.abc import Iterable

from nava_instruct.nava.diagnostics import Diagnostic

# The first of the fix family's wordings (synth/fixes.py), without its hint.
REPAIR_ASK = "This NAVA program doesn't check. The checker says:\n{diags}\nFix the program."
REQUEST_LINE = "It should do this: {request}\n"


def diagnostic_lines(diagnostics: Iterable[Diagnostic]) -> list[str]:
    """Each diagnostic as ``line L, column C: message``, as the fix family quotes the checker."""
    return [f"line {found.line}, column {found.col}: {found.message}" for found in diagnostics]


def repair_instruction(request: str | None, error_lines: list[str]) -> str:
    """Ask for a repair from the checker's ``error_lines``, after the original ``request`` where there is one."""
    ask = REPAIR_ASK.format(diags="\n".join(error_lines))
    return (REQUEST_LINE.format(request=request) if request else "") + ask
