"""Instructions that ask for a NAVA program: the generator's templates, or a user's words.

A templated instruction names the manifold (with its radius), the start and the goal, every
obstacle with all its parameters, the cost kind with its parameters, and whether the path is
computed and visualised, so the program it asks for is determined up to layout and naming.
Several sentence templates, openers, asker introductions and beginner requests give the variety.
A share of the instructions (``USER_SHARE``) is instead written as users write
(``user_requests``): world objects, costs in words, values left to the language's defaults.
"""

from __future__ import annotations

import random

from nava_instruct.nava.domain import Problem
from nava_instruct.synth import user_requests
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
USER_SHARE = 1 / 3  # instructions in users' words rather than the templates


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


class _Parts:
    """The phrases of one instruction, drawn once so that every template can use them."""

    def __init__(self, rng: random.Random, problem: Problem, level: str, phraser: Phraser):
        self.phraser = phraser
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


# Each template writes one instruction. Its fields are looked up in reading order (``_Fields``), so the
# random choices some of them make are drawn in that order.
TEMPLATES = (
    "{opener} that plans a path on {manifold} from {start} to {goal}, {obstacle_clause}. {cost_sentence} {Outputs}.",
    "On {manifold}, I need to get from {start} to {goal}. {obstacle_sentence} {cost_sentence}"
    " Write it in NAVA and {outputs}.",
    "{request_heading}\n- space: {manifold}\n- start: {start}\n- goal: {goal}\n- obstacles: {obstacle_items}\n"
    "- cost: {cost}\n- then {outputs}",
    "How do I write NAVA for a path from {start} to {goal} on {manifold}, {obstacle_clause}, with {cost}?"
    " I want to {outputs}.",
    "Plan a path from {start} to {goal} {obstacle_clause}, where the space is {manifold} and the cost is {cost}."
    " {Outputs}. {nava_request}",
    "Using NAVA, set up a navigation problem on {manifold}: start at {start}, goal {goal}."
    " {obstacle_sentence} {cost_sentence} Then {outputs}.",
    "{mover} moving on {manifold} starts at {start} and has to reach {goal}. {obstacle_sentence} {cost_sentence}"
    " Give me the NAVA code, and {outputs}.",
    "NAVA: {manifold}, from {start} to {goal}, {obstacle_list}, {cost}; {outputs}.",
    "The goal is {goal} and the start is {start}, both on {manifold}. {obstacle_sentence} {cost_sentence}"
    " {opener} for this and {outputs}.",
)
_REQUEST_HEADINGS = ("Write a NAVA program for this problem:", "NAVA program, please:", "Set this up in NAVA:")
_NAVA_REQUESTS = ("Write the NAVA program.", "Answer with NAVA code.", "Use NAVA.")
_MOVERS = ("A robot", "A point robot", "A drone", "An agent", "A rover")


class _Fields(dict):
    """A template's fields, each made when the template reaches it: ``str.format_map`` looks them up in order."""

    def __init__(self, parts: _Parts, rng: random.Random):
        super().__init__()
        self.parts, self.rng = parts, rng

    def __missing__(self, name: str) -> str:
        parts, rng = self.parts, self.rng
        if name in ("manifold", "start", "goal", "cost", "outputs"):
            return getattr(parts, name)
        makers = {
            "Outputs": lambda: _capital(parts.outputs),
            "obstacle_clause": parts.obstacle_clause,
            "obstacle_sentence": parts.obstacle_sentence,
            "cost_sentence": parts.cost_sentence,
            "obstacle_items": lambda: "; ".join(parts.obstacles) or "none",
            "obstacle_list": lambda: join(parts.obstacles) if parts.obstacles else "no obstacles",
            "opener": lambda: rng.choice(_OPENERS),
            "request_heading": lambda: rng.choice(_REQUEST_HEADINGS),
            "nava_request": lambda: rng.choice(_NAVA_REQUESTS),
            "mover": lambda: rng.choice(_MOVERS),
        }
        return makers[name]()


def instruction(
    rng: random.Random, problem: Problem, level: str, beginner: bool, phraser: Phraser | None = None
) -> str:
    """A prompt_to_code instruction for ``problem`` from an asker at ``level``, its values in the words of
    ``phraser`` (a new one if None), which keeps the words it gave each angle (``Phraser.angle_words``)."""
    phraser = phraser or Phraser(rng)
    if rng.random() < USER_SHARE:
        text = user_requests.request(rng, problem, phraser)
    else:
        text = rng.choice(TEMPLATES).format_map(_Fields(_Parts(rng, problem, level, phraser), rng))
    intro = rng.choice(_INTRO[level]) if beginner or rng.random() < 0.35 else ""
    gap = "\n" if "\n" in text else " "
    if beginner and rng.random() < 0.25:
        intro = f"{intro} {rng.choice(_BEGINNER)}"
    elif beginner:
        text = f"{text}{gap}{rng.choice(_BEGINNER)}"
    elif rng.random() < 0.1:
        text = f"{text}{gap}{rng.choice(_TERSE)}"
    return f"{intro} {text}".strip()
