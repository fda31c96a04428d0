"""Requests for a NAVA program in users' words, beside the templates of ``prompts``.

A user names obstacles by what they are in the world (a pillar, a lake, a building: the manifold
and the values given decide the kind), says what the cost should do rather than naming it, writes
tersely (``plane, (0,0)->(3,4), avoid disc r=1 at (1,2)``), casually or chattily, and often
leaves values to the language's defaults: no cost means the geodesic cost, no obstacles an empty
list, a circle or sphere without a radius has radius 1.0, an energy-optimal cost without a weight
has energy weight 1.0. A request that says nothing about the path still gets the program that
computes and visualises it (docs/dataset.md). Every value that is stated is exact, in the
:class:`Phraser`'s numbers and angles (whole degrees, pi-fractions or radians: ``synth.angles``).
"""

from __future__ import annotations

import random

from nava_instruct.nava.domain import WEIGHT_NAMES, Problem
from nava_instruct.synth import user_banks as banks
from nava_instruct.synth.phrasing import Phraser, join

DEFAULT_SHARE = 0.5  # how often a value equal to its default is left unsaid
_COST_FIELDS = {"velocity": "max_velocity", "acceleration": "max_acceleration", "weight": "energy_weight"}  # banks'


def obstacle_in_words(phraser: Phraser, obstacle: dict, terse: bool = False) -> str:
    """The obstacle as a world object (or, tersely, maybe by its kind), with every parameter."""
    kind = obstacle["kind"]
    word = phraser.pick(banks.WORLD_OBJECTS[kind] + (banks.KIND_NAMES[kind] if terse else ()))
    if kind in ("arc", "cap"):
        shape = kind
    else:
        shape = "round" if "radius" in obstacle else "box"
    if shape == "arc":
        values = {"start": phraser.angle(obstacle["from"]), "end": phraser.angle(obstacle["to"])}
    elif shape == "cap":
        values = {"center": phraser.coords(obstacle["center"]), "angle": phraser.angle(obstacle["angle"])}
    elif shape == "round":
        values = {"center": phraser.coords(obstacle["center"]), "radius": phraser.number(obstacle["radius"])}
    else:
        values = {"low": phraser.coords(obstacle["min_corner"]), "high": phraser.coords(obstacle["max_corner"])}
    template = phraser.pick((banks.TERSE_OBSTACLES if terse else banks.OBSTACLES)[shape])
    return template.format(word=word, article=phraser.article(word), centred=phraser.centred(), **values)


class _User:
    """The words of one user's request, drawn from the banks with one :class:`Phraser`."""

    def __init__(self, rng: random.Random, problem: Problem, terse: bool, phraser: Phraser):
        self.rng, self.problem, self.terse, self.phraser = rng, problem, terse, phraser

    def pick(self, options):
        return self.rng.choice(options)

    def leaves_default(self, value, default) -> bool:
        return value == default and self.rng.random() < DEFAULT_SHARE

    def setting(self) -> str:
        problem = self.problem
        if self.leaves_default(problem.radius, 1.0):
            bank = banks.TERSE_DEFAULT_RADIUS_SETTINGS if self.terse else banks.DEFAULT_RADIUS_SETTINGS
        else:
            bank = banks.TERSE_SETTINGS if self.terse else banks.SETTINGS
        radius = self.phraser.number(problem.radius) if problem.radius is not None else ""
        return self.pick(bank[problem.manifold]).format(radius=radius)

    def endpoint(self, which: str) -> str:
        return self.phraser.point(self.problem.manifold, getattr(self.problem, which))

    def obstacles(self) -> list[str]:
        return [obstacle_in_words(self.phraser, obstacle, self.terse) for obstacle in self.problem.obstacles]

    def weights(self) -> str:
        cost, phraser = self.problem.cost, self.phraser
        terms = [
            f"{self.pick(banks.WEIGHT_TERMS[name])}{'=' if self.terse else ' '}{phraser.number(cost[name])}"
            for name in WEIGHT_NAMES
            if cost[name]
        ]
        return join(terms)

    def cost(self) -> str | None:
        """What the cost should do, in words; None where a geodesic cost is left to the default."""
        cost, number = self.problem.cost, self.phraser.number
        kind = cost["kind"]
        if self.leaves_default(kind, "geodesic"):
            return None
        text = self.pick((banks.TERSE_COSTS if self.terse else banks.COSTS)[kind])
        if kind == "time_optimal" and cost["max_acceleration"] is not None:
            text += self.pick(banks.TERSE_ACCELERATIONS if self.terse else banks.ACCELERATIONS)
        if kind == "energy_optimal" and not self.leaves_default(cost["energy_weight"], 1.0):
            text += self.pick(banks.TERSE_ENERGY_WEIGHTS if self.terse else banks.ENERGY_WEIGHTS)
        values = {"weights": self.weights()} if kind == "weighted" else {}
        for field, name in _COST_FIELDS.items():
            if cost.get(name) is not None:
                values[field] = number(cost[name])
        text = text.format(**values)
        return text.replace("penalise", "penalise" if self.phraser.british else "penalize")

    def outputs(self) -> str | None:
        """What to do with the path; None where the request leaves it to the convention (compute and plot)."""
        problem = self.problem
        if not (problem.computed and problem.visualized):
            return self.phraser.outputs(problem.computed, problem.visualized)
        if self.rng.random() < 0.5:
            return None
        return self.pick(banks.TERSE_PLOTS if self.terse else banks.PLOTS)


