"""Edits for the edit family: a change to a problem, and the instruction that asks for it.

An edit adds, removes or resizes an obstacle, moves the start or the goal, changes the cost (or
just its speed limits), or changes whether the path is computed and drawn; an instruction holds
one edit or two from different groups. Every new value is stated and every obstacle to change is
named by its kind and position, so the edited program is determined. The edited problem keeps the
input's style (names, inlining, comments), so only the edited part of the program changes.
"""

from __future__ import annotations

import copy
import random
from dataclasses import replace

from nava_instruct.synth.phrasing import Phraser
from nava_instruct.synth.problems import (
    COST_KINDS,
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


def _ref(ph: Phraser, problem: dict, o: dict) -> str:
    """The obstacle named by kind and place (its full description if that is ambiguous)."""
    noun = o["kind"]
    key = "center" if "center" in o else "min_corner" if "min_corner" in o else "from"
    if sum(1 for other in problem["obstacles"] if other["kind"] == o["kind"] and other[key] == o[key]) > 1:
        return ph.the(ph.obstacle(o, problem["manifold"]["kind"]))
    if "center" in o:
        return f"the {noun} {ph.centred()} at {ph.coords(o['center'])}"
    if "min_corner" in o:
        return f"the {noun} from {ph.coords(o['min_corner'])} to {ph.coords(o['max_corner'])}"
    return f"the arc from {ph.angle(o['from'])} to {ph.angle(o['to'])}"


# Each edit returns (imperative phrase, new problem, new style) or None when it does not apply.


def add_obstacle(rng, ph, problem, style):
    n = len(problem["obstacles"])
    obstacle = sample_obstacle(rng, problem) if n < 3 else None
    if obstacle is None:
        return None
    new = {**problem, "obstacles": [*problem["obstacles"], obstacle]}
    ids = style.obstacle_ids[:n] + (max(style.obstacle_ids[:n], default=0) + 1,)
    text = ph.obstacle(obstacle, problem["manifold"]["kind"])
    return (
        ph.pick((f"add {text}", f"put {text} in the way", f"insert {text}", f"also avoid {text}")),
        new,
        replace(style, obstacle_ids=ids),
    )


def remove_obstacle(rng, ph, problem, style):
    if not problem["obstacles"]:
        return None
    i = rng.randrange(len(problem["obstacles"]))
    ref = _ref(ph, problem, problem["obstacles"][i])
    new = {**problem, "obstacles": [o for j, o in enumerate(problem["obstacles"]) if j != i]}
    ids = tuple(n for j, n in enumerate(style.obstacle_ids[: len(problem["obstacles"])]) if j != i)
    return (
        ph.pick((f"remove {ref}", f"delete {ref}", f"get rid of {ref}", f"drop {ref} from the obstacles")),
        new,
        replace(style, obstacle_ids=ids),
    )


def resize_obstacle(rng, ph, problem, style):
    sized = [i for i, o in enumerate(problem["obstacles"]) if o["kind"] in ("disc", "ball", "cap")]
    if not sized:
        return None
    i = rng.choice(sized)
    o = problem["obstacles"][i]
    ref = _ref(ph, problem, o)
    new = copy.deepcopy(problem)
    if o["kind"] == "cap":
        new["obstacles"][i]["angle"] = angle(rng.choice([k for k in (1, 2, 3, 4) if k != twelfths(o["angle"])]))
        text = ph.pick(
            (
                f"change the angle of {ref} to {ph.angle(new['obstacles'][i]['angle'])}",
                f"make {ref} span an angle of {ph.angle(new['obstacles'][i]['angle'])}",
            )
        )
    else:
        new["obstacles"][i]["radius"] = rng.choice([r for r in RADII if r != o["radius"]])
        r = ph.number(new["obstacles"][i]["radius"])
        text = ph.pick(
            (f"change the radius of {ref} to {r}", f"give {ref} a radius of {r}", f"resize {ref} to radius {r}")
        )
    return (text, new, style) if valid(new) and new["obstacles"][i] not in problem["obstacles"] else None


def move_endpoint(rng, ph, problem, style):
    role = rng.choice(("start", "goal"))
    for _ in range(30):
        new = {**problem, role: sample_point(rng, problem["manifold"])}
        if new[role] != problem[role] and valid(new):
            where = ph.point(problem["manifold"]["kind"], new[role])
            return (
                ph.pick(
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


def change_cost(rng, ph, problem, style):
    kind = rng.choice([k for k in COST_KINDS if k != problem["cost"]["kind"]] + ["weighted"])
    cost = sample_cost(rng, kind)
    if cost == problem["cost"]:
        return None
    if kind == "geodesic":
        text = ph.pick(
            (
                "switch to the geodesic cost",
                "use the plain geodesic cost instead",
                "go back to the shortest-path (geodesic) cost",
            )
        )
    elif kind == "time_optimal":
        acc = "" if cost["max_acceleration"] is None else f" and max acceleration {ph.number(cost['max_acceleration'])}"
        text = ph.pick(
            (
                f"make it time-optimal with max velocity {ph.number(cost['max_velocity'])}{acc}",
                f"use {ph.cost(cost)} instead",
            )
        )
    elif kind == "energy_optimal":
        text = ph.pick(
            (
                f"make it energy-optimal with energy weight {ph.number(cost['energy_weight'])}",
                f"switch to {ph.cost(cost)}",
            )
        )
    else:
        text = ph.pick((f"replace the cost with {ph.cost(cost)}", f"use {ph.cost(cost)} instead"))
    return text, {**problem, "cost": cost}, style


def change_limits(rng, ph, problem, style):
    cost = problem["cost"]
    if cost["kind"] != "time_optimal":
        return None
    choice = rng.choice(("velocity", "acceleration"))
    if choice == "velocity":
        v = rng.choice([s for s in SPEEDS if s != cost["max_velocity"]])
        new, text = (
            {**cost, "max_velocity": v},
            ph.pick((f"set the max velocity to {ph.number(v)}", f"change the velocity limit to {ph.number(v)}")),
        )
    elif cost["max_acceleration"] is None:
        a = rng.choice(SPEEDS)
        new, text = (
            {**cost, "max_acceleration": a},
            ph.pick((f"add a max acceleration of {ph.number(a)}", f"limit the acceleration to {ph.number(a)}")),
        )
    else:
        new, text = (
            {**cost, "max_acceleration": None},
            ph.pick(("remove the acceleration limit", "drop max_acceleration")),
        )
    return text, {**problem, "cost": new}, style


def change_outputs(rng, ph, problem, style):
    vis = ph.visualise()
    options = {
        (True, True): [
            ((True, False), f"don't {vis} the path; just compute it"),
            ((False, False), "only build the field: remove the path computation and the plot"),
        ],
        (True, False): [
            ((True, True), f"also {vis} the path"),
            ((False, False), "don't compute the path; just build the field"),
        ],
        (False, False): [
            ((True, True), f"compute the optimal path and {vis} it"),
            ((True, False), "compute the optimal path too (no plot)"),
        ],
    }[problem["computed"], problem["visualized"]]
    (computed, visualized), text = rng.choice(options)
    return text, {**problem, "computed": computed, "visualized": visualized}, style


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


def edit(rng: random.Random, problem: dict, style: Style) -> tuple[str, dict, Style]:
    """(instruction, edited problem, style for the edited program)."""
    ph = Phraser(rng)
    count = 2 if rng.random() < 0.25 else 1
    groups = rng.sample(GROUPS, len(GROUPS))
    phrases = []
    for group in groups:
        made = rng.choice(group)(rng, ph, problem, style)
        if made is None:
            continue
        text, problem, style = made
        phrases.append(text)
        if len(phrases) == count:
            break
    op = rng.choice(_TWO).format(op1=phrases[0], op2=phrases[1]) if len(phrases) == 2 else phrases[0]
    return rng.choice(_ONE).format(op=op, Op=op[:1].upper() + op[1:]), problem, style
