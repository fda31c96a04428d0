"""Edits for the edit family: a change to a problem, and the instruction that asks for it.

An edit adds, removes or resizes an obstacle (or removes them all), moves the start or the goal,
changes the cost (or just its speed limits), or changes whether the path is computed and drawn; an
instruction holds one edit or two from different groups, in plain English ("Move the goal to (4, 2).",
"Add a pillar of radius 0.5 at (1, 1).", "Don't plot it, just compute the path."). Every edit
changes the program's spec. Every new value is stated, in the templates' words or a user's (a pillar,
"the fastest path with top speed 2"), and every obstacle to change is named by its kind and position,
so the edited program is determined. The edited problem keeps the input's style (names, inlining,
comments), so only the edited part of the program changes.
"""

from __future__ import annotations

import random
from dataclasses import replace

from nava_instruct.nava.domain import COST_KINDS, Problem
from nava_instruct.synth import angles
from nava_instruct.synth.phrasing import Phraser, join
from nava_instruct.synth.problems import (
    RADII,
    SPEEDS,
    cap_angle,
    sample_cost,
    sample_obstacle,
    sample_point,
    valid,
)
from nava_instruct.synth.render import Style
from nava_instruct.synth.user_requests import obstacle_in_words


def _ref(phraser: Phraser, problem: Problem, obstacle: dict) -> str:
    """The obstacle named by kind and place (its full description if that is ambiguous)."""
    noun = obstacle["kind"]
    key = "center" if "center" in obstacle else "min_corner" if "min_corner" in obstacle else "from"
    if sum(1 for other in problem.obstacles if other["kind"] == noun and other[key] == obstacle[key]) > 1:
        return phraser.the(phraser.obstacle(obstacle))
    if "center" in obstacle:
        return phraser.pick((f"the {noun} at ", f"the {noun} {phraser.centred()} at ")) + phraser.coords(
            obstacle["center"]
        )
    if "min_corner" in obstacle:
        return f"the {noun} from {phraser.coords(obstacle['min_corner'])} to {phraser.coords(obstacle['max_corner'])}"
    return f"the arc from {phraser.angle(obstacle['from'])} to {phraser.angle(obstacle['to'])}"


# Each edit returns (imperative phrase, new problem, new style) or None when it does not apply.


def add_obstacle(rng, phraser, problem, style):
    count = len(problem.obstacles)
    obstacle = sample_obstacle(rng, problem) if count < 3 else None
    if obstacle is None:
        return None
    new = replace(problem, obstacles=(*problem.obstacles, obstacle))
    ids = style.obstacle_ids[:count] + (max(style.obstacle_ids[:count], default=0) + 1,)
    text = phraser.obstacle(obstacle) if rng.random() < 0.5 else obstacle_in_words(phraser, obstacle)
    another = "another obstacle" if count else "an obstacle"
    return (
        phraser.pick((f"add {text}", f"put {text} in the way", f"add {another}: {text}", f"make it avoid {text}")),
        new,
        replace(style, obstacle_ids=ids),
    )


def remove_obstacle(rng, phraser, problem, style):
    if not problem.obstacles:
        return None
    index = rng.randrange(len(problem.obstacles))
    ref = _ref(phraser, problem, problem.obstacles[index])
    kept = [place for place in range(len(problem.obstacles)) if place != index]
    new = replace(problem, obstacles=tuple(problem.obstacles[place] for place in kept))
    ids = tuple(style.obstacle_ids[place] for place in kept)
    return (
        phraser.pick((f"remove {ref}", f"delete {ref}", f"get rid of {ref}", f"take {ref} out of the obstacles")),
        new,
        replace(style, obstacle_ids=ids),
    )


def remove_all_obstacles(rng, phraser, problem, style):
    if not problem.obstacles:
        return None
    plural = len(problem.obstacles) > 1
    text = phraser.pick(
        (
            "remove the obstacles" if plural else "remove the obstacle",
            "get rid of all the obstacles" if plural else "get rid of the obstacle",
            "clear the obstacle list",
            "take out every obstacle, so nothing is in the way",
        )
    )
    return text, replace(problem, obstacles=()), replace(style, obstacle_ids=())


