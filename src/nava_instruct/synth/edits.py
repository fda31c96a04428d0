"""Edits for the edit family: a change to a problem, and the instruction that asks for it.

An edit adds, removes or resizes an obstacle, moves the start or the goal, changes the cost (or
just its speed limits), or changes whether the path is computed and drawn; an instruction holds
one edit or two from different groups. Every new value is stated and every obstacle to change is
named by its kind and position, so the edited program is determined. The edited problem keeps the
input's style (names, inlining, comments), so only the edited part of the program changes.
"""

from __future__ import annotations

import random
from dataclasses import replace

from nava_instruct.nava.domain import COST_KINDS, Problem
from nava_instruct.synth.phrasing import Phraser
from nava_instruct.synth.problems import (
    RADII,
    SPEEDS,
    angle,
    sample_cost,
    sample_obstacle,
    sample_point,
    twelfths,
    valid,
)
from nava_instruct.synth.render import Style


def _ref(phraser: Phraser, problem: Problem, obstacle: dict) -> str:
    """The obstacle named by kind and place (its full description if that is ambiguous)."""
    noun = obstacle["kind"]
    key = "center" if "center" in obstacle else "min_corner" if "min_corner" in obstacle else "from"
    if sum(1 for other in problem.obstacles if other["kind"] == noun and other[key] == obstacle[key]) > 1:
        return phraser.the(phraser.obstacle(obstacle))
    if "center" in obstacle:
        return f"the {noun} {phraser.centred()} at {phraser.coords(obstacle['center'])}"
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
    text = phraser.obstacle(obstacle)
    return (
        phraser.pick((f"add {text}", f"put {text} in the way", f"insert {text}", f"also avoid {text}")),
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
        phraser.pick((f"remove {ref}", f"delete {ref}", f"get rid of {ref}", f"drop {ref} from the obstacles")),
        new,
        replace(style, obstacle_ids=ids),
    )


def resize_obstacle(rng, phraser, problem, style):
    sized = [index for index, obstacle in enumerate(problem.obstacles) if {"radius", "angle"} & obstacle.keys()]
    if not sized:
        return None
    index = rng.choice(sized)
    obstacle = problem.obstacles[index]
    ref = _ref(phraser, problem, obstacle)
    if obstacle["kind"] == "cap":
        multiple = rng.choice([step for step in (1, 2, 3, 4) if step != twelfths(obstacle["angle"])])
        resized = {**obstacle, "angle": angle(multiple)}
        text = phraser.pick(
            (
                f"change the angle of {ref} to {phraser.angle(resized['angle'])}",
                f"make {ref} span an angle of {phraser.angle(resized['angle'])}",
            )
        )
    else:
        resized = {**obstacle, "radius": rng.choice([radius for radius in RADII if radius != obstacle["radius"]])}
        radius = phraser.number(resized["radius"])
        text = phraser.pick(
            (
                f"change the radius of {ref} to {radius}",
                f"give {ref} a radius of {radius}",
                f"resize {ref} to radius {radius}",
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
            return (
                phraser.pick(
                    (
                        f"move the {role} to {where}",
                        f"change the {role} to {where}",
                        f"use {where} as the new {role}",
                        f"set the {role} to {where}",
                    )
                ),
                new,
                style,
            )
    return None


def change_cost(rng, phraser, problem, style):
    kind = rng.choice([other for other in COST_KINDS if other != problem.cost["kind"]] + ["weighted"])
    cost = sample_cost(rng, kind)
    if cost == problem.cost:
        return None
    if kind == "geodesic":
        text = phraser.pick(
            (
                "switch to the geodesic cost",
                "use the plain geodesic cost instead",
                "go back to the shortest-path (geodesic) cost",
            )
        )
    elif kind == "time_optimal":
        limit = cost["max_acceleration"]
        acceleration = "" if limit is None else f" and max acceleration {phraser.number(limit)}"
        text = phraser.pick(
            (
                f"make it time-optimal with max velocity {phraser.number(cost['max_velocity'])}{acceleration}",
                f"use {phraser.cost(cost)} instead",
            )
        )
    elif kind == "energy_optimal":
        text = phraser.pick(
            (
                f"make it energy-optimal with energy weight {phraser.number(cost['energy_weight'])}",
                f"switch to {phraser.cost(cost)}",
            )
        )
    else:
        text = phraser.pick((f"replace the cost with {phraser.cost(cost)}", f"use {phraser.cost(cost)} instead"))
    return text, replace(problem, cost=cost), style


def change_limits(rng, phraser, problem, style):
    cost = problem.cost
    if cost["kind"] != "time_optimal":
        return None
    choice = rng.choice(("velocity", "acceleration"))
    if choice == "velocity":
        velocity = rng.choice([speed for speed in SPEEDS if speed != cost["max_velocity"]])
        new, text = (
            {**cost, "max_velocity": velocity},
            phraser.pick(
                (
                    f"set the max velocity to {phraser.number(velocity)}",
                    f"change the velocity limit to {phraser.number(velocity)}",
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
            phraser.pick(("remove the acceleration limit", "drop max_acceleration")),
        )
    return text, replace(problem, cost=new), style


def change_outputs(rng, phraser, problem, style):
    verb = phraser.visualise()
    options = {
        (True, True): [
            ((True, False), f"don't {verb} the path; just compute it"),
            ((False, False), "only build the field: remove the path computation and the plot"),
        ],
        (True, False): [
            ((True, True), f"also {verb} the path"),
            ((False, False), "don't compute the path; just build the field"),
        ],
        (False, False): [
            ((True, True), f"compute the optimal path and {verb} it"),
            ((True, False), "compute the optimal path too (no plot)"),
        ],
    }[problem.computed, problem.visualized]
    (computed, visualized), text = rng.choice(options)
    return text, replace(problem, computed=computed, visualized=visualized), style


GROUPS = (
    (add_obstacle, remove_obstacle, resize_obstacle),
    (move_endpoint,),
    (change_cost, change_limits),
    (change_outputs,),
)
_ONE = (
    "{Op}.",
    "Please {op}.",
    "Edit this NAVA program: {op}.",
    "Change the code: {op}.",
    "{Op}, and keep everything else as it is.",
    "Can you {op}?",
    "Update the program below. {Op}.",
)
_TWO = ("{op1}, and {op2}", "{op1}; also {op2}", "{op1} and then {op2}")


def edit(rng: random.Random, problem: Problem, style: Style) -> tuple[str, Problem, Style]:
    """(instruction, edited problem, style for the edited program)."""
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
    operation = rng.choice(_TWO).format(op1=phrases[0], op2=phrases[1]) if len(phrases) == 2 else phrases[0]
    return rng.choice(_ONE).format(op=operation, Op=operation[:1].upper() + operation[1:]), problem, style
