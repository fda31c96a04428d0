"""Stage ``split``: train/eval files in the original three-field format, stratified, with no leakage.

The pool is the generated dataset plus any hand-written ``data/extra/*.jsonl`` (validated the same
way). Examples that share a task spec, an exact instruction or a code input are linked into one
group, and a group always lands on one side, so the eval split measures generalisation rather
than recall. Groups are assigned greedily so that every family × manifold × level stratum gets
about ``eval_fraction`` of its examples. The leakage report (a DVC metric) recounts overlaps on
the written files; it must say 0.
"""

from __future__ import annotations

import json
import logging
import random
from collections import Counter, defaultdict
from pathlib import Path

from pydantic import Field

from nava_instruct import nava
from nava_instruct.errors import InputError
from nava_instruct.fileio import read_jsonl, write_json, write_jsonl
from nava_instruct.layout import EVAL_META, GENERATED_EXAMPLES, TRAIN_META
from nava_instruct.nava.diagnostics import errors
from nava_instruct.params import StageParams
from nava_instruct.records import FIELDS, METADATA, make_record, public

log = logging.getLogger(__name__)

LEVEL_WORDS = {"gcse": ("gcse",), "a_level": ("a-level", "a level"), "undergrad": ("undergrad",), "phd": ("phd",)}


class Params(StageParams):
    seed: int
    eval_fraction: float = Field(gt=0.0, lt=1.0)
    generated_dir: str  # stage generate's folder
    extra_dir: str  # hand-written examples: every *.jsonl file in it
    train_out: str
    eval_out: str
    meta_dir: str
    report: str


def spec_key(spec: dict) -> str:
    """A task spec as a hashable key; numbers rounded to the equivalence tolerance."""

    def rounded(value):
        if isinstance(value, float):
            return round(value, 3) + 0.0  # + 0.0 turns -0.0 into 0.0
        if isinstance(value, list):
            return [rounded(item) for item in value]
        if isinstance(value, dict):
            return {key: rounded(item) for key, item in value.items()}
        return value

    return json.dumps(rounded(spec), sort_keys=True)


def code_key(code: str) -> str:
    """A code input as a key: its canonical form when it parses, else its stripped text."""
    try:
        return nava.format_source(code)
    except nava.NavaError:
        return code.strip()


def looks_like_nava(text: str) -> bool:
    return "navigation_field(" in text or text.lstrip().startswith("let ")


def _nava_error(source: str, path: Path, line: int, field: str) -> InputError | None:
    found = errors(nava.check(source, "<" + field + ">"))
    if not found:
        return None
    first = found[0]
    return InputError(path, f"invalid NAVA at {first.line}:{first.col}: {first.message}", line=line, field=field)


def classify_extra(record: dict, path: Path, line: int) -> dict:
    """Validate a hand-written record and derive the metadata the generator would have written."""
    instruction, code_in, output = (record[field] for field in FIELDS)
    if not instruction.strip():
        raise InputError(path, "empty", line=line, field="instruction")
    if not output.strip():
        raise InputError(path, "empty", line=line, field="output")
    if not code_in.strip():
        family, program_field = "prompt_to_code", "output"
        if not looks_like_nava(output):
            raise InputError(path, "no input, so the output must be a NAVA program", line=line, field="output")
    elif looks_like_nava(output):
        broken = _nava_error(code_in, path, line, "input") is not None
        family, program_field = ("fix" if broken else "edit"), "output"
    else:
        family, program_field = "code_to_explanation", "input"
    error = _nava_error(record[program_field], path, line, program_field)
    if error:
        raise error
    spec = nava.extract_spec(record[program_field])["problems"][0]
    lowered = instruction.lower()
    level = next((name for name, words in LEVEL_WORDS.items() if any(w in lowered for w in words)), "unspecified")
    return make_record(family, spec, level, instruction, code_in, output)


def pool_path(params: Params) -> Path:
    return Path(params.generated_dir) / GENERATED_EXAMPLES


