"""Stage ``evaluate``'s metrics of one backend, from its graded samples: rates with Wilson 95% intervals.

Code answers are counted by parse, check and spec-match rates of the answers kept, and by check and
spec-match rates of the first (greedy) answers, before the checker loop, and of the answers the loop
keeps without meaning checks; explanations by fact recall.
The generated prompts are broken down by family, and prompt→code by manifold and level; each
held-out set has its own row. ``failures`` counts the failing prompt→code answers of each set by
category (``evaluation.failures``), with the share of the reference's coordinates and angles the
answers got right.
"""

from __future__ import annotations

import math
from collections import Counter
from statistics import mean

from nava_instruct.evaluation import failures

GENERATED = "generated"  # the set of the sampled eval split; held-out sets are named after their files
CODE_RATES = {"parsed": "parse_rate", "checked": "check_rate", "spec_match": "spec_match"}
FIRST_RATES = {"first_checked": "first_check_rate", "first_spec_match": "first_spec_match"}  # greedy, before the loop
CHECKER_RATES = {  # the answers a loop without meaning checks keeps
    "checker_checked": "checker_check_rate",
    "checker_spec_match": "checker_spec_match",
}
WILSON_Z = 1.96  # 95%


def wilson(successes: float, n: int) -> list[float]:
    """The Wilson score interval of a proportion, 95%."""
    p, z2 = successes / n, WILSON_Z**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = WILSON_Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return [round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)]


def proportion(name: str, successes: float, n: int) -> dict:
    """``{name: rate, name_ci: [low, high]}``."""
    return {name: round(successes / n, 4), f"{name}_ci": wilson(successes, n)}


def code_rates(samples: list[dict]) -> dict:
    """Parse, check and spec-match rates of the answers kept, the check and spec-match rates of the first
    (greedy) answers, each with its Wilson interval, and the checker loop's mean attempts."""
    if not samples:
        return {"n": 0}
    figures = {"n": len(samples)}
    for key, name in CODE_RATES.items():
        figures |= proportion(name, sum(s["verdict"][key] for s in samples), len(samples))
    for key, name in (FIRST_RATES | CHECKER_RATES).items():
        figures |= proportion(name, sum(s[key] for s in samples), len(samples))
    figures["mean_attempts"] = round(mean(s["attempts"] for s in samples), 4)
    return figures


def explanation_rates(samples: list[dict]) -> dict:
    """Fact recall over all facts asked (so its interval counts facts, which within one answer are not
    independent: the interval is narrower than it should be) and the share of answers that hold code."""
    if not samples:
        return {"n": 0}
    facts = sum(s["verdict"]["facts"] for s in samples)
    recalled = sum(s["verdict"]["facts_recalled"] for s in samples)
    contains_code = sum(s["verdict"]["contains_code"] for s in samples)
    return {
        "n": len(samples),
        **proportion("fact_recall", recalled, facts),
        **proportion("contains_code_rate", contains_code, len(samples)),
    }


def failure_summary(samples: list[dict]) -> dict:
    """Prompt→code samples by failure category (``failures.CATEGORIES``, an answer in each of its own), and
    the rates of the reference's coordinates and non-zero angles the answers got right. Those rates count
    values, which within one answer are not independent: their intervals are narrower than they should be."""
    if not samples:
        return {"n": 0}
    diagnoses = [failures.diagnose(sample) for sample in samples]
    counts = Counter(category for diagnosis in diagnoses for category in diagnosis.categories)
    figures = {
        "n": len(samples),
        "failing": sum(bool(diagnosis.categories) for diagnosis in diagnoses),
        "categories": {category: counts[category] for category in failures.CATEGORIES},
    }
    for name, values in (("coordinates", "coordinate_values"), ("angles", "angle_values")):
        right = sum(getattr(diagnosis, name)[0] for diagnosis in diagnoses)
        total = sum(getattr(diagnosis, name)[1] for diagnosis in diagnoses)
        figures |= {values: total, f"{values}_right": right}
        figures |= proportion(f"{name}_right", right, total) if total else {}
    return figures


def failures_by_set(samples: list[dict]) -> dict:
    """``failure_summary`` of the prompt→code samples of each set, the generated one first."""
    code = [s for s in samples if s["family"] == "prompt_to_code"]
    sets = sorted({s["set"] for s in code}, key=lambda name: (name != GENERATED, name))
    return {name: failure_summary([s for s in code if s["set"] == name]) for name in sets}


def summarize(samples: list[dict], seconds: float) -> dict:
    """Metrics of one backend: code rates by family (and by manifold and level for prompt→code) on the
    generated prompts, one row per held-out set, and the failures of prompt→code answers by set."""
    generated = [s for s in samples if s["set"] == GENERATED]

    def of(family: str) -> list[dict]:
        return [s for s in generated if s["family"] == family]

    code = of("prompt_to_code")

    def breakdown(key: str) -> dict:
        return {value: code_rates([s for s in code if s[key] == value]) for value in sorted({s[key] for s in code})}

    held_out = sorted({s["set"] for s in samples} - {GENERATED})
    tokens = sum(s["tokens"] for s in samples)
    return {
        "code": code_rates(code),
        "code_by_manifold": breakdown("manifold"),
        "code_by_level": breakdown("level"),
        "fix": code_rates(of("fix")),
        "edit": code_rates(of("edit")),
        "follow_up": code_rates(of("follow_up")),
        "explanation": explanation_rates(of("code_to_explanation")),
        "held_out": {name: code_rates([s for s in samples if s["set"] == name]) for name in held_out},
        "failures": failures_by_set(samples),
        "stopped_at_eos": round(mean(s["stopped_at_eos"] for s in samples), 4),
        "completion_tokens": tokens,
        "seconds": round(seconds, 1),
        "tokens_per_s": round(tokens / seconds, 2) if seconds else 0.0,
    }
