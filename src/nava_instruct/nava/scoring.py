"""Scoring a model's answer with the NAVA toolkit: is the code valid and right, is the explanation true.

Code answers are graded in three steps, each implying the one before: it parses, it checks with
no error, and its spec is equivalent to the reference program's (what the instruction asked for).
Explanations are graded by fact recall: the share of the program's facts (every number of its
spec, its manifold, how many obstacles, the kind of cost) that the answer states, and whether it
contains code where an explanation was asked for.
"""

from __future__ import annotations

import re

from nava_instruct import nava
from nava_instruct.nava.diagnostics import errors
from nava_instruct.nava.domain import OBSTACLES, WEIGHT_NAMES
from nava_instruct.nava.syntax import parse
from nava_instruct.reading.quantities import stated_numbers

FENCE = re.compile(r"```[a-zA-Z]*\n(.*?)(?:```|$)", re.DOTALL)
NUMBER_TOLERANCE = 0.01  # explanations round angles (1.5708 for 1.5707963)

MANIFOLD_WORDS = {
    "R2": ("r^2", "r2", "ℝ²", "plane", "2d", "two-dimensional"),
    "R3": ("r^3", "r3", "ℝ³", "3d", "three-dimensional", "euclidean space"),
    "S1": ("s^1", "s1", "circle"),
    "S2": ("s^2", "s2", "sphere"),
    "SE2": ("se(2)", "se2"),
    "SE3": ("se(3)", "se3"),
}
COST_WORDS = {
    "geodesic": ("geodesic", "shortest"),
    "weighted": ("weight",),
    "time_optimal": ("time", "fast", "quick", "speed"),
    "energy_optimal": ("energy", "effort"),
}
COUNT_WORDS = ("no", "one", "two", "three", "four")
OBSTACLE_WORDS = ("obstacle", "circle", *OBSTACLES, *(obstacle.builtin for obstacle in OBSTACLES.values()))
OBSTACLE_NOUN = "(?:" + "|".join(dict.fromkeys(OBSTACLE_WORDS)) + ")"
NO_OBSTACLE = re.compile(
    r"\b(?:no|zero|without)\b[^.\n]{0,30}obstacle|obstacle-free|unconstrained|nothing (?:to|blocks|in)"
    r"|(?:list|set) is empty|free space is the whole|feasible set is all"
)
CODE_LINE = re.compile(r"^\s*(let\s+\w+\s*=|navigation_field\(|compute_optimal_path\(|visualize\()|```", re.MULTILINE)


def extract_code(answer: str) -> str:
    """The program in an answer: the first fenced block if there is one, else the whole text."""
    fenced = FENCE.search(answer)
    return fenced.group(1) if fenced else answer


def parses(code: str) -> bool:
    """Whether ``code`` is a syntactically valid NAVA program."""
    try:
        parse(code)
    except nava.NavaError:
        return False
    return True


def score_code(answer: str, reference_spec: dict) -> dict[str, bool]:
    code = extract_code(answer)
    if not parses(code):
        return {"parsed": False, "checked": False, "spec_match": False}
    if errors(nava.check(code)):
        return {"parsed": True, "checked": False, "spec_match": False}
    problems = nava.extract_spec(code)["problems"]
    match = len(problems) == 1 and nava.spec_difference(problems[0], reference_spec) is None
    return {"parsed": True, "checked": True, "spec_match": match}


def spec_numbers(spec: dict) -> list[float]:
    """Every number that defines the problem, in a stable order; a weight left at 0 is not stated."""
    found: list[float] = []

    def walk(value):
        if isinstance(value, bool) or value is None:
            return
        if isinstance(value, (int, float)):
            found.append(float(value))
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for key in sorted(value):
                walk(value[key])

    cost = {key: value for key, value in spec["cost"].items() if not (key in WEIGHT_NAMES and value == 0.0)}
    walk(
        {
            "manifold": spec["manifold"],
            "start": spec["start"],
            "goal": spec["goal"],
            "obstacles": spec["obstacles"],
            "cost": cost,
        }
    )
    return found


def _states_count(text: str, count: int) -> bool:
    """The answer says how many obstacles there are ("two obstacles", "no obstacles")."""
    if count == 0:
        return NO_OBSTACLE.search(text) is not None
    words = "|".join((str(count), COUNT_WORDS[count]) if count < len(COUNT_WORDS) else (str(count),))
    return re.search(r"\b(?:" + words + r")\s+(?:[a-z-]+\s+){0,2}" + OBSTACLE_NOUN, text) is not None


def score_explanation(answer: str, spec: dict) -> dict[str, float | bool]:
    text = answer.lower()
    stated = stated_numbers(text) + ([0.0] if "origin" in text else [])
    numbers = spec_numbers(spec)
    numbers_found = sum(any(abs(number - said) <= NUMBER_TOLERANCE for said in stated) for number in numbers)
    facts = {
        "manifold": any(word in text for word in MANIFOLD_WORDS[spec["manifold"]["kind"]]),
        "obstacle_count": _states_count(text, len(spec["obstacles"])),
        "cost_kind": any(word in text for word in COST_WORDS[spec["cost"]["kind"]]),
    }
    recalled = numbers_found + sum(facts.values())
    return {
        "fact_recall": recalled / (len(numbers) + len(facts)),
        "facts": len(numbers) + len(facts),
        "facts_recalled": recalled,
        "number_recall": numbers_found / len(numbers) if numbers else 1.0,
        **facts,
        "contains_code": CODE_LINE.search(answer) is not None,
    }
