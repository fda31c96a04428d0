"""The hand-written NAVA corpus in shared/external (beside the checkout): where its programs are."""

from __future__ import annotations

import json
from pathlib import Path

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
    """The records of one corpus file; fails (never skips) when the shared folder is missing."""
    path = EXTERNAL / name
    assert path.is_file(), f"the shared NAVA corpus is missing: {path}"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def corpus_programs() -> list[tuple[str, int, str]]:
    """(file, index, program text) for every program of the hand-written files."""
    found = []
    for name in (TRAIN, EVAL):
        for index, record in enumerate(records(name)):
            found.append((name, index, record[PROGRAM_FIELD[(name, index)]]))
    return found
