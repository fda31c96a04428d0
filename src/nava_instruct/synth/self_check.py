"""The generator's self-check: every program it emits is formatted, clean, canonical and right.

A failed check is a bug in the generator (or the toolkit), never a sample to skip, so it raises
:class:`GeneratorBug` (an AssertionError that ``python -O`` does not strip).
"""

from __future__ import annotations

from nava_instruct import nava
from nava_instruct.nava.diagnostics import errors as only_errors
from nava_instruct.nava.domain import Problem

FILENAME = "program.nava"


class GeneratorBug(AssertionError):
    """The toolkit disagrees with what the generator meant to write."""


def errors(source: str) -> list:
    return only_errors(nava.check(source, FILENAME))


def canonical(source: str, problem: Problem) -> tuple[str, dict]:
    """Format ``source`` and assert it checks clean, is canonical and denotes ``problem``.

    Returns the canonical text and the toolkit's spec of its problem (obstacles in canonical order).
    """
    text = nava.format_source(source, FILENAME)
    found = errors(text)
    if found:
        raise GeneratorBug(f"generated program has errors: {found[0]}\n{text}")
    if nava.format_source(text, FILENAME) != text:
        raise GeneratorBug(f"formatting is not a fixed point for:\n{text}")
    spec = nava.extract_spec(text, FILENAME)
    difference = nava.spec_difference({"problems": [problem.spec()]}, spec)
    if difference is not None:
        raise GeneratorBug(f"spec mismatch ({difference}) for:\n{text}")
    return text, spec["problems"][0]


def broken(source: str) -> tuple[str, list]:
    """Format a deliberately broken program and assert that the checker rejects it."""
    text = nava.format_source(source, FILENAME)
    found = errors(text)
    if not found:
        raise GeneratorBug(f"a broken program checks clean:\n{text}")
    return text, found
