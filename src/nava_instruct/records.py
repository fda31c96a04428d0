"""The NAVA-Instruct record: its three public fields, the generator's metadata, and its id."""

import hashlib
import json

FIELDS = ("instruction", "input", "output")
METADATA = ("id", "family", "manifold", "level")
FAMILIES = ("prompt_to_code", "code_to_explanation", "fix", "edit")
MANIFOLDS = ("R2", "R3", "S1", "S2", "SE2", "SE3")
LEVELS = ("gcse", "a_level", "undergrad", "phd")


def example_id(instruction: str, input: str, output: str) -> str:
    """A content hash: identical examples get identical ids, whatever produced them."""
    content = json.dumps([instruction, input, output], ensure_ascii=False)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def make_record(family: str, spec: dict, level: str, instruction: str, input: str, output: str) -> dict:
    """A full record: the generator's metadata, then the three public fields."""
    return {
        "id": example_id(instruction, input, output),
        "family": family,
        "manifold": spec["manifold"]["kind"],
        "level": level,
        "spec": spec,
        "instruction": instruction,
        "input": input,
        "output": output,
    }