def resize_obstacle(rng, phraser, problem, style):
    sized = [index for index, obstacle in enumerate(problem.obstacles) if {"radius", "angle"} & obstacle.keys()]
    if not sized:
        return None
    index = rng.choice(sized)
    obstacle = problem.obstacles[index]
    ref = _ref(phraser, problem, obstacle)
    if obstacle["kind"] == "cap":
        resized = {**obstacle, "angle": cap_angle(rng, angles.kind_of(obstacle["angle"]))}
        text = phraser.pick(
            (
                f"change the angle of {ref} to {phraser.angle(resized['angle'])}",
                f"make {ref} span an angle of {phraser.angle(resized['angle'])}",
            )
        )
    else:
        resized = {**obstacle, "radius": rng.choice([radius for radius in RADII if radius != obstacle["radius"]])}
        radius = phraser.number(resized["radius"])
        size = "bigger" if resized["radius"] > obstacle["radius"] else "smaller"
        text = phraser.pick(
            (
                f"change the radius of {ref} to {radius}",
                f"give {ref} a radius of {radius}",
                f"resize {ref} to radius {radius}",
                f"make {ref} {size}, with radius {radius}",
            )
        )
    obstacles = list(problem.obstacles)
    obstacles[index] = resized
    new = replace(problem, obstacles=tuple(obstacles))
    return (text, new, style) if valid(new) and resized not in problem.obstacles else None


def move_endpoint(rng, phraser, problem, style):
    role = rng.choice(("start", "goal"))
    for _ in range(30):
        new = replace(problem, **{role: sample_point(rng, problem.manifold, problem.radius)})
        moved = getattr(new, role)
        if moved != getattr(problem, role) and valid(new):
            where = phraser.point(problem.manifold, moved)
            verb = "start" if role == "start" else "end"
            return (
                phraser.pick(
                    (
                        f"move the {role} to {where}",
                        f"change the {role} to {where}",
                        f"use {where} as the new {role}",
                        f"set the {role} to {where}",
                        f"make it {verb} at {where} instead",
                    )
                ),
                new,
                style,
            )
    return None


def _cost_words(phraser: Phraser, cost: dict) -> str:
    """An imperative phrase that asks for ``cost``, with all its parameters, by name or by what it does."""
    kind = cost["kind"]
    ise = "ise" if phraser.british else "ize"
    if kind == "geodesic":
        return phraser.pick(
            ("make it the shortest path instead", "switch to the geodesic cost", f"just minim{ise} the path length")
        )
    if kind == "weighted":
        weights = join(phraser.weights(cost))
        return phraser.pick((f"use a weighted cost instead: {weights}", f"switch to a weighted cost with {weights}"))
    if kind == "time_optimal":
        limit, velocity = cost["max_acceleration"], phraser.number(cost["max_velocity"])
        acceleration = "" if limit is None else f" and max acceleration {phraser.number(limit)}"
        return phraser.pick(
            (
                f"make it the fastest path with top speed {velocity}{acceleration} instead",
                f"make it time-optimal with max velocity {velocity}{acceleration}",
                f"have it get there as fast as possible, top speed {velocity}{acceleration}",
            )
        )
    weight = phraser.number(cost["energy_weight"])
    return phraser.pick(
        (
            f"make it use as little energy as possible, with energy weight {weight}",
            f"make it energy-optimal with energy weight {weight}",
            f"minim{ise} the energy instead (energy weight {weight})",
        )
    )


def change_cost(rng, phraser, problem, style):
    kind = rng.choice([other for other in COST_KINDS if other != problem.cost["kind"]] + ["weighted"])
    cost = sample_cost(rng, kind)
    if cost == problem.cost:
        return None
    text = _cost_words(phraser, cost) if rng.random() < 0.7 else f"use {phraser.cost(cost)} instead"
    return text, replace(problem, cost=cost), style


