"""The NAVA-Instruct record: its three public fields, the generator's metadata, and its id.

A record's manifold is the kind of its spec's manifold, one of ``nava.domain.MANIFOLD_NAMES``. A
generated drill (``synth.drills``) also carries ``drill``, its kind; other records have no such key.
"""

import hashlib
import json

FIELDS = ("instruction", "input", "output")
METADATA = ("id", "family", "manifold", "level")
FAMILIES = ("prompt_to_code", "code_to_explanation", "fix", "edit")
LEVELS = ("gcse", "a_level", "undergrad", "phd")


def example_id(instruction: str, input: str, output: str) -> str:
    """A content hash: identical examples get identical ids, whatever produced them."""
    content = json.dumps([instruction, input, output], ensure_ascii=False)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def make_record(
    family: str, spec: dict, level: str, instruction: str, input: str, output: str, drill: str | None = None
) -> dict:
    """A full record: the generator's metadata (with ``drill`` only for a drill), then the three public fields."""
    return {
        "id": example_id(instruction, input, output),
        "family": family,
        "manifold": spec["manifold"]["kind"],
        "level": level,
        **({"drill": drill} if drill else {}),
        "spec": spec,
        "instruction": instruction,
        "input": input,
        "output": output,
    }
