"""The NAVA-Instruct record: its three public fields, the generator's metadata, and its id.

A record's manifold is the kind of its spec's manifold, one of ``nava.domain.MANIFOLD_NAMES``. A
generated drill (``synth.drills``) also carries ``drill``, its kind; other records have no such key.
A follow-up (family ``follow_up``) also carries ``history``: the conversation before its instruction,
as chat messages (``{"role": "user" | "assistant", "content": ...}``), which ``lm.prompting`` renders
as the chat template renders a conversation; the instruction is the next user message.
"""

import hashlib
import json

FIELDS = ("instruction", "input", "output")
METADATA = ("id", "family", "manifold", "level")
FAMILIES = ("prompt_to_code", "code_to_explanation", "fix", "edit", "follow_up")
HISTORY = "history"  # a follow-up's earlier turns, a public field beside FIELDS
LEVELS = ("gcse", "a_level", "undergrad", "phd")


def example_id(instruction: str, input: str, output: str, history: list[dict] | None = None) -> str:
    """A content hash: identical examples get identical ids, whatever produced them."""
    content = json.dumps([instruction, input, output, *([history] if history else [])], ensure_ascii=False)
    return hashlib.sha256(content.encode("utf-8")).hexdigest()[:16]


def make_record(
    family: str,
    spec: dict,
    level: str,
    instruction: str,
    input: str,
    output: str,
    drill: str | None = None,
    history: list[dict] | None = None,
) -> dict:
    """A full record: the generator's metadata (with ``drill`` only for a drill), then the public fields
    (with ``history`` only for a follow-up)."""
    return {
        "id": example_id(instruction, input, output, history),
        "family": family,
        "manifold": spec["manifold"]["kind"],
        "level": level,
        **({"drill": drill} if drill else {}),
        "spec": spec,
        "instruction": instruction,
        "input": input,
        "output": output,
        **({HISTORY: history} if history else {}),
    }


def public(record: dict) -> dict:
    """The fields a dataset file holds: instruction, input, output, and a follow-up's history."""
    return {field: record[field] for field in (*FIELDS, HISTORY) if field in record}
