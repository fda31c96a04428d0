"""Drills: prompt_to_code examples aimed at the mistakes a fine-tuned model makes most.

Four kinds, dealt round-robin over a share of the prompt_to_code examples (``plan``):

- ``angles``: a problem on S^1, SE(2) or SE(3) whose prompt states every angle in degrees or as
  pi-fractions. The start's angle (S^1) or heading/yaw runs through all 24 multiples of pi/12,
  first in degrees, then as pi-fractions, and so on, so each multiple occurs in both wordings
  once a size has 48 angle drills. The program writes radians, as every program does.
- ``three_obstacles``: a problem with exactly three obstacles, all stated in the prompt.
- ``poses``: SE(2) and SE(3) problems in turn, with one to three obstacles.
- ``beginner``: a beginner's request, answered by a program with beginner comments.

A drill is otherwise a normal example: the same phrasings, rendering and verification.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

KINDS = ("angles", "three_obstacles", "poses", "beginner")
ANGLE_MANIFOLDS = ("S1", "SE2", "SE3")
WORDINGS = (("degrees", "deg"), ("pi", "π"))  # the angle styles of synth.phrasing.Phraser, in cycle order
STEPS = 24  # multiples of pi/12 in a full turn


@dataclass(frozen=True)
class Drill:
    kind: str
    index: int  # the how-manieth drill of its kind: drives the angle and SE(2)/SE(3) cycles


def plan(n_prompts: int, share: float) -> list[Drill]:
    """The drills among ``n_prompts`` prompt_to_code examples: ``share`` of them, kinds round-robin."""
    count = round(n_prompts * share)
    return [Drill(KINDS[i % len(KINDS)], i // len(KINDS)) for i in range(count)]


def signed(step: int, manifold: str) -> int:
    """A multiple of pi/12 (0..23) in the range the generator draws on ``manifold``."""
    return step - STEPS if manifold != "S1" and step > STEPS // 2 else step


def problem_args(rng: random.Random, drill: Drill) -> dict:
    """Constraints on the drill's problem: ``manifold``, ``n_obstacles`` and ``start_heading`` (or unset)."""
    if drill.kind == "angles":
        manifold = rng.choice(ANGLE_MANIFOLDS)
        return {"manifold": manifold, "start_heading": signed(drill.index % STEPS, manifold)}
    if drill.kind == "three_obstacles":
        return {"n_obstacles": 3}
    if drill.kind == "poses":
        return {"manifold": ("SE2", "SE3")[drill.index % 2], "n_obstacles": rng.randint(1, 3)}
    return {}


def angle_styles(drill: Drill | None) -> tuple[str, ...] | None:
    """The wording of an angle drill's angles (degrees, then pi-fractions, one cycle each); else free."""
    if drill is None or drill.kind != "angles":
        return None
    return WORDINGS[(drill.index // STEPS) % len(WORDINGS)]
