"""Instructions that ask for a NAVA program and state every value of its spec.

Each instruction names the manifold (with its radius), the start and the goal, every obstacle
with all its parameters, the cost kind with its parameters, and whether the path is computed and
visualised, so the program it asks for is determined up to layout and naming. Several sentence
templates, openers, asker introductions and beginner requests give the variety.
"""

from __future__ import annotations

import random

from nava_instruct.nava.domain import Problem
from nava_instruct.synth.phrasing import Phraser, join

_INTRO = {
    "gcse": (
        "I'm a GCSE student and new to NAVA.",
        "I'm doing GCSE maths.",
        "I'm 15 and learning about robots.",
        "GCSE student here!",
    ),
    "a_level": (
        "I'm an A-level student.",
        "For my A-level maths project:",
        "I'm studying A-level further maths.",
        "A-level student here.",
    ),
    "undergrad": (
        "For an undergraduate robotics assignment:",
        "I'm an undergrad taking a motion planning course.",
        "For my robotics coursework:",
        "Second-year CS student here.",
    ),
    "phd": (
        "For my PhD research on motion planning:",
        "Research context: benchmarking planners.",
        "I'm a PhD student working on optimal control.",
        "For a paper experiment:",
    ),
}
_BEGINNER = (
    "Add helpful comments explaining each line.",
    "Please comment the code well so a beginner can follow it.",
    "Explain each step with // comments.",
    "Keep it beginner-friendly, with a comment on every step.",
    "Use comments to explain what each part does.",
    "I'm a beginner, so please include lots of comments.",
)
_TERSE = ("Just the code, please.", "No comments needed.", "Only the program, no explanation.")
_OPENERS = (
    "Write NAVA code",
    "Write a NAVA program",
    "Create NAVA code",
    "Give me a NAVA program",
    "Produce NAVA source",
    "Generate NAVA code",
)
_COUNTS = ("no", "one", "two", "three")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


class _Parts:
    """The phrases of one instruction, drawn once so that every template can use them."""

    def __init__(self, rng: random.Random, problem: Problem, level: str):
        phraser = self.phraser = Phraser(rng)
        self.manifold = phraser.manifold(problem.manifold, problem.radius, level)
        self.start = phraser.point(problem.manifold, problem.start)
        self.goal = phraser.point(problem.manifold, problem.goal)
        self.obstacles = [phraser.obstacle(obstacle) for obstacle in problem.obstacles]
        self.cost = phraser.cost(problem.cost)
        self.outputs = phraser.outputs(problem.computed, problem.visualized)

    def obstacle_clause(self) -> str:
        if not self.obstacles:
            return self.phraser.pick(
                (
                    "with no obstacles",
                    "in free space (no obstacles)",
                    "with an empty obstacle list",
                    "without any obstacles",
                )
            )
        count = _COUNTS[len(self.obstacles)]
        return self.phraser.pick(
            (
                f"avoiding {join(self.obstacles)}",
                f"around {join(self.obstacles)}",
                f"with {count} obstacle{'s' * (count != 'one')}: {join(self.obstacles)}",
            )
        )

    def obstacle_sentence(self) -> str:
        if not self.obstacles:
            return self.phraser.pick(
                (
                    "There are no obstacles.",
                    "The space is free of obstacles.",
                    "No obstacles.",
                    "Leave the obstacle list empty.",
                )
            )
        listing = join(self.obstacles)
        plural = f"The obstacles are {listing}." if len(self.obstacles) > 1 else f"The only obstacle is {listing}."
        return self.phraser.pick(
            (f"Avoid {listing}.", f"Obstacles: {listing}.", plural, f"It has to steer clear of {listing}.")
        )

    def cost_sentence(self) -> str:
        return self.phraser.pick(
            (
                f"Use {self.cost}.",
                f"The cost should be {self.cost}.",
                f"Optimise with {self.cost}.",
                f"For the cost, use {self.cost}.",
                f"Take {self.cost} as the cost.",
            )
        )


# Each template writes one instruction; the f-strings call the random choices in reading order.


