"""Drills: prompt_to_code examples aimed at the mistakes a fine-tuned model makes most.

Three kinds, dealt round-robin over a share of the prompt_to_code examples (``plan``):

- ``three_obstacles``: a problem with exactly three obstacles, all stated in the prompt.
- ``poses``: SE(2) and SE(3) problems in turn, with one to three obstacles.
- ``beginner``: a beginner's request, answered by a program with beginner comments.

A drill is otherwise a normal example: the same phrasings, rendering and verification.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

KINDS = ("three_obstacles", "poses", "beginner")


@dataclass(frozen=True)
class Drill:
    kind: str
    index: int  # the how-manieth drill of its kind: drives the SE(2)/SE(3) cycle


def plan(n_prompts: int, share: float) -> list[Drill]:
    """The drills among ``n_prompts`` prompt_to_code examples: ``share`` of them, kinds round-robin."""
    count = round(n_prompts * share)
    return [Drill(KINDS[i % len(KINDS)], i // len(KINDS)) for i in range(count)]


def problem_args(rng: random.Random, drill: Drill) -> dict:
    """Constraints on the drill's problem: ``manifold`` and ``n_obstacles`` (or unset)."""
    if drill.kind == "three_obstacles":
        return {"n_obstacles": 3}
    if drill.kind == "poses":
        return {"manifold": ("SE2", "SE3")[drill.index % 2], "n_obstacles": rng.randint(1, 3)}
    return {}
