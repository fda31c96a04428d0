"""Instructions that ask for a NAVA program and state every value of its spec.

Each instruction names the manifold (with its radius), the start and the goal, every obstacle
with all its parameters, the cost kind with its parameters, and whether the path is computed and
visualised, so the program it asks for is determined up to layout and naming. Several sentence
templates, openers, asker introductions and beginner requests give the variety.
"""

from __future__ import annotations

import random

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

    def __init__(self, rng: random.Random, problem: dict, level: str):
        ph = self.ph = Phraser(rng)
        kind = problem["manifold"]["kind"]
        self.manifold = ph.manifold(problem["manifold"], level)
        self.start, self.goal = ph.point(kind, problem["start"]), ph.point(kind, problem["goal"])
        self.obstacles = [ph.obstacle(o, kind) for o in problem["obstacles"]]
        self.cost = ph.cost(problem["cost"])
        self.outputs = ph.outputs(problem["computed"], problem["visualized"])

    def obstacle_clause(self) -> str:
        if not self.obstacles:
            return self.ph.pick(
                (
                    "with no obstacles",
                    "in free space (no obstacles)",
                    "with an empty obstacle list",
                    "without any obstacles",
                )
            )
        n = _COUNTS[len(self.obstacles)]
        return self.ph.pick(
            (
                f"avoiding {join(self.obstacles)}",
                f"around {join(self.obstacles)}",
                f"with {n} obstacle{'s' * (n != 'one')}: {join(self.obstacles)}",
            )
        )

    def obstacle_sentence(self) -> str:
        if not self.obstacles:
            return self.ph.pick(
                (
                    "There are no obstacles.",
                    "The space is free of obstacles.",
                    "No obstacles.",
                    "Leave the obstacle list empty.",
                )
            )
        listing = join(self.obstacles)
        plural = f"The obstacles are {listing}." if len(self.obstacles) > 1 else f"The only obstacle is {listing}."
        return self.ph.pick(
            (f"Avoid {listing}.", f"Obstacles: {listing}.", plural, f"It has to steer clear of {listing}.")
        )

    def cost_sentence(self) -> str:
        return self.ph.pick(
            (
                f"Use {self.cost}.",
                f"The cost should be {self.cost}.",
                f"Optimise with {self.cost}.",
                f"For the cost, use {self.cost}.",
                f"Take {self.cost} as the cost.",
            )
        )


def _sentence(p: _Parts, rng: random.Random) -> str:
    return f"{rng.choice(_OPENERS)} that plans a path on {p.manifold} from {p.start} to {p.goal}, {p.obstacle_clause()}. {p.cost_sentence()} {_capital(p.outputs)}."


def _need(p: _Parts, rng: random.Random) -> str:
    return f"On {p.manifold}, I need to get from {p.start} to {p.goal}. {p.obstacle_sentence()} {p.cost_sentence()} Write it in NAVA and {p.outputs}."


def _bullets(p: _Parts, rng: random.Random) -> str:
    obstacles = "none" if not p.obstacles else "; ".join(p.obstacles)
    head = rng.choice(("Write a NAVA program for this problem:", "NAVA program, please:", "Set this up in NAVA:"))
    return f"{head}\n- space: {p.manifold}\n- start: {p.start}\n- goal: {p.goal}\n- obstacles: {obstacles}\n- cost: {p.cost}\n- then {p.outputs}"


def _question(p: _Parts, rng: random.Random) -> str:
    return f"How do I write NAVA for a path from {p.start} to {p.goal} on {p.manifold}, {p.obstacle_clause()}, with {p.cost}? I want to {p.outputs}."


def _plan(p: _Parts, rng: random.Random) -> str:
    return f"Plan a path from {p.start} to {p.goal} {p.obstacle_clause()}, where the space is {p.manifold} and the cost is {p.cost}. {_capital(p.outputs)}. {rng.choice(('Write the NAVA program.', 'Answer with NAVA code.', 'Use NAVA.'))}"


def _setup(p: _Parts, rng: random.Random) -> str:
    return f"Using NAVA, set up a navigation problem on {p.manifold}: start at {p.start}, goal {p.goal}. {p.obstacle_sentence()} {p.cost_sentence()} Then {p.outputs}."


def _robot(p: _Parts, rng: random.Random) -> str:
    mover = rng.choice(("A robot", "A point robot", "A drone", "An agent", "A rover"))
    return f"{mover} moving on {p.manifold} starts at {p.start} and has to reach {p.goal}. {p.obstacle_sentence()} {p.cost_sentence()} Give me the NAVA code, and {p.outputs}."


def _compact(p: _Parts, rng: random.Random) -> str:
    obstacles = "no obstacles" if not p.obstacles else join(p.obstacles)
    return f"NAVA: {p.manifold}, from {p.start} to {p.goal}, {obstacles}, {p.cost}; {p.outputs}."


def _goal_first(p: _Parts, rng: random.Random) -> str:
    return f"The goal is {p.goal} and the start is {p.start}, both on {p.manifold}. {p.obstacle_sentence()} {p.cost_sentence()} {rng.choice(_OPENERS)} for this and {p.outputs}."


TEMPLATES = (_sentence, _need, _bullets, _question, _plan, _setup, _robot, _compact, _goal_first)


def instruction(rng: random.Random, problem: dict, level: str, beginner: bool) -> str:
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
