"""What a request states about the program it wants, and where a candidate program contradicts it.

The checker loop (``lm.checked``) holds every candidate that checks against the request it answers,
so a program that is valid but says something else is resampled like one that fails the checker.
The reader sees only the request (and, for an edit or a follow-up, the program it is about): never
a reference. It reads four things, deterministically:

- the numbers stated, with every angle in degrees or pi taken at its value in radians
  (``quantities``); a number of the program that is neither stated, nor 0 or 1 (the language's
  defaults), nor one step of arithmetic from stated ones (a sum, a difference, a half: a corner from
  a centre and a size) contradicts the request;
- "no obstacles" (or obstacle-free, without obstacles): a program with an obstacle contradicts it;
- comments asked for: a program without a ``//`` comment contradicts it;
- the manifold named by its symbol (R2, ℝ³, S^1, SE(2), ...; words such as "circle" or "sphere" also
  name obstacles, so they are not read): a program on another manifold contradicts it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from itertools import permutations

from nava_instruct import nava
from nava_instruct.nava.scoring import extract_code, spec_numbers
from nava_instruct.nava.spec import TOLERANCE
from nava_instruct.reading.quantities import stated_numbers

DEFAULTS = (0.0, 1.0)  # radius and weights default to 1.0; an unstated heading or coordinate is 0
NO_OBSTACLES = re.compile(
    r"\b(?:no|zero|without(?: any)?)\s+obstacles?\b|\bobstacle[- ]free\b|\bnothing in the way\b",
    re.IGNORECASE,
)
COMMENTS = re.compile(
    r"\bcomment(?:s|ed|ing)?\b|\bexplain (?:each|every|the) (?:step|line)s?\b|\bannotate[ds]?\b", re.IGNORECASE
)
MANIFOLDS = {
    "R2": re.compile(r"(?<![\w^])(?:R\^?2|ℝ\^?2|ℝ²)(?![\w^])|\beuclidean plane\b", re.IGNORECASE),
    "R3": re.compile(r"(?<![\w^])(?:R\^?3|ℝ\^?3|ℝ³)(?![\w^])"),
    "S1": re.compile(r"(?<![\w^])(?:S\^?1|S¹)(?![\w^])"),
    "S2": re.compile(r"(?<![\w^])(?:S\^?2|S²)(?![\w^])"),
    "SE2": re.compile(r"\bSE\s*\(\s*2\s*\)|\bSE2\b", re.IGNORECASE),
    "SE3": re.compile(r"\bSE\s*\(\s*3\s*\)|\bSE3\b", re.IGNORECASE),
}


@dataclass(frozen=True)
class Claims:
    """What a request states; ``manifold`` is None unless exactly one is named."""

    numbers: tuple[float, ...]
    no_obstacles: bool
    comments: bool
    manifold: str | None


def read(request: str, context: str = "") -> Claims:
    """The claims of ``request``; the numbers of ``context`` (the program an edit or a follow-up is
    about, earlier turns) count as stated too."""
    named = [kind for kind, pattern in MANIFOLDS.items() if pattern.search(request)]
    return Claims(
        numbers=tuple(stated_numbers(request) + stated_numbers(context)),
        no_obstacles=bool(NO_OBSTACLES.search(request)),
        comments=bool(COMMENTS.search(request)),
        manifold=named[0] if len(named) == 1 else None,
    )


def derivable(numbers: tuple[float, ...]) -> list[float]:
    """The stated numbers, the defaults, and one step of arithmetic on them: sums, differences, halves."""
    stated = set(numbers) | set(DEFAULTS)
    found = set(stated) | {half for value in stated for half in (value / 2, -value / 2)}
    for first, second in permutations(sorted(value for value in stated if value != 0.0), 2):
        found |= {first + second, first - second, first + second / 2, first - second / 2}
    return sorted(found)


def contradictions(claims: Claims, answer: str) -> list[str]:
    """One line per way the program of ``answer`` (which checks) contradicts ``claims``; empty if none."""
    code = extract_code(answer)
    problems = nava.extract_spec(code)["problems"]
    found: list[str] = []
    if claims.comments and "//" not in code:
        found.append("the request asks for comments, and the program has none")
    allowed = derivable(claims.numbers)
    for problem in problems:
        if claims.no_obstacles and problem["obstacles"]:
            found.append(f"the request says no obstacles, and the program has {len(problem['obstacles'])}")
        if claims.manifold and problem["manifold"]["kind"] != claims.manifold:
            found.append(f"the request names {claims.manifold}, and the program is on {problem['manifold']['kind']}")
        unstated = [value for value in spec_numbers(problem) if not _near(value, allowed)]
        found += [f"the program has {value!r}, a number the request does not state" for value in unstated[:1]]
    return found


def _near(value: float, sorted_values: list[float]) -> bool:
    index = bisect_left(sorted_values, value - TOLERANCE)
    return index < len(sorted_values) and sorted_values[index] <= value + TOLERANCE
