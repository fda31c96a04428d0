"""The hand-written NAVA corpus in shared/external (beside the checkout): where its programs are."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

EXTERNAL = Path(__file__).resolve().parents[1].parent / "shared" / "external"
TRAIN, EVAL = "nava_instruct_train.handwritten.jsonl", "nava_instruct_eval.handwritten.jsonl"
DAAT = "nava_instruct_daat_pdl.generated.jsonl"

# Which field of each record holds its NAVA program (the other holds the instruction's answer in
# prose, or nothing): prompt->code records have it in "output", code->explanation ones in "input".
PROGRAM_FIELD = {
    **{(TRAIN, i): "output" for i in [*range(10), 16, 17, 18]},
    **{(TRAIN, i): "input" for i in [*range(10, 16), 19]},
    **{(EVAL, i): "output" for i in (0, 1)},
    **{(EVAL, i): "input" for i in (2, 3, 4)},
}


def records(name: str) -> list[dict]:
    """The records of one corpus file. A user's clone has no shared folder beside it: the test is skipped, with
    one line naming the folder; in CI (``CI=true``), where the folder is always laid out, its absence fails."""
    path = EXTERNAL / name
    if not EXTERNAL.is_dir() and os.environ.get("CI") != "true":
        pytest.skip(f"the shared NAVA corpus is not beside this checkout: {EXTERNAL} is missing")
    assert path.is_file(), f"the shared NAVA corpus is missing: {path}"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def program(name: str, index: int) -> str:
    """The NAVA program of one hand-written record."""
    return records(name)[index][PROGRAM_FIELD[(name, index)]]


def corpus_programs() -> list[tuple[str, int, str]]:
    """(file, index, program text) for every program of the hand-written files."""
    return [(name, index, program(name, index)) for name, index in PROGRAM_FIELD]