def load_pool(params: Params) -> list[dict]:
    examples = []
    for line, record in read_jsonl(pool_path(params), required=FIELDS + METADATA):
        if not isinstance(record.get("spec"), dict):
            raise InputError(pool_path(params), "missing or not an object", line=line, field="spec")
        examples.append(record)
    for extra in sorted(Path(params.extra_dir).glob("*.jsonl")):
        rows = read_jsonl(extra, required=FIELDS)
        examples.extend(classify_extra(record, Path(extra), line) for line, record in rows)
        log.info("joined %d hand-written examples from %s", len(rows), extra)
    return examples


def leakage_groups(examples: list[dict]) -> list[list[int]]:
    """Connected components of examples linked by a shared spec, instruction or code input."""
    parent = list(range(len(examples)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_seen: dict[tuple[str, str], int] = {}
    for index, example in enumerate(examples):
        keys = [("spec", spec_key(example["spec"])), ("instruction", example["instruction"].strip())]
        if example["input"].strip():
            keys.append(("input", code_key(example["input"])))
        for key in keys:
            other = first_seen.setdefault(key, index)
            parent[root(index)] = root(other)
    groups = defaultdict(list)
    for index in range(len(examples)):
        groups[root(index)].append(index)
    return sorted(groups.values())


def stratum(example: dict) -> tuple[str, str, str]:
    return example["family"], example["manifold"], example["level"]


def assign(examples: list[dict], groups: list[list[int]], params: Params) -> set[int]:
    """Pick the eval indices: whole groups, greedily filling each stratum to its eval target."""
    totals = Counter(stratum(example) for example in examples)
    target = {key: params.eval_fraction * count for key, count in totals.items()}
    taken: Counter = Counter()
    order = list(groups)
    random.Random(params.seed).shuffle(order)
    eval_indices: set[int] = set()
    for group in order:
        need = sum(target[stratum(examples[i])] - taken[stratum(examples[i])] for i in group)
        if need >= len(group) / 2:  # the group fits the remaining targets better than it overshoots them
            eval_indices.update(group)
            taken.update(stratum(examples[i]) for i in group)
    return eval_indices


def overlaps(train: list[dict], evaluation: list[dict]) -> dict[str, int]:
    """Recount, on the final sides, how many eval examples share a key with the train side."""
    keys = {
        "spec": lambda e: spec_key(e["spec"]),
        "instruction": lambda e: e["instruction"].strip(),
        "input": lambda e: code_key(e["input"]) if e["input"].strip() else None,
    }
    counts = {}
    for name, key in keys.items():
        seen = {key(e) for e in train} - {None}
        counts[name] = sum(1 for e in evaluation if key(e) in seen)
    return counts


def run(params: Params) -> dict:
    examples = load_pool(params)
    duplicates = [id for id, n in Counter(e["id"] for e in examples).items() if n > 1]
    if duplicates:
        raise InputError(pool_path(params), f"duplicate example id {duplicates[0]}")
    groups = leakage_groups(examples)
    eval_indices = assign(examples, groups, params)
    train = [e for i, e in enumerate(examples) if i not in eval_indices]
    evaluation = [e for i, e in enumerate(examples) if i in eval_indices]
    if not train or not evaluation:
        raise InputError(
            pool_path(params), f"{len(examples)} examples in {len(groups)} leakage groups cannot fill both splits"
        )

    found = overlaps(train, evaluation)
    strata = sorted(set(map(stratum, examples)))
    report = {
        "examples": len(examples),
        "groups": len(groups),
        "train": len(train),
        "eval": len(evaluation),
        "eval_fraction": round(len(evaluation) / len(examples), 4),
        "overlaps": {**found, "total": sum(found.values())},
        "strata": {
            "/".join(key): {
                "train": sum(stratum(e) == key for e in train),
                "eval": sum(stratum(e) == key for e in evaluation),
            }
            for key in strata
        },
    }
    write_jsonl(params.train_out, [public(e) for e in train])
    write_jsonl(params.eval_out, [public(e) for e in evaluation])
    for name, side in ((TRAIN_META, train), (EVAL_META, evaluation)):
        write_jsonl(Path(params.meta_dir) / name, [{k: e[k] for k in (*METADATA, "spec")} for e in side])
    write_json(params.report, report)
    log.info(
        "split %d examples (%d groups): %d train, %d eval; overlaps %s",
        len(examples),
        len(groups),
        len(train),
        len(evaluation),
        report["overlaps"],
    )
    return {"train": params.train_out, "eval": params.eval_out, "report": report}