def _terse(user: _User) -> str:
    route = user.pick(("{}->{}", "{} -> {}", "{} to {}")).format(user.endpoint("start"), user.endpoint("goal"))
    parts = [user.setting(), route]
    obstacles = user.obstacles()
    if obstacles:
        parts.append(user.pick(("avoid ", "obstacles: ", "around ")) + user.pick((", ", "; ", " + ")).join(obstacles))
    parts += [text for text in (user.cost(), user.outputs()) if text]
    return user.pick(banks.TERSE_PREFIXES) + ", ".join(parts)


def _casual(user: _User) -> str:
    mover, setting = user.pick(banks.MOVERS), user.setting()
    start, goal = user.endpoint("start"), user.endpoint("goal")
    obstacles = join(user.obstacles())
    text = user.pick(
        (
            f"Write NAVA for {mover} going from {start} to {goal} on {setting}",
            f"NAVA program: {mover} on {setting} has to get from {start} to {goal}",
            f"I need {mover} to go from {start} to {goal} on {setting}",
        )
    )
    if obstacles:
        text += user.pick((f", avoiding {obstacles}", f". There's {obstacles} in the way", f", around {obstacles}"))
    cost, outputs = user.cost(), user.outputs()
    if cost:
        text += f". It should {cost}"
    return text + (f", and {outputs}." if outputs else ".")


def _chatty(user: _User) -> str:
    mover, setting = user.pick(banks.MOVERS), user.setting()
    start, goal = user.endpoint("start"), user.endpoint("goal")
    sentences = [
        user.pick(banks.GREETINGS),
        user.pick(
            (
                f"I'm working with {mover} that lives on {setting}.",
                f"So I've got {mover} moving around on {setting}.",
                f"I'm trying to plan a route for {mover} on {setting}.",
            )
        ),
        user.pick((f"It starts at {start} and needs to reach {goal}.", f"It has to get from {start} to {goal}.")),
    ]
    obstacles = user.obstacles()
    if obstacles:
        sentences.append(
            user.pick(
                (
                    f"There's {join(obstacles)} in the way, so it has to go around.",
                    f"Watch out for {join(obstacles)}.",
                    f"The tricky part is {join(obstacles)}, which it can't go through.",
                )
            )
        )
    cost = user.cost()
    if cost:
        sentences.append(user.pick((f"Ideally it should {cost}.", f"I'd like it to {cost}.")))
    outputs = user.outputs()
    ask = user.pick(banks.ASKS)
    sentences.append(f"{ask[:-1]} and {outputs}{ask[-1]}" if outputs else ask)
    sentences.append(user.pick(banks.THANKS))
    return " ".join(sentence for sentence in sentences if sentence)


SHAPES = {"terse": _terse, "casual": _casual, "chatty": _chatty}


def request(rng: random.Random, problem: Problem, phraser: Phraser) -> str:
    """A request for ``problem`` in a user's words: terse, casual or chatty, its values in ``phraser``'s words."""
    shape = rng.choice(tuple(SHAPES))
    return SHAPES[shape](_User(rng, problem, terse=shape == "terse", phraser=phraser))