def _sentence(parts: _Parts, rng: random.Random) -> str:
    return (
        f"{rng.choice(_OPENERS)} that plans a path on {parts.manifold} from {parts.start} to {parts.goal}, "
        f"{parts.obstacle_clause()}. {parts.cost_sentence()} {_capital(parts.outputs)}."
    )


def _need(parts: _Parts, rng: random.Random) -> str:
    return (
        f"On {parts.manifold}, I need to get from {parts.start} to {parts.goal}. {parts.obstacle_sentence()} "
        f"{parts.cost_sentence()} Write it in NAVA and {parts.outputs}."
    )


def _bullets(parts: _Parts, rng: random.Random) -> str:
    obstacles = "none" if not parts.obstacles else "; ".join(parts.obstacles)
    head = rng.choice(("Write a NAVA program for this problem:", "NAVA program, please:", "Set this up in NAVA:"))
    return (
        f"{head}\n- space: {parts.manifold}\n- start: {parts.start}\n- goal: {parts.goal}\n"
        f"- obstacles: {obstacles}\n- cost: {parts.cost}\n- then {parts.outputs}"
    )


def _question(parts: _Parts, rng: random.Random) -> str:
    return (
        f"How do I write NAVA for a path from {parts.start} to {parts.goal} on {parts.manifold}, "
        f"{parts.obstacle_clause()}, with {parts.cost}? I want to {parts.outputs}."
    )


def _plan(parts: _Parts, rng: random.Random) -> str:
    return (
        f"Plan a path from {parts.start} to {parts.goal} {parts.obstacle_clause()}, where the space is "
        f"{parts.manifold} and the cost is {parts.cost}. {_capital(parts.outputs)}. "
        f"{rng.choice(('Write the NAVA program.', 'Answer with NAVA code.', 'Use NAVA.'))}"
    )


def _setup(parts: _Parts, rng: random.Random) -> str:
    return (
        f"Using NAVA, set up a navigation problem on {parts.manifold}: start at {parts.start}, goal {parts.goal}. "
        f"{parts.obstacle_sentence()} {parts.cost_sentence()} Then {parts.outputs}."
    )


def _robot(parts: _Parts, rng: random.Random) -> str:
    mover = rng.choice(("A robot", "A point robot", "A drone", "An agent", "A rover"))
    return (
        f"{mover} moving on {parts.manifold} starts at {parts.start} and has to reach {parts.goal}. "
        f"{parts.obstacle_sentence()} {parts.cost_sentence()} Give me the NAVA code, and {parts.outputs}."
    )


def _compact(parts: _Parts, rng: random.Random) -> str:
    obstacles = "no obstacles" if not parts.obstacles else join(parts.obstacles)
    return f"NAVA: {parts.manifold}, from {parts.start} to {parts.goal}, {obstacles}, {parts.cost}; {parts.outputs}."


def _goal_first(parts: _Parts, rng: random.Random) -> str:
    return (
        f"The goal is {parts.goal} and the start is {parts.start}, both on {parts.manifold}. "
        f"{parts.obstacle_sentence()} {parts.cost_sentence()} {rng.choice(_OPENERS)} for this and {parts.outputs}."
    )


TEMPLATES = (_sentence, _need, _bullets, _question, _plan, _setup, _robot, _compact, _goal_first)


def instruction(rng: random.Random, problem: Problem, level: str, beginner: bool) -> str:
    """A prompt_to_code instruction for ``problem`` from an asker at ``level``."""
    parts = _Parts(rng, problem, level)
    text = rng.choice(TEMPLATES)(parts, rng)
    intro = rng.choice(_INTRO[level]) if beginner or rng.random() < 0.35 else ""
    gap = "\n" if "\n" in text else " "
    if beginner and rng.random() < 0.25:
        intro = f"{intro} {rng.choice(_BEGINNER)}"
    elif beginner:
        text = f"{text}{gap}{rng.choice(_BEGINNER)}"
    elif rng.random() < 0.1:
        text = f"{text}{gap}{rng.choice(_TERSE)}"
    return f"{intro} {text}".strip()