def change_limits(rng, phraser, problem, style):
    cost = problem.cost
    if cost["kind"] != "time_optimal":
        return None
    choice = rng.choice(("velocity", "acceleration"))
    if choice == "velocity":
        velocity = rng.choice([speed for speed in SPEEDS if speed != cost["max_velocity"]])
        change = "raise" if velocity > cost["max_velocity"] else "lower"
        new, text = (
            {**cost, "max_velocity": velocity},
            phraser.pick(
                (
                    f"set the max velocity to {phraser.number(velocity)}",
                    f"change the velocity limit to {phraser.number(velocity)}",
                    f"{change} the top speed to {phraser.number(velocity)}",
                )
            ),
        )
    elif cost["max_acceleration"] is None:
        acceleration = rng.choice(SPEEDS)
        new, text = (
            {**cost, "max_acceleration": acceleration},
            phraser.pick(
                (
                    f"add a max acceleration of {phraser.number(acceleration)}",
                    f"limit the acceleration to {phraser.number(acceleration)}",
                )
            ),
        )
    else:
        new, text = (
            {**cost, "max_acceleration": None},
            phraser.pick(("remove the acceleration limit", "drop max_acceleration", "let it accelerate freely")),
        )
    return text, replace(problem, cost=new), style


def change_outputs(rng, phraser, problem, style):
    verb = phraser.visualise()
    options = {
        (True, True): [
            ((True, False), f"don't {verb} the path, just compute it"),
            ((True, False), "don't plot it, just compute the path"),
            ((True, False), "remove the plot but keep computing the path"),
            ((False, False), "only build the field, with no path and no plot"),
            ((False, False), "stop after building the navigation field"),
        ],
        (True, False): [
            ((True, True), f"{verb} the path at the end"),
            ((True, True), "plot the path as well"),
            ((False, False), "don't compute the path, just build the field"),
            ((False, False), "remove the path computation and keep only the field"),
        ],
        (False, False): [
            ((True, True), f"compute the optimal path and {verb} it"),
            ((True, True), "compute the path and plot it"),
            ((True, False), "compute the optimal path, without a plot"),
            ((True, False), "compute the path, but don't plot it"),
        ],
    }[problem.computed, problem.visualized]
    (computed, visualized), text = rng.choice(options)
    return text, replace(problem, computed=computed, visualized=visualized), style


GROUPS = (
    (add_obstacle, remove_obstacle, remove_all_obstacles, resize_obstacle),
    (move_endpoint,),
    (change_cost, change_limits),
    (change_outputs,),
)
# How an instruction frames its change or changes; a question, or "keep everything else", frames one change
# only, and a question never a "don't".
STATEMENTS = (
    "{Op}.",
    "{Op}.",
    "Please {op}.",
    "Edit this NAVA program: {op}.",
    "Modify the code: {op}.",
    "Update the program below. {Op}.",
    "Here is my NAVA program. {Op}.",
)
ONE_CHANGE_STATEMENTS = ("{Op}, and keep everything else as it is.",)
QUESTIONS = ("Can you {op}?", "Could you {op}, please?")
PAIRS = ("{op1}, and {op2}", "{op1}, then {op2}", "{op1}; also {op2}")


def change(rng: random.Random, problem: Problem, style: Style) -> tuple[str, bool, Problem, Style]:
    """One or two changes in words, unframed ("move the goal to (4, 2)"), whether there is one, the edited
    problem and the style for the edited program."""
    phraser = Phraser(rng)
    count = 2 if rng.random() < 0.25 else 1
    groups = rng.sample(GROUPS, len(GROUPS))
    phrases = []
    for group in groups:
        made = rng.choice(group)(rng, phraser, problem, style)
        if made is None:
            continue
        text, problem, style = made
        phrases.append(text)
        if len(phrases) == count:
            break
    operation = rng.choice(PAIRS).format(op1=phrases[0], op2=phrases[1]) if len(phrases) == 2 else phrases[0]
    return operation, len(phrases) == 1, problem, style


def framed(rng: random.Random, operation: str, single: bool, statements, questions) -> str:
    """A change in one of the frames: a question only for one change that is not a "don't"."""
    if single and not operation.startswith("don't") and rng.random() < 0.2:
        frame = rng.choice(questions)
    else:
        frame = rng.choice(statements + (ONE_CHANGE_STATEMENTS if single else ()))
    return frame.format(op=operation, Op=operation[:1].upper() + operation[1:])


def edit(rng: random.Random, problem: Problem, style: Style) -> tuple[str, Problem, Style]:
    """(instruction, edited problem, style for the edited program)."""
    operation, single, problem, style = change(rng, problem, style)
    return framed(rng, operation, single, STATEMENTS, QUESTIONS), problem, style
